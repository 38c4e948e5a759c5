"""Error pages: each shows the request's reference id, which is also in the log line."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from vlsc_portal.outages import service_unavailable, unavailable_dependency


def _render(request: HttpRequest, template: str, status: int) -> HttpResponse:
    # The footer's language switcher comes back to the start page, not to the refused address
    # (which this page would otherwise echo).
    return render(request, template, {"switcher_next": "/"}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "400.html", 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "403.html", 403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "404.html", 404)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """500, or the 503 page when the exception being handled says the cache or the database is
    unreachable. Django calls this handler (without the exception) from inside its ``except``
    block, so ``sys.exc_info()`` holds it; this is how exceptions raised outside views (by a
    middleware, e.g. the session saved on the way out) reach the 503 page too."""
    exc = sys.exc_info()[1]
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        return service_unavailable(request, dependency, exc)
    return _render(request, "500.html", 500)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render(request, "403_csrf.html", 403)
