"""What the sign-in callback answers: one decision from the callback's parameters, the flow it
belongs to (``accounts.entra.flow_cookie``) and the validated id_token's claims.

:func:`decide` completes the flow with MSAL, validates the id_token and decides the page or
redirect, its status, the one sign-in event to record and what must change in the session; the
view (``accounts.entra.views.callback``) applies the session change, records the event and
answers. Nothing here reads the request.

Outcomes (README "Sign-in error codes"): a forged, replayed, stale or oversized callback, or one
whose flow cookie is missing or another flow's, gets "start again" (400); a cancellation the
"You cancelled" page (or, during a step-up, back to the form); an AADSTS refusal its E-page; an
identity provider that fails mid-flow the 503 page; an id_token that fails validation "start
again", or "Your organisation cannot use this portal" (403) for a tenant not allowed; a personal
account E06, the conversion or "personal accounts cannot register"; a step-up its checks; a work
account the sign-in itself (allauth, run by the view).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import msal
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from accounts.entra import client as entra
from accounts.entra.flow_cookie import FlowRefused, FlowState, open_sealed
from accounts.entra.provider import PROVIDER_ID
from accounts.models import Conversion, SignInEvent, User
from accounts.problems import CANCELLED_CODES, PROBLEMS, SignInProblem, problem_for
from accounts.services import conversion as conversions
from accounts.services import signin, step_up
from vlsc_portal import ratelimits

logger = logging.getLogger(__name__)
Outcome = SignInEvent.Outcome
MAX_PARAM_LENGTH = 8192
# Each flow completes once: its state is counted in the rate limiter's store (atomic in Redis or
# the database), so a second callback for it, in any browser, is a replay.
FLOW_USE = "sign_in_flow"

# What the view must change in the session before it answers.
SIGN_IN = "sign_in"  # allauth signs the person in with the claims (and the flow's ``next``)
STEP_UP = "step_up"  # a new session key; the sign-in's time and identity remembered
SIGN_OUT = "sign_out"  # someone else signed in at the identity provider
BEGIN_CONVERSION = "begin_conversion"  # a legacy user: the conversion starts
END_CONVERSION = "end_conversion"  # the conversion is done: its keys go
CONVERSION_CLOSED = "conversion_closed"  # it cannot be completed: the waiting conversion goes


@dataclass
class Event:
    """The :class:`~accounts.models.SignInEvent` the callback records
    (``signin.record_sign_in_event``'s arguments)."""

    outcome: str
    address: str = ""
    claims: dict[str, Any] | None = None
    user: User | None = None
    error_code: str = ""
    provider_code: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Session:
    """What the callback needs to know of the browser's session."""

    user: User | None  # signed in, or None
    identity: str | None  # ``step_up.SIGNED_IN_IDENTITY``: oid.tid it signed in with
    conversion_id: int | None  # ``conversions.SESSION_ID``: a conversion waiting for this sign-in


@dataclass
class Decision:
    event: Event
    template: str = ""  # a page to render...
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    redirect_to: str = ""  # ...or where to send the browser
    effects: tuple[str, ...] = ()
    message: str = ""  # an info message for the next page
    flow: FlowState | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    legacy_user: User | None = None  # BEGIN_CONVERSION's
    keeps_flow_cookie: bool = False  # the browser's cookie is another flow's: it stays

    @property
    def signs_in(self) -> bool:
        return SIGN_IN in self.effects


def _start_again(detail: str, address: str = "") -> Decision:
    logger.info("sign-in callback refused: %s", detail)
    return Decision(
        Event(Outcome.INVALID_CALLBACK, address=address, detail=detail),
        template="accounts/start_again.html",
        status=400,
    )


def _unavailable(detail: str, address: str) -> Decision:
    """The identity provider failed mid-flow (5xx, timeout, unreadable answer): a 503 page that
    says so and offers to start again; the event keeps the detail for support."""
    logger.warning("sign-in callback: identity provider unavailable: %s", detail)
    entra.forget_discovery()  # the endpoints may have moved: the next sign-in reads them afresh
    return Decision(
        Event(Outcome.PROVIDER_UNAVAILABLE, address=address, detail=detail[:500]),
        template="accounts/sign_in_unavailable.html",
        status=503,
    )


def _problem(
    event: Event, problem: SignInProblem, *, address: str, status: int = 403, work_account: str = ""
) -> Decision:
    return Decision(
        event,
        template="accounts/sign_in_problem.html",
        context={
            "problem": problem,
            "masked_address": signin.mask_email(address) if address else "",
            "work_account": work_account,
        },
        status=status,
    )


def _cancelled(
    flow: FlowState, session: Session, *, provider_code: str = "", detail: str
) -> Decision:
    """The person cancelled at the identity provider: not a failure, so no error page; say so
    and offer to start again (with the address and the page they were going to)."""
    event = Event(
        Outcome.CANCELLED,
        address=flow.login_hint,
        provider_code=provider_code,
        detail=detail[:500],
    )
    pending = flow.step_up
    if pending.get("token") and session.user and pending.get("user") == session.user.pk:
        # Still signed in: back to the page that asked them to sign in again.
        return Decision(
            event,
            redirect_to=reverse("accounts:step_up", args=[pending["token"]]),
            message=_("You cancelled signing in again, so nothing was changed."),
        )
    query = {k: v for k, v in (("email", flow.login_hint), ("next", flow.next_url)) if v}
    sign_in_url = reverse("accounts:sign_in")
    return Decision(
        event,
        template="accounts/sign_in_cancelled.html",
        context={"sign_in_url": f"{sign_in_url}?{urlencode(query)}" if query else sign_in_url},
    )


def decide(params: dict[str, str], flow_cookie: str | None, *, session: Session) -> Decision:
    """The callback's outcome. Writes only what the outcome itself is: the flow's single use,
    and a conversion's completion; raises the rate limiter's store error when it cannot count
    the flow's use (the view's 503 page)."""
    if any(len(value) > MAX_PARAM_LENGTH for value in params.values()):
        return _start_again("oversized callback parameter")
    try:
        flow = open_sealed(flow_cookie, state=params.get("state", ""))
    except FlowRefused as exc:
        decision = _start_again(exc.reason)
        decision.keeps_flow_cookie = exc.another_flow
        return decision
    try:
        ratelimits.consume(ratelimits.Use(FLOW_USE, key=flow.state))
    except ratelimits.RateLimited:
        return _start_again("this sign-in flow was used already (a replay)", flow.login_hint)
    if "code" not in params and "error" not in params:
        return _cancelled(flow, session, detail="the identity provider sent neither code nor error")
    return _exchange(params, flow, session)


def _exchange(params: dict[str, str], flow: FlowState, session: Session) -> Decision:
    login_hint = flow.login_hint
    try:
        result = entra.msal_app().acquire_token_by_auth_code_flow(dict(flow.msal_flow), params)
    except (
        msal.exceptions.MsalServiceError,
        requests.RequestException,
        json.JSONDecodeError,  # an answer that is not JSON (a proxy's error page)
        entra.ProviderUnavailable,
        KeyError,  # a discovery document MSAL cannot use
        TypeError,
    ) as exc:
        return _unavailable(f"token endpoint failed: {exc!r}", login_hint)
    except (ValueError, RuntimeError) as exc:  # state or nonce mismatch, max_age exceeded
        return _start_again(f"MSAL refused the callback: {exc}", login_hint)

    if "error" in result:
        description = str(result.get("error_description", ""))
        provider_code = signin.provider_code_from(description)
        if provider_code in CANCELLED_CODES:
            return _cancelled(flow, session, provider_code=provider_code, detail=description)
        problem = problem_for(provider_code)
        event = Event(
            Outcome.REFUSED,
            address=login_hint,
            error_code=problem.code,
            provider_code=provider_code or str(result.get("error", ""))[:32],
            detail=description,
        )
        return _problem(event, problem, address=login_hint)

    try:
        claims = entra.validate_id_token(result.get("id_token", ""))
    except entra.ProviderUnavailable as exc:
        return _unavailable(str(exc), login_hint)
    except entra.InvalidIdToken as exc:
        event = Event(Outcome.INVALID_TOKEN, address=login_hint, detail=exc.reason)
        if exc.reason == "tenant_not_allowed":  # starting again would not help
            return _problem(event, PROBLEMS["tenant_not_allowed"], address=login_hint)
        return Decision(event, template="accounts/start_again.html", status=400)

    if flow.step_up:
        return _step_up(claims, flow.step_up, session)
    if signin.is_personal_account(claims):
        return _personal_account(claims)
    effects: tuple[str, ...] = (SIGN_IN,)
    if session.conversion_id:
        refused = _complete_conversion(claims, session.conversion_id)
        if refused is not None:
            return refused
        effects = (END_CONVERSION, SIGN_IN)
    # The view signs the person in (allauth) and fills in the user, or records the refusal.
    return Decision(
        Event(Outcome.SIGNED_IN, claims=claims), effects=effects, flow=flow, claims=claims
    )


def _step_up(claims: dict[str, Any], pending: dict[str, Any], session: Session) -> Decision:
    """The signed-in person signed in again (``prompt=login``, ``max_age``) to confirm a change
    (``accounts.views.step_up``). It counts only for the same identity (oid and tid) the session
    signed in with, and only with a usable, recent ``auth_time`` (MSAL checked it against
    ``max_age`` already; the portal decides). Another identity is refused and the session ends:
    someone else is at the keyboard, or the person mixed up accounts. Back at the form, the
    person submits it again: nothing is replayed."""
    user = session.user
    identity = f"{claims['oid']}.{claims['tid']}"
    if user is None or pending.get("user") != user.pk:
        return _start_again("step-up for a user this session is not signed in as")
    owns_identity = SocialAccount.objects.filter(
        user=user, provider=PROVIDER_ID, uid=identity
    ).exists()
    if not owns_identity or (session.identity and session.identity != identity):
        return Decision(
            Event(
                Outcome.REFUSED,
                claims=claims,
                user=user,
                detail=f"step-up by another identity than {session.identity or user.email}: "
                "signed out",
            ),
            template="accounts/step_up_refused.html",
            context={"kind": "other_identity"},
            status=403,
            effects=(SIGN_OUT,),
        )
    auth_time = step_up.auth_time_from(claims)
    if auth_time is None or not step_up.is_recent(auth_time):
        return Decision(
            Event(
                Outcome.REFUSED,
                claims=claims,
                user=user,
                detail=f"step-up without a recent auth_time: {claims.get('auth_time')!r}"[:500],
            ),
            template="accounts/step_up_refused.html",
            context={"kind": "not_recent", "token": pending.get("token", "")},
            status=400,
        )
    # The form's path is read from the session by the view, after the new session key.
    return Decision(
        Event(
            Outcome.SIGNED_IN,
            claims=claims,
            user=user,
            detail="signed in again to confirm a change (step-up)",
        ),
        effects=(STEP_UP,),
        claims=claims,
        context={"token": str(pending.get("token", ""))},
    )


def step_up_destination(session_data: SessionBase, *, user_id: int, token: str) -> str:
    """Where a confirmed step-up goes: the kept form, filled in again, or the dashboard."""
    path = step_up.pending_path(session_data, user_id=user_id, token=token)
    if not path or not url_has_allowed_host_and_scheme(path, allowed_hosts=None):
        return settings.LOGIN_REDIRECT_URL  # the dashboard
    return f"{path}?{urlencode({'step_up': token})}"


def _complete_conversion(claims: dict[str, Any], conversion_id: int) -> Decision | None:
    """The work account signed in at the end of a conversion: link it to the legacy user.
    Returns the page when that cannot be done, None to go on signing in."""
    try:
        conversions.complete_conversion(conversion_id=conversion_id, claims=claims)
    except conversions.WrongWorkAccount as exc:
        return Decision(
            Event(Outcome.REFUSED, claims=claims, detail=f"conversion expects {exc.args[0]}"),
            template="accounts/convert_problem.html",
            context={"kind": "wrong_account", "expected": exc.args[0]},
            status=409,
        )
    except (conversions.AddressOwned, conversions.ConversionClosed, Conversion.DoesNotExist):
        return Decision(
            Event(Outcome.REFUSED, claims=claims, detail="conversion not completed"),
            template="accounts/convert_problem.html",
            context={"kind": "closed"},
            status=409,
            effects=(CONVERSION_CLOSED,),
        )
    return None


def _personal_account(claims: dict[str, Any]) -> Decision:
    address = signin.sign_in_address(claims)
    owner = signin.work_account_for_personal(claims)
    if owner is not None:
        event = Event(
            Outcome.PERSONAL_ACCOUNT,
            claims=claims,
            error_code="E06",
            detail=f"work account to use: {owner.email}",
        )
        return _problem(event, PROBLEMS["E06"], address=address, work_account=owner.email)
    uid = f"{claims['oid']}.{claims['tid']}"
    legacy_user = conversions.is_legacy_identity(uid)
    if legacy_user is not None:
        return Decision(
            Event(
                Outcome.PERSONAL_ACCOUNT,
                claims=claims,
                user=legacy_user,
                detail="legacy user: asked to convert to a work account",
            ),
            redirect_to=reverse("accounts:convert_start"),
            effects=(BEGIN_CONVERSION,),
            claims=claims,
            legacy_user=legacy_user,
        )
    return Decision(
        Event(Outcome.PERSONAL_ACCOUNT, claims=claims, detail="personal account of nobody known"),
        template="accounts/personal_account.html",
        context={"masked_address": signin.mask_email(address)},
        status=403,
    )
