"""Response headers the libraries do not set on their own.

django-csp writes the Content-Security-Policy from ``settings.CONTENT_SECURITY_POLICY`` and
django-permissions-policy the Permissions-Policy; what they cannot know is added here:

- ``form-action`` also allows the identity provider's browser-facing origins. The sign-in,
  sign-out and conversion forms post to the portal, which answers with a redirect to the
  authority (authorize, end session), and Chrome applies ``form-action`` to those redirects.
  The origins are read from the settings at each response, so they follow the configured
  authority (and the stand-in in development) without being written twice.
- ``Cache-Control: no-store`` on every response to a signed-in person: each such page shows
  their address at least, and the admin, support, dashboard, registration and agreement pages
  their data. Pages for anonymous visitors (the landing page, sign-in) stay cacheable.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers


def identity_provider_origins() -> list[str]:
    """The origins a browser is sent to for signing in and out: the authority's (Microsoft's in
    production) and, in development, the stand-in's browser side (its http base)."""
    origins = []
    for url in (settings.ENTRA_AUTHORITY_HOST, settings.STANDIN_HTTP_URL):
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    return origins


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with ``form-action`` extended by the identity provider's
    origins (the extension point django-csp documents: ``get_policy_parts``)."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            parts.update = {**(parts.update or {}), "form-action": identity_provider_origins()}
        return parts


class SignedInPagesNotStoredMiddleware:
    """``Cache-Control: no-store`` (Django's ``never_cache`` headers) on every response to a
    signed-in request, so neither a shared cache nor the browser's history keeps a person's
    data after they sign out. Needs the authentication middleware before it; reads
    ``request.user`` after the view, so a sign-in (the callback) or sign-out in the same request
    counts as what it left."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
