"""Welcome emails and invitations.

Welcome emails go through the outbox with a dedupe key per address, agreement and change, so
saving the same row again sends nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from agreements import selectors
from agreements.models import (
    Agreement,
    AuditEvent,
    Invitation,
)
from agreements.roles import KIND_ALLOWS
from agreements.services.audit import audit
from notifications.models import OutboundEmail
from notifications.services import queue_email, render_email
from vlsc_portal.addresses import canonical_email
from vlsc_portal.links import portal_link

Action = AuditEvent.Action


RESEND_INTERVAL = timedelta(minutes=10)


class ResendTooSoon(Exception):
    """The invitation was sent less than ``RESEND_INTERVAL`` ago."""

    def __init__(self, invitation: Invitation):
        self.invitation = invitation
        super().__init__(invitation.email)


def email_dedupe_key(*parts: object) -> str:
    """The outbox dedupe key for one agreement email: the same ``parts`` give the same key, so
    queueing that email again sends nothing."""
    return "agreements:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _welcome_context(
    *, agreement: Agreement, email: str, access: str, kinds: list[str]
) -> dict[str, object]:
    """What a welcome email says. Its copy fits the recipient's state: an address already
    registered (verified by an active user) is told to sign in and see the agreement, any other
    to register."""
    return {
        "agreement": agreement,
        "access": access,
        "allows": [KIND_ALLOWS[k] for k in kinds],
        "portal_url": portal_link(),
        "registered": selectors.address_is_registered(email=email),
        "agreement_url": portal_link(reverse("agreements:detail", args=[agreement.number])),
    }


def send_welcome(
    *, agreement: Agreement, email: str, access: str, kinds: list[str], change_key: str
) -> bool:
    """Queue one welcome email for this address, agreement and change, and record the
    invitation. Repeating it with the same ``change_key`` sends nothing. Returns True if an
    email was queued now."""
    now = timezone.now()
    email = canonical_email(email)
    key = email_dedupe_key("welcome", agreement.pk, email, change_key)
    if OutboundEmail.objects.filter(dedupe_key=key).exists():
        return False
    subject, body = render_email(
        "agreements/email/welcome",
        _welcome_context(agreement=agreement, email=email, access=access, kinds=kinds),
        language=selectors.address_language(email=email),
    )
    queue_email(
        to=email,
        subject=subject,
        body=body,
        kind="agreement_welcome",
        dedupe_key=key,
    )
    invitation, created = Invitation.objects.get_or_create(
        agreement=agreement,
        email=email,
        defaults={"first_sent_at": now, "last_sent_at": now},
    )
    if not created:
        Invitation.objects.filter(pk=invitation.pk).update(last_sent_at=now)
    return True


def resend_invitation(*, invitation: Invitation, actor: User | None) -> Invitation:
    """Send the invitation again. At most once per RESEND_INTERVAL per invitation (one
    conditional update, so two administrators clicking at once send one); raises ResendTooSoon."""
    now = timezone.now()
    updated = Invitation.objects.filter(
        pk=invitation.pk, last_sent_at__lte=now - RESEND_INTERVAL
    ).update(last_sent_at=now, times_sent=F("times_sent") + 1)
    if not updated:
        raise ResendTooSoon(invitation)
    invitation.refresh_from_db()
    agreement = invitation.agreement
    rows = selectors.access_by_agreement(
        emails=[invitation.email], agreements=Agreement.objects.filter(pk=agreement.pk)
    )
    row = rows.get(agreement.pk)
    kinds = row.kinds if row else []
    subject, body = render_email(
        "agreements/email/welcome_reminder",
        _welcome_context(
            agreement=agreement,
            email=invitation.email,
            access=", ".join(row.role_labels + row.kind_labels) if row else "",
            kinds=kinds,
        ),
        language=selectors.address_language(email=invitation.email),
    )
    queue_email(
        to=invitation.email,
        subject=subject,
        body=body,
        kind="agreement_welcome",
        dedupe_key=email_dedupe_key("resend", invitation.pk, invitation.times_sent),
    )
    audit(
        actor=actor,
        action=Action.INVITATION_RESENT,
        agreement=agreement,
        subject_email=invitation.email,
    )
    return invitation
