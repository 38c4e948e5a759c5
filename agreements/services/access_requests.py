"""Requests for access by agreement number, and their decision."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from agreements import selectors
from agreements.models import (
    AccessRequest,
    Agreement,
    AuditEvent,
    PermissionGrant,
)
from agreements.services.audit import audit
from agreements.services.invitations import email_dedupe_key
from agreements.services.permissions import permission_grant
from agreements.services.recent_sign_in import require_recent_sign_in
from notifications.services import queue_email, recipient_language, render_email
from vlsc_portal import ratelimits
from vlsc_portal.addresses import canonical_email
from vlsc_portal.links import portal_link

Kind = PermissionGrant.Kind
Action = AuditEvent.Action


class RequestAlreadyDecided(Exception):
    """The access request is not pending any more."""


def request_access(
    *, requester: User, email: str, agreement_number: str, kind: str, reason: str = ""
) -> AccessRequest:
    """Record a request for access by agreement number. Whether the number exists is never
    told to the requester: an unknown number is kept as unmatched and nobody is asked. With no
    active administrator on the agreement the request is flagged for support. A pending
    request for the same number is returned as it is (safe to repeat). Every call counts
    against the requester's ``access_request`` limit, atomically (``vlsc_portal.ratelimits``):
    past it, raises ``RateLimited`` and records nothing. Raises InvalidEmailAddress for an
    ``email`` with no canonical form."""
    email = canonical_email(email)
    ratelimits.consume(ratelimits.Use("access_request", user=requester.pk))
    number = agreement_number.strip().upper()
    agreement = Agreement.objects.filter(number=number).first()
    state = AccessRequest.State.PENDING if agreement else AccessRequest.State.UNMATCHED
    existing = AccessRequest.objects.filter(
        requester=requester, agreement_number=number, state=state
    ).first()
    if existing:
        return existing
    needs_support = agreement is not None and not selectors.has_active_administrator(
        agreement=agreement
    )
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                requester=requester,
                email=email,
                agreement_number=number,
                agreement=agreement,
                kind=kind,
                reason=reason,
                state=state,
                needs_support=needs_support,
            )
            audit(
                actor=requester,
                action=Action.ACCESS_REQUESTED,
                agreement=agreement,
                agreement_number=number,
                subject_email=email,
                detail=str(Kind(kind).label),
            )
    except IntegrityError:  # the same request, made at the same moment in another tab
        return AccessRequest.objects.get(requester=requester, agreement_number=number, state=state)
    return access_request


def _decide(
    *, access_request: AccessRequest, actor: User | None, state: str, message: str
) -> AccessRequest:
    now = timezone.now()
    updated = AccessRequest.objects.filter(
        pk=access_request.pk, state=AccessRequest.State.PENDING
    ).update(state=state, decided_by=actor, decided_at=now, decision_message=message)
    if not updated:
        raise RequestAlreadyDecided(access_request)
    access_request.refresh_from_db()
    return access_request


def access_request_decide(
    *,
    access_request: AccessRequest,
    actor: User | None,
    accept: bool,
    message: str = "",
    step_up_at: datetime | None = None,
) -> AccessRequest:
    """Accept (grant the permission asked for) or deny a pending request, and email the
    requester with the administrator's message. Raises RequestAlreadyDecided if it is not
    pending any more (two administrators at once: the first wins), and InvalidEmailAddress,
    changing nothing, when accepting a request whose address has no canonical form (a row
    older than canonical addresses that their migration reported). Accepting a request for
    Administrator raises StepUpRequired without the actor's recent sign-in, before anything
    changes."""
    if accept:
        canonical_email(access_request.email)
    agreement = access_request.agreement
    recent_sign_in = None
    if accept and access_request.kind == Kind.ADMINISTRATOR:
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    with transaction.atomic():
        decided = _decide(
            access_request=access_request,
            actor=actor,
            state=AccessRequest.State.ACCEPTED if accept else AccessRequest.State.DENIED,
            message=message,
        )
        audit(
            actor=actor,
            action=Action.ACCESS_ACCEPTED if accept else Action.ACCESS_DENIED,
            agreement=agreement,
            subject_email=decided.email,
            detail=message,
            step_up_at=recent_sign_in,
        )
        if accept:
            assert agreement is not None, "only a request naming an agreement is pending"
            permission_grant(
                agreement=agreement,
                email=decided.email,
                kind=decided.kind,
                actor=actor,
                step_up_at=step_up_at,
            )
        subject, body = render_email(
            "agreements/email/access_decision",
            {
                "accepted": accept,
                "number": decided.agreement_number,
                "kind": Kind(decided.kind).label,
                "message": message,
                "portal_url": portal_link(),
            },
            # The requester's language, not the deciding administrator's.
            language=recipient_language(decided.requester),
        )
        queue_email(
            to=decided.email,
            subject=subject,
            body=body,
            kind="access_request_decision",
            user=decided.requester,
            dedupe_key=email_dedupe_key("access-decision", decided.pk),
        )
    return decided
