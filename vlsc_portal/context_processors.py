from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    """What every page needs: the development notice's links and the request's reference id."""
    return {
        "standin_url": settings.STANDIN_HTTP_URL if settings.DEBUG else "",
        "reference_id": getattr(request, "reference_id", ""),
    }
