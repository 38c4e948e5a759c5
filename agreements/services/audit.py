"""The agreement audit trail: every change is recorded by ``audit``."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.translation import gettext as _

from accounts.models import User
from agreements.models import (
    Agreement,
    AuditEvent,
)


def _actor_email(actor: User | None) -> str:
    return (actor.email or "") if actor else ""


def audit(
    *,
    actor: User | None,
    action: str,
    agreement: Agreement | None,
    subject_email: str = "",
    detail: str = "",
    agreement_number: str = "",
    step_up_at: datetime | None = None,
) -> AuditEvent:
    """Record one event. ``step_up_at``: the actor's recent sign-in the change needed, kept in
    its own column and said in the detail."""
    if step_up_at is not None:
        detail = " ".join(
            part
            for part in (
                detail,
                _("(recent sign-in at %(when)s UTC)")
                % {"when": f"{step_up_at.astimezone(UTC):%Y-%m-%d %H:%M}"},
            )
            if part
        )
    return AuditEvent.objects.create(
        actor=actor,
        actor_email=_actor_email(actor),
        action=action,
        agreement=agreement,
        agreement_number=agreement.number if agreement else agreement_number,
        subject_email=subject_email,
        detail=detail[:500],
        step_up_at=step_up_at,
    )
