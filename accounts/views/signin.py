from __future__ import annotations

import logging

from allauth.socialaccount.adapter import get_adapter
from django.contrib.auth import logout
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.entra import client
from accounts.entra.provider import PROVIDER_ID
from accounts.forms import BusinessEmailForm
from accounts.models import SignInEvent
from accounts.services import signin
from accounts.signals import admin_requested
from vlsc_portal import ratelimits
from vlsc_portal.client import client_of
from vlsc_portal.outages import unavailable_dependency

logger = logging.getLogger(__name__)


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """The landing page. What an anonymous visitor with no message waiting sees depends only on
    the code and the language, so each process renders it once per language and keeps it with
    the other static fragments (``static_fragments``: in memory, off while developing); anyone
    else gets it rendered for them (their name in the header, their messages)."""
    if request.user.is_authenticated or len(get_messages(request)):
        return render(request, "accounts/landing.html")
    fragments = caches["static_fragments"]
    key = f"landing-page:{get_language()}"
    html = fragments.get(key)
    if html is None:
        html = render_to_string("accounts/landing.html", request=request)
        fragments.set(key, html, None)
    return HttpResponse(html)


def start_limit(request: HttpRequest) -> HttpResponse | None:
    """Count a start of a sign-in at the identity provider from this client address
    (``sign_in_start``); the 429 page if there were too many."""
    try:
        ratelimits.consume(ratelimits.Use("sign_in_start", ip=ratelimits.client_ip(request)))
    except ratelimits.RateLimited as exc:
        return ratelimits.refused(
            request,
            exc,
            what=_("To protect accounts, the portal limits how often signing in can be started."),
        )
    return None


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """The email step: the address becomes MSAL's ``login_hint``."""
    form = BusinessEmailForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and (refused := start_limit(request)) is not None:
        return refused
    if request.method == "POST" and form.is_valid():
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            next_url = ""
        provider = get_adapter().get_provider(request, PROVIDER_ID)
        try:
            return provider.redirect(
                request, "login", next_url=next_url or None, login_hint=form.cleaned_data["email"]
            )
        except Exception as exc:  # the authority is unreachable: say so, do not 500
            if unavailable_dependency(exc):
                raise  # the portal's own database or cache: the 503 page says so
            logger.exception("could not start the sign-in flow")
            return render(request, "accounts/sign_in_unavailable.html", status=503)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/sign_in.html", {"form": form}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the portal session, then the identity provider's (its end-session endpoint)."""
    if request.user.is_authenticated:
        signin.record_sign_in_event(
            client_of(request),
            outcome=SignInEvent.Outcome.SIGNED_OUT,
            address=request.user.email,
            user=request.user,
        )
    logout(request)
    back = request.build_absolute_uri(reverse("accounts:landing"))
    try:
        end_session = client.openid_configuration().get("end_session_endpoint")
    except Exception:
        logger.warning("no end-session endpoint: the identity provider did not answer")
        end_session = None
    if not end_session:
        return redirect("accounts:landing")
    return HttpResponseRedirect(f"{end_session}?{urlencode({'post_logout_redirect_uri': back})}")


@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin has no password sign-in: anonymous visitors go through the work-account
    sign-in and come back; signed-in people without admin access get 403."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    next_url = next_url or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:sign_in')}?{urlencode({'next': next_url})}")
    admin_requested.send(sender=admin_login, user=request.user)  # agreements syncs is_staff
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    return redirect(next_url)
