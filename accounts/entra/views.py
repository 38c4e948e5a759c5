"""The callback from the identity provider: MSAL completes the flow, the portal decides."""

from __future__ import annotations

import json
import logging

import msal
import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.entra import client
from accounts.entra.provider import PROVIDER_ID
from accounts.models import Conversion, SignInEvent
from accounts.problems import CANCELLED_CODES, PROBLEMS, problem_for
from accounts.services import conversion as conversions
from accounts.services import signin, step_up
from vlsc_portal.client import client_of

logger = logging.getLogger(__name__)
Outcome = SignInEvent.Outcome
MAX_PARAM_LENGTH = 8192


def _start_again(request: HttpRequest, detail: str, login_hint: str = "") -> HttpResponse:
    signin.record_sign_in_event(
        client_of(request), outcome=Outcome.INVALID_CALLBACK, address=login_hint, detail=detail
    )
    logger.info("sign-in callback refused: %s", detail)
    return render(request, "accounts/start_again.html", status=400)


def _unavailable(request: HttpRequest, detail: str, login_hint: str) -> HttpResponse:
    """The identity provider failed mid-flow (5xx, timeout, unreadable answer): a 503 page that
    says so and offers to start again; the event keeps the detail for support."""
    signin.record_sign_in_event(
        client_of(request),
        outcome=Outcome.PROVIDER_UNAVAILABLE,
        address=login_hint,
        detail=detail[:500],
    )
    logger.warning("sign-in callback: identity provider unavailable: %s", detail)
    client.forget_discovery()  # the endpoints may have moved: the next sign-in reads them afresh
    return render(request, "accounts/sign_in_unavailable.html", status=503)


def _cancelled(
    request: HttpRequest, state: dict, *, provider_code: str = "", detail: str
) -> HttpResponse:
    """The person cancelled at the identity provider: not a failure, so no error page; say so
    and offer to start again (with the address and the page they were going to)."""
    login_hint = state.get("login_hint", "")
    signin.record_sign_in_event(
        client_of(request),
        outcome=Outcome.CANCELLED,
        address=login_hint,
        provider_code=provider_code,
        detail=detail[:500],
    )
    pending = state.get("step_up")
    if pending and pending.get("token") and pending.get("user") == request.user.pk:
        # Still signed in: back to the page that asked them to sign in again.
        messages.info(request, _("You cancelled signing in again, so nothing was changed."))
        return redirect("accounts:step_up", pending["token"])
    query = {
        key: value for key, value in (("email", login_hint), ("next", state.get("next"))) if value
    }
    sign_in_url = reverse("accounts:sign_in")
    return render(
        request,
        "accounts/sign_in_cancelled.html",
        {"sign_in_url": f"{sign_in_url}?{urlencode(query)}" if query else sign_in_url},
    )


def _problem_page(
    request: HttpRequest, problem, *, address: str, status: int = 403, work_account: str = ""
) -> HttpResponse:
    return render(
        request,
        "accounts/sign_in_problem.html",
        {
            "problem": problem,
            "masked_address": signin.mask_email(address) if address else "",
            "work_account": work_account,
        },
        status=status,
    )


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    if any(len(value) > MAX_PARAM_LENGTH for value in params.values()):
        return _start_again(request, "oversized callback parameter")
    state_id = params.get("state", "")
    provider = get_adapter().get_provider(request, PROVIDER_ID)
    try:
        state = provider.unstash_redirect_state(request, state_id) if state_id else None
    except Exception:  # unknown, used or expired state: allauth raises PermissionDenied
        state = None
    if not state or "msal_flow" not in state:
        return _start_again(request, "no sign-in flow in this session for that state")
    login_hint = state.get("login_hint", "")
    if "code" not in params and "error" not in params:
        return _cancelled(
            request, state, detail="the identity provider sent neither code nor error"
        )

    try:
        result = client.msal_app().acquire_token_by_auth_code_flow(state["msal_flow"], params)
    except (
        msal.exceptions.MsalServiceError,
        requests.RequestException,
        json.JSONDecodeError,  # an answer that is not JSON (a proxy's error page)
        client.ProviderUnavailable,
        KeyError,  # a discovery document MSAL cannot use
        TypeError,
    ) as exc:
        return _unavailable(request, f"token endpoint failed: {exc!r}", login_hint)
    except (ValueError, RuntimeError) as exc:
        return _start_again(request, f"MSAL refused the callback: {exc}", login_hint)

    if "error" in result:
        provider_code = signin.provider_code_from(result.get("error_description", ""))
        if provider_code in CANCELLED_CODES:
            return _cancelled(
                request,
                state,
                provider_code=provider_code,
                detail=str(result.get("error_description", "")),
            )
        problem = problem_for(provider_code)
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.REFUSED,
            address=login_hint,
            error_code=problem.code,
            provider_code=provider_code or str(result.get("error", ""))[:32],
            detail=str(result.get("error_description", "")),
        )
        return _problem_page(request, problem, address=login_hint)

    try:
        claims = client.validate_id_token(result.get("id_token", ""))
    except client.ProviderUnavailable as exc:
        return _unavailable(request, str(exc), login_hint)
    except client.InvalidIdToken as exc:
        signin.record_sign_in_event(
            client_of(request), outcome=Outcome.INVALID_TOKEN, address=login_hint, detail=exc.reason
        )
        if exc.reason == "tenant_not_allowed":  # starting again would not help
            return _problem_page(request, PROBLEMS["tenant_not_allowed"], address=login_hint)
        return render(request, "accounts/start_again.html", status=400)

    if state.get("step_up"):
        return _complete_step_up(request, claims, state["step_up"])

    if signin.is_personal_account(claims):
        return _personal_account(request, claims)

    if request.session.get(conversions.SESSION_ID):
        conversion_page = _complete_conversion(request, claims)
        if conversion_page is not None:
            return conversion_page

    sociallogin = provider.sociallogin_from_response(request, claims)
    sociallogin.state = state
    response = complete_social_login(request, sociallogin)
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        step_up.remember_sign_in(request.session, claims)
    signin.record_sign_in_event(
        client_of(request),
        outcome=Outcome.SIGNED_IN if user else Outcome.REFUSED,
        claims=claims,
        user=user,
        detail="" if user else "the portal did not complete the sign-in",
    )
    return response


def _complete_step_up(request: HttpRequest, claims: dict, pending: dict) -> HttpResponse:
    """The signed-in person signed in again (``prompt=login``, ``max_age``) to confirm a change
    (``accounts.views.step_up``). It counts only for the same identity (oid and tid) the session
    signed in with, and only with a usable, recent ``auth_time`` (MSAL checked it against
    ``max_age`` already; the portal decides). Another identity is refused and the session ends:
    someone else is at the keyboard, or the person mixed up accounts. Back at the form, the
    person submits it again: nothing is replayed."""
    user = request.user if request.user.is_authenticated else None
    identity = f"{claims['oid']}.{claims['tid']}"
    if user is None or pending.get("user") != user.pk:
        return _start_again(request, "step-up for a user this session is not signed in as")
    session_identity = request.session.get(step_up.SIGNED_IN_IDENTITY)
    owns_identity = SocialAccount.objects.filter(
        user=user, provider=PROVIDER_ID, uid=identity
    ).exists()
    if not owns_identity or (session_identity and session_identity != identity):
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.REFUSED,
            claims=claims,
            user=user,
            detail=f"step-up by another identity than {session_identity or user.email}: signed out",
        )
        logout(request)
        return render(
            request, "accounts/step_up_refused.html", {"kind": "other_identity"}, status=403
        )
    auth_time = step_up.auth_time_from(claims)
    if auth_time is None or not step_up.is_recent(auth_time):
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.REFUSED,
            claims=claims,
            user=user,
            detail=f"step-up without a recent auth_time: {claims.get('auth_time')!r}"[:500],
        )
        return render(
            request,
            "accounts/step_up_refused.html",
            {"kind": "not_recent", "token": pending.get("token", "")},
            status=400,
        )
    request.session.cycle_key()  # a new session id after authenticating again
    step_up.remember_sign_in(request.session, claims)
    signin.record_sign_in_event(
        client_of(request),
        outcome=Outcome.SIGNED_IN,
        claims=claims,
        user=user,
        detail="signed in again to confirm a change (step-up)",
    )
    token = str(pending.get("token", ""))
    path = step_up.pending_path(request.session, user_id=user.pk, token=token)
    if not path or not url_has_allowed_host_and_scheme(path, allowed_hosts=None):
        return redirect(settings.LOGIN_REDIRECT_URL)  # the dashboard
    return HttpResponseRedirect(f"{path}?{urlencode({'step_up': token})}")


def _complete_conversion(request: HttpRequest, claims: dict) -> HttpResponse | None:
    """The work account signed in at the end of a conversion: link it to the legacy user.
    Returns a page when that cannot be done, None to go on signing in."""
    conversion_id: int = request.session[conversions.SESSION_ID]  # the callback checked it
    try:
        conversions.complete_conversion(conversion_id=conversion_id, claims=claims)
    except conversions.WrongWorkAccount as exc:
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.REFUSED,
            claims=claims,
            detail=f"conversion expects {exc.args[0]}",
        )
        return render(
            request,
            "accounts/convert_problem.html",
            {"kind": "wrong_account", "expected": exc.args[0]},
            status=409,
        )
    except (conversions.AddressOwned, conversions.ConversionClosed, Conversion.DoesNotExist):
        request.session.pop(conversions.SESSION_ID, None)
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.REFUSED,
            claims=claims,
            detail="conversion not completed",
        )
        return render(request, "accounts/convert_problem.html", {"kind": "closed"}, status=409)
    request.session.pop(conversions.SESSION_ID, None)
    request.session.pop(conversions.SESSION_CONTEXT, None)
    return None


def _personal_account(request: HttpRequest, claims: dict) -> HttpResponse:
    address = signin.sign_in_address(claims)
    owner = signin.work_account_for_personal(claims)
    if owner is not None:
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.PERSONAL_ACCOUNT,
            claims=claims,
            error_code="E06",
            detail=f"work account to use: {owner.email}",
        )
        return _problem_page(request, PROBLEMS["E06"], address=address, work_account=owner.email)
    uid = f"{claims['oid']}.{claims['tid']}"
    legacy_user = conversions.is_legacy_identity(uid)
    if legacy_user is not None:
        signin.record_sign_in_event(
            client_of(request),
            outcome=Outcome.PERSONAL_ACCOUNT,
            claims=claims,
            user=legacy_user,
            detail="legacy user: asked to convert to a work account",
        )
        conversions.begin_in_session(request.session, user=legacy_user, uid=uid, address=address)
        return redirect("accounts:convert_start")
    signin.record_sign_in_event(
        client_of(request),
        outcome=Outcome.PERSONAL_ACCOUNT,
        claims=claims,
        detail="personal account of nobody known",
    )
    return render(
        request,
        "accounts/personal_account.html",
        {"masked_address": signin.mask_email(address)},
        status=403,
    )
