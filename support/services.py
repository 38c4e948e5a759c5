"""Support requests (open, assign, answer, close) and support staff's actions on a person's
registration. Every action writes one :class:`SupportAction` in the same transaction."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.models import Registration, User
from accounts.services import registration as registrations
from notifications.services import queue_email, recipient_language, render_email
from support.models import ANSWER_WITHIN, SupportAction, SupportRequest
from vlsc_portal import ratelimits

State = SupportRequest.State
Action = SupportAction.Action
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class RequestNotOpen(Exception):
    """The request is not in a state that allows this (already answered, or closed)."""

    def __init__(self, support_request: SupportRequest) -> None:
        super().__init__("the support request does not allow this now")
        self.support_request = support_request


def new_reference() -> str:
    """``SR-`` and 8 characters a person can read out: no 0/O or 1/I/L."""
    return "SR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _audit(
    *,
    actor: User,
    action: str,
    reason: str = "",
    subject_user: User | None = None,
    subject_email: str = "",
    registration: Registration | None = None,
    support_request: SupportRequest | None = None,
) -> SupportAction:
    return SupportAction.objects.create(
        actor=actor,
        actor_email=actor.email or actor.username,
        action=action,
        reason=reason[:500],
        subject_user=subject_user,
        subject_email=subject_email,
        registration=registration,
        support_request=support_request,
    )


def open_support_request(
    *,
    name: str,
    email: str,
    topic: str,
    message: str,
    agreement_number: str = "",
    error_code: str = "",
    error_reference: str = "",
    user: User | None = None,
    ip_address: str | None = None,
    now: datetime | None = None,
) -> SupportRequest:
    """Record a request due ``ANSWER_WITHIN`` (24 hours) after now and queue the
    acknowledgement email. The email says only the reference and the due time, never the
    message, so the form cannot be used to send arbitrary text to someone else's address.
    The acknowledgement counts against the address's email budget and, for a signed-in
    ``user``, theirs (``ratelimits.email_budget``): past either, raises ``RateLimited`` and
    records nothing. The caller enforces the per-client and per-sender limits."""
    now = now or timezone.now()
    for attempt in range(5):
        try:
            with transaction.atomic():
                support_request = SupportRequest.objects.create(
                    reference=new_reference(),
                    name=name[:100],
                    email=email,
                    topic=topic,
                    message=message[:2000],
                    agreement_number=agreement_number[:32],
                    error_code=error_code[:8],
                    error_reference=error_reference[:16],
                    user=user if user is not None and user.is_authenticated else None,
                    created_at=now,
                    due_at=now + ANSWER_WITHIN,
                    ip_address=ip_address,
                    language=recipient_language(user) or translation.get_language() or "",
                )
                ratelimits.consume(
                    *ratelimits.email_budget(to=support_request.email, user=support_request.user)
                )
                subject, body = render_email(
                    "support/email/acknowledgement",
                    {"support_request": support_request},
                    language=support_request.language or None,
                )
                queue_email(
                    to=support_request.email,
                    subject=subject,
                    body=body,
                    kind="support_acknowledgement",
                    user=support_request.user,
                    dedupe_key=f"support:{support_request.reference}:ack",
                )
            return support_request
        except IntegrityError:  # the random reference was taken: draw another
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def assign_to_self(*, support_request: SupportRequest, actor: User) -> SupportRequest:
    """Make ``actor`` the one working on the request. Safe to repeat. Raises RequestNotOpen
    once it is closed."""
    with transaction.atomic():
        updated = (
            SupportRequest.objects.filter(pk=support_request.pk)
            .exclude(state=State.CLOSED)
            .update(assigned_to=actor)
        )
        if not updated:
            raise RequestNotOpen(support_request)
        _audit(
            actor=actor,
            action=Action.REQUEST_ASSIGNED,
            reason=f"{support_request.reference} assigned to {actor.email}",
            subject_user=support_request.user,
            subject_email=support_request.email,
            support_request=support_request,
        )
    support_request.refresh_from_db()
    return support_request


def answer_support_request(
    *, support_request: SupportRequest, actor: User, answer: str
) -> SupportRequest:
    """Store the answer, email it to the requester and mark the request answered. Only an open
    request can be answered (RequestNotOpen otherwise), so the answer is sent once."""
    now = timezone.now()
    with transaction.atomic():
        updated = SupportRequest.objects.filter(pk=support_request.pk, state=State.OPEN).update(
            state=State.ANSWERED,
            answer=answer[:4000],
            answered_at=now,
            answered_by=actor,
            assigned_to=actor,
        )
        if not updated:
            raise RequestNotOpen(support_request)
        support_request.refresh_from_db()
        # The requester's language, not the support person's who answers.
        subject, body = render_email(
            "support/email/answer",
            {"support_request": support_request},
            language=recipient_language(support_request.user) or support_request.language or None,
        )
        queue_email(
            to=support_request.email,
            subject=subject,
            body=body,
            kind="support_answer",
            user=support_request.user,
            dedupe_key=f"support:{support_request.reference}:answer",
        )
        _audit(
            actor=actor,
            action=Action.REQUEST_ANSWERED,
            reason=support_request.reference,
            subject_user=support_request.user,
            subject_email=support_request.email,
            support_request=support_request,
        )
    return support_request


def close_support_request(
    *, support_request: SupportRequest, actor: User, reason: str = ""
) -> SupportRequest:
    """Close an open or answered request. Raises RequestNotOpen if it is closed already."""
    with transaction.atomic():
        updated = (
            SupportRequest.objects.filter(pk=support_request.pk)
            .exclude(state=State.CLOSED)
            .update(state=State.CLOSED, closed_at=timezone.now())
        )
        if not updated:
            raise RequestNotOpen(support_request)
        _audit(
            actor=actor,
            action=Action.REQUEST_CLOSED,
            reason=reason or support_request.reference,
            subject_user=support_request.user,
            subject_email=support_request.email,
            support_request=support_request,
        )
    support_request.refresh_from_db()
    return support_request


def resend_verification_for(
    *, registration: Registration, actor: User, reason: str, confirm_url: str
) -> Registration:
    """Resend the person's verification email through the same service they use (the caller
    consumes the same rate limit). Raises RegistrationClosed if it is no longer pending."""
    with transaction.atomic():
        registration = registrations.resend_verification(
            registration=registration, confirm_url=confirm_url
        )
        _audit(
            actor=actor,
            action=Action.VERIFICATION_RESENT,
            reason=reason,
            subject_user=registration.user,
            subject_email=registration.invitation_address,
            registration=registration,
        )
    return registration


def cancel_registration_for(
    *, registration: Registration, actor: User, reason: str
) -> Registration:
    """Cancel a pending registration so the person can register again at once. Raises
    RegistrationClosed if it is no longer pending."""
    with transaction.atomic():
        registration = registrations.cancel_registration(
            registration=registration, reason=f"support ({actor.email}): {reason}"
        )
        _audit(
            actor=actor,
            action=Action.REGISTRATION_CANCELLED,
            reason=reason,
            subject_user=registration.user,
            subject_email=registration.invitation_address,
            registration=registration,
        )
    return registration
