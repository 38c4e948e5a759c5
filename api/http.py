"""The request type of the API's operations, and the rate limit headers a request carries.

django-ninja sets ``request.auth`` to what the authentication returned (``EntraBearer``: a
:class:`~api.auth.Caller`) before an operation runs, so in an operation it is never anything
else. :class:`ApiRequest` is only for annotations; django-ninja passes Django's own request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from api.auth import Caller


class ApiRequest(HttpRequest):
    auth: Caller


# Counted while authenticating (``conventions.count_call``), added to the response by
# ``api.middleware``, which also sees the requests that never reach an operation.
_RATE_HEADERS = "api_rate_headers"


def remember_rate_headers(request: HttpRequest, headers: dict[str, str]) -> None:
    setattr(request, _RATE_HEADERS, headers)


def remembered_rate_headers(request: HttpRequest) -> dict[str, str]:
    headers: dict[str, str] = getattr(request, _RATE_HEADERS, {})
    return headers
