"""The portal's URLs plus ``/bench/ceiling/``: a bare view rendering a small template through the
same middleware, the ceiling every benchmark figure is compared with."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.http import require_safe

from vlsc_portal.urls import (  # noqa: F401  (Django reads the handlers from this module)
    handler400,
    handler403,
    handler404,
    handler500,
)
from vlsc_portal.urls import urlpatterns as portal_urlpatterns

CEILING_TEMPLATE = engines["django"].from_string(
    '<!doctype html><html lang="en"><head><title>{{ title }}</title></head>'
    "<body><h1>{{ title }}</h1><p>{{ text }}</p></body></html>"
)


@require_safe
def ceiling(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        CEILING_TEMPLATE.render({"title": "Ceiling", "text": "A bare view."}, request)
    )


urlpatterns = [path("bench/ceiling/", ceiling, name="bench_ceiling"), *portal_urlpatterns]
