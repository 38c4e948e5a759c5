"""A reference id for every request, shown on error pages and written into each log line."""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

_current_reference: contextvars.ContextVar[str] = contextvars.ContextVar(
    "reference_id", default="-"
)


def new_reference_id() -> str:
    """A short id a person can read out to support: 12 characters, upper-case, no look-alikes."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class ReferenceIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reference = new_reference_id()
        # The portal's own attribute on every request (read back by ``reference_id_of``).
        request.reference_id = reference  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs a 4xx or 5xx answer ("Not Found: /x") after the
        # middleware chain has returned, and that line must carry the id the page shows. The id
        # is cleared when the response is closed (``request_finished``, below).
        _current_reference.set(reference)
        response = self.get_response(request)
        response["X-Reference-Id"] = reference
        return response


def reference_id_of(request: HttpRequest) -> str:
    """The reference id :class:`ReferenceIdMiddleware` gave ``request``."""
    reference: str = request.reference_id  # type: ignore[attr-defined]  # set in __call__ above
    return reference


@receiver(request_finished, dispatch_uid="vlsc_portal.clear_reference_id")
def _clear_reference_id(**kwargs: object) -> None:
    """Lines logged between requests (on the same thread) carry no request's id."""
    _current_reference.set("-")


class ReferenceIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.reference_id = _current_reference.get()
        return True


class RejectMalformedMiddleware:
    """Answer 400 to a request carrying a NUL character in its path, query or form fields, or a
    ``Content-Length`` that is not a number.

    PostgreSQL refuses NUL in text, so such input would otherwise reach the database as a 500
    wherever a view looks it up (Django's form fields refuse it, URL parameters do not). Django
    reads ``Content-Length`` with ``int()`` when a view reads the body: gunicorn refuses a
    malformed one itself, Django's development server passes it on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # From META as it is: request.headers would build a dict of every header on every
        # request, a few percent of the cheapest page's time. (Through a name of its own:
        # django-upgrade rewrites request.META.get("CONTENT_LENGTH") to request.headers.)
        meta = request.META
        length = meta.get("CONTENT_LENGTH")
        if (length and not (length.isascii() and length.isdigit())) or self._has_nul(request):
            from vlsc_portal.errors import bad_request

            return bad_request(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            return any("\x00" in value for values in request.POST.lists() for value in values[1])
        return False
