"""Emptying the portal's cache between tests without touching the Celery broker.

With ``REDIS_URL`` alone (CI) the cache and the broker share a Redis database (docker-compose gives
each its own): ``cache.clear()`` would FLUSHDB the broker's queues and bindings under a running
worker. Only the cache's own keys (its
``KEY_PREFIX``) are deleted there; other backends are cleared whole."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def clear_portal_cache() -> None:
    config = settings.CACHES["default"]
    if "redis" not in config["BACKEND"].lower():
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    prefix = config.get("KEY_PREFIX", "")
    pattern = f"{prefix}:*" if prefix else "*:*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
