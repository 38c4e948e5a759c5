from __future__ import annotations

import logging

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.entra import client
from accounts.entra.provider import PROVIDER_ID
from accounts.forms import BusinessEmailForm
from accounts.models import SignInEvent
from accounts.next_page import home_page, safe_next
from accounts.services import signin
from accounts.signals import admin_requested
from vlsc_portal import ratelimits
from vlsc_portal.client import client_of
from vlsc_portal.outages import unavailable_dependency

logger = logging.getLogger(__name__)
CSRF_PLACEHOLDER = "csrf-token-of-this-request"


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """The landing page. What an anonymous visitor with no message waiting sees depends only on
    the code and the language, so each process renders it once per language and keeps it with
    the other static fragments (``static_fragments``: in memory, off while developing); anyone
    else gets it rendered for them (their name in the header, their messages). A signed-in
    person whose home page is not the dashboard (support staff) goes there instead; messages
    waiting are shown there."""
    if request.user.is_authenticated:
        home = home_page(request.user)
        if home != resolve_url(settings.LOGIN_REDIRECT_URL):
            return redirect(home)
        return render(request, "accounts/landing.html")
    if len(get_messages(request)):
        return render(request, "accounts/landing.html")
    fragments = caches["static_fragments"]
    key = f"landing-page:{get_language()}"
    html = fragments.get(key)
    if html is None:
        # The footer's language switcher is a form: its CSRF token is each visitor's own, put in
        # below; the page it comes back to is this one.
        html = render_to_string(
            "accounts/landing.html",
            {"csrf_token": CSRF_PLACEHOLDER, "switcher_next": reverse("accounts:landing")},
            request=request,
        )
        fragments.set(key, html, None)
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))


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


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """The email step: the address becomes MSAL's ``login_hint``."""
    form = BusinessEmailForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and (refused := start_limit(request)) is not None:
        return refused
    if request.method == "POST" and form.is_valid():
        next_url = safe_next(request, request.GET.get("next"))
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
    messages.info(request, _("You have signed out."))  # shown on the landing page
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
    sign-in and come back. A signed-in person who would be an administrator once an address of
    theirs is registered (``settings.ADMIN_PROSPECT``) is sent to registration, which brings them
    back here; anyone else gets a 403 page that says what to do."""
    next_url = safe_next(request, request.GET.get("next")) or reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:sign_in')}?{urlencode({'next': next_url})}")
    admin_requested.send(sender=admin_login, user=request.user)  # agreements syncs is_staff
    if request.user.is_active and request.user.is_staff:
        return redirect(next_url)
    register_url = f"{reverse('accounts:register')}?{urlencode({'next': next_url})}"
    if import_string(settings.ADMIN_PROSPECT)(user=request.user):
        messages.info(
            request,
            _(
                "Register your address to open the administration. Once it is registered, "
                "you go on to the administration."
            ),
        )
        return redirect(register_url)
    return render(
        request, "accounts/admin_refused.html", {"register_url": register_url}, status=403
    )
