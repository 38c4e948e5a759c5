"""A ``{% cache %}`` tag that renders afresh when the cache cannot be reached.

Load it instead of Django's ``cache`` library (``{% load resilient_cache %}``); the tag keeps
the name, arguments and ``{% endcache %}`` of Django's. The dashboard's table is cached only to
be fast (``agreements.access_version`` keeps it correct), so an unreachable cache is no reason to
fail the page: the fragment is rendered from the database as on a miss, and not stored. Other
errors propagate."""

from __future__ import annotations

import logging

from django import template
from django.templatetags.cache import CacheNode, do_cache

from vlsc_portal.outages import CACHE_UNAVAILABLE

logger = logging.getLogger(__name__)
register = template.Library()


class ResilientCacheNode(CacheNode):
    def render(self, context) -> str:
        try:
            return super().render(context)
        except CACHE_UNAVAILABLE as exc:
            logger.warning("fragment cache unreachable (%s): rendering afresh", exc)
            return self.nodelist.render(context)


@register.tag("cache")
def do_resilient_cache(parser, token) -> ResilientCacheNode:
    node = do_cache(parser, token)
    return ResilientCacheNode(
        node.nodelist, node.expire_time_var, node.fragment_name, node.vary_on, node.cache_name
    )
