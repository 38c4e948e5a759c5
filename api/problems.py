"""Errors as problem details (RFC 9457, ``application/problem+json``), each with the request's
reference id, the one the portal's error pages show and its log lines carry."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "/api/problems/"


class Problem(Exception):
    """Raised anywhere under the API; answered as a problem document. ``slug`` names the
    problem type (``/api/problems/<slug>``), ``headers`` go on the response."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.extra = extra or {}


def document(
    request: HttpRequest,
    *,
    status: int,
    slug: str,
    detail: str,
    title: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc = {
        "type": TYPE_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "reference_id": getattr(request, "reference_id", ""),
    }
    doc.update(extra or {})
    return doc


def response(request: HttpRequest, problem: Problem) -> HttpResponse:
    doc = document(
        request,
        status=problem.status,
        slug=problem.slug,
        detail=problem.detail,
        title=problem.title,
        extra=problem.extra,
    )
    answer = HttpResponse(json.dumps(doc), status=problem.status, content_type=CONTENT_TYPE)
    for name, value in problem.headers.items():
        answer[name] = value
    return answer


def unauthenticated(reason: str, detail: str | None = None) -> Problem:
    """401 with the Bearer challenge (RFC 6750): no token, or one that failed validation."""
    challenge = 'Bearer realm="vlsc-portal"'
    if reason != "missing":
        challenge += f', error="invalid_token", error_description="{reason}"'
    return Problem(
        401,
        "unauthenticated" if reason == "missing" else "invalid-token",
        detail
        or (
            _("Send an access token for the portal's API: Authorization: Bearer <token>.")
            if reason == "missing"
            else _("The access token was refused (%(reason)s).") % {"reason": reason}
        ),
        headers={"WWW-Authenticate": challenge},
        extra={} if reason == "missing" else {"reason": reason},
    )


def insufficient_scope(detail: str) -> Problem:
    return Problem(
        403,
        "insufficient-scope",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="vlsc-portal", error="insufficient_scope"'},
    )


def forbidden(detail: str, slug: str = "forbidden") -> Problem:
    return Problem(403, slug, detail)


def not_found(detail: str | None = None) -> Problem:
    return Problem(404, "not-found", detail or _("There is no such resource, or not for you."))
