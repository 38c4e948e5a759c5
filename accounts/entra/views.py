"""The callback from the identity provider: the service decides (``accounts.services.callback``),
the view changes the session, records the one sign-in event and answers."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.entra import flow_cookie
from accounts.entra.provider import PROVIDER_ID
from accounts.models import SignInEvent
from accounts.services import callback as callbacks
from accounts.services import conversion as conversions
from accounts.services import signin, step_up
from vlsc_portal.client import client_of


def _session(request: HttpRequest) -> callbacks.Session:
    return callbacks.Session(
        user=request.user if request.user.is_authenticated else None,
        identity=request.session.get(step_up.SIGNED_IN_IDENTITY),
        conversion_id=request.session.get(conversions.SESSION_ID),
    )


def _sign_in(request: HttpRequest, decision: callbacks.Decision) -> HttpResponse:
    """allauth signs the person in (creating the user at the first sign-in) and answers with the
    redirect to the flow's ``next`` or the dashboard; the event says whether it did."""
    flow = decision.flow
    provider = get_adapter().get_provider(request, PROVIDER_ID)
    sociallogin = provider.sociallogin_from_response(request, decision.claims)
    sociallogin.state = {"process": "login", "data": None}
    if flow is not None and flow.next_url:
        sociallogin.state["next"] = flow.next_url
    response = complete_social_login(request, sociallogin)
    if request.user.is_authenticated:
        step_up.remember_sign_in(request.session, decision.claims)
        decision.event.user = request.user
    else:
        decision.event.outcome = SignInEvent.Outcome.REFUSED
        decision.event.detail = "the portal did not complete the sign-in"
    return response


def _apply(request: HttpRequest, decision: callbacks.Decision) -> HttpResponse:
    effects = decision.effects
    session = request.session
    if callbacks.CONVERSION_CLOSED in effects:
        session.pop(conversions.SESSION_ID, None)
    if callbacks.END_CONVERSION in effects:
        session.pop(conversions.SESSION_ID, None)
        session.pop(conversions.SESSION_CONTEXT, None)
    if callbacks.BEGIN_CONVERSION in effects and decision.legacy_user is not None:
        conversions.begin_in_session(
            session,
            user=decision.legacy_user,
            uid=f"{decision.claims['oid']}.{decision.claims['tid']}",
            address=signin.sign_in_address(decision.claims),
        )
    if callbacks.SIGN_OUT in effects:
        logout(request)
    if callbacks.STEP_UP in effects:
        session.cycle_key()  # a new session id after authenticating again
        step_up.remember_sign_in(session, decision.claims)
        # A step-up is decided only for the signed-in person (callbacks._complete_step_up).
        user_id = request.user.pk
        if user_id is None:
            return redirect(settings.LOGIN_URL)
        return redirect(
            callbacks.step_up_destination(session, user_id=user_id, token=decision.context["token"])
        )
    if decision.signs_in:
        return _sign_in(request, decision)
    if decision.message:
        messages.info(request, decision.message)
    if decision.redirect_to:
        return redirect(decision.redirect_to)
    return render(request, decision.template, decision.context, status=decision.status)


@never_cache
@require_GET  # not HEAD: the flow is single-use, and a link checker's HEAD would spend it
def callback(request: HttpRequest) -> HttpResponse:
    decision = callbacks.decide(
        request.GET.dict(),
        request.COOKIES.get(flow_cookie.COOKIE_NAME),
        session=_session(request),
    )
    # One commit for the sign-in's writes (the identity, the user, the event); the session
    # middleware stores the session after it.
    with transaction.atomic():
        response = _apply(request, decision)
        event = decision.event
        signin.record_sign_in_event(
            client_of(request),
            outcome=event.outcome,
            address=event.address,
            claims=event.claims,
            user=event.user,
            error_code=event.error_code,
            provider_code=event.provider_code,
            detail=event.detail,
        )
    if not decision.keeps_flow_cookie:
        flow_cookie.clear_on(response)  # single use, whatever the outcome
    return response
