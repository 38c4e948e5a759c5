"""When the cache (Redis) or the database cannot be reached: a clear 503 page, never a 500.

Pages that can do without the cache do (sessions fall back to the database,
``vlsc_portal.sessions``; the dashboard reads only the database). What cannot be done without
it answers 503: a rate limit that cannot be checked refuses the action rather than letting it
through, and nothing was changed.

Django turns an exception into a response inside each middleware layer, so a single place does
not see them all: :class:`ServiceUnavailableMiddleware` answers for exceptions raised by views
(and their template responses); ``vlsc_portal.errors.server_error`` answers for the rest (a
session saved in ``SessionMiddleware.process_response`` while the database is down, say).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis.exceptions
from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# The cache backend cannot be reached: refused, reset, or no answer within its socket timeouts
# (``CACHES`` in ``vlsc_portal/settings.py``). Not ``redis.exceptions.RedisError`` as a whole: a
# wrong command or a bad reply is a bug and stays a 500.
CACHE_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# The database cannot be reached or lost the connection (DB-API OperationalError: "errors
# related to the database's operation and not necessarily under the control of the programmer",
# e.g. an unexpected disconnect; InterfaceError: a connection already closed).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)

RETRY_AFTER_SECONDS = 60


def unavailable_dependency(exc: BaseException | None) -> str | None:
    """``"cache"`` or ``"database"`` when ``exc`` (or an exception it was raised from) says that
    dependency is unreachable; None for anything else."""
    seen = 0
    while exc is not None and seen < 5:  # a short chain: template errors re-raise with a cause
        if isinstance(exc, CACHE_UNAVAILABLE):
            return "cache"
        if isinstance(exc, DATABASE_UNAVAILABLE):
            return "database"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def service_unavailable(
    request: HttpRequest, dependency: str, exc: BaseException | None = None
) -> HttpResponse:
    """The 503 page: try again in a minute, with the request's reference id (also in the log
    line, a warning with the exception).

    It renders without the signed-in header and without queued messages: both read the session
    and the user, which is what may be down."""
    logger.warning("%s unreachable: answering 503 for %s", dependency, request.path, exc_info=exc)
    response = render(request, "503.html", {"user": AnonymousUser(), "messages": ()}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """Answers 503 for a view that raised because the cache or the database is unreachable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        dependency = unavailable_dependency(exception)
        if dependency is None:
            return None
        return service_unavailable(request, dependency, exception)
