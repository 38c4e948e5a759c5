"""Under ``/api/``, every error is a problem document, whoever produced it: an unknown path
(Django's 404 handler), a method the route does not have, a body too large, the 503 of an
outage, an unexpected 500. The API's own errors are problem documents already and pass as they
are. Also: bodies over :data:`MAX_BODY_BYTES` are refused with 413, and bodies that are not JSON
with 415, before anything reads them; no API answer is stored by a cache."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from api import problems
from api.http import remembered_rate_headers

PREFIX = "/api/"
DOCS = ("/api/docs/",)
MAX_BODY_BYTES = 64 * 1024

_DETAILS = {
    400: ("bad-request", lambda: _("The request could not be read.")),
    403: ("forbidden", lambda: _("You may not do this.")),
    404: ("not-found", lambda: _("There is no such resource, or not for you.")),
    405: ("method-not-allowed", lambda: _("This resource does not allow that method.")),
    413: ("too-large", lambda: _("The request body is too large.")),
    415: ("unsupported-media-type", lambda: _("Send the request body as JSON.")),
    500: ("server-error", lambda: _("Something went wrong on our side; nothing was changed.")),
    503: ("unavailable", lambda: _("The portal is briefly unavailable. Try again shortly.")),
}


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        return 0


class ProblemDetailsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        if _content_length(request) > MAX_BODY_BYTES:
            response = self._problem(
                request,
                413,
                _("The request body is larger than %(n)d bytes.") % {"n": MAX_BODY_BYTES},
            )
        elif self._not_json(request):
            response = self._problem(
                request, 415, _("Send the request body as JSON (Content-Type: application/json).")
            )
        else:
            response = self.get_response(request)
            if (
                response.status_code >= 400
                and response.get("Content-Type", "").split(";")[0] != problems.CONTENT_TYPE
                and not request.path.startswith(DOCS)
            ):
                response = self._converted(request, response)
        for name, value in remembered_rate_headers(request).items():
            response[name] = value
        add_never_cache_headers(response)
        return response

    @staticmethod
    def _not_json(request: HttpRequest) -> bool:
        if request.method not in ("POST", "PUT", "PATCH") or not _content_length(request):
            return False
        media_type = request.content_type or ""
        return media_type != "application/json" and not media_type.endswith("+json")

    def _problem(self, request: HttpRequest, status: int, detail: str | None = None):
        slug, default = _DETAILS.get(status, ("error", lambda: ""))
        doc = problems.document(request, status=status, slug=slug, detail=detail or default())
        return HttpResponse(json.dumps(doc), status=status, content_type=problems.CONTENT_TYPE)

    def _converted(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        answer = self._problem(request, response.status_code)
        for name in ("Allow", "Retry-After", "WWW-Authenticate", "RateLimit", "RateLimit-Policy"):
            if response.has_header(name):
                answer[name] = response[name]
        return answer
