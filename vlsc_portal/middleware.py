"""A reference id for every request, shown on error pages and written into each log line."""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections.abc import Callable

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
        request.reference_id = new_reference_id()
        token = _current_reference.set(request.reference_id)
        try:
            response = self.get_response(request)
        finally:
            _current_reference.reset(token)
        response["X-Reference-Id"] = request.reference_id
        return response


class ReferenceIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.reference_id = _current_reference.get()
        return True
