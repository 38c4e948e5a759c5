"""The agreement audit trail: every change is recorded by ``audit``.

A change made through another channel than the portal's pages (the provisioning API) runs its
services inside :func:`acting_via`, and every event they record says so in ``via``: the services
themselves stay the same for every channel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from accounts.models import User
from agreements.models import (
    Agreement,
    AuditEvent,
)
from notifications.models import OutboundEmail

_via: ContextVar[str] = ContextVar("agreements_audit_via", default="")
_by: ContextVar[str] = ContextVar("agreements_audit_by", default="")


@contextmanager
def acting_via(description: str, *, by: str = "") -> Iterator[None]:
    """Every event audited inside the block records ``description`` (e.g. "API, application
    ... of tenant ...") as how the change was made. ``by``: who made it when no person did (an
    application's name), as the access change emails name them (:func:`acting_by`)."""
    token = _via.set(description[:300])
    by_token = _by.set(by[:254])
    try:
        yield
    finally:
        _by.reset(by_token)
        _via.reset(token)


def acting_by() -> str:
    """The name :func:`acting_via` gave for the block's changes made by no person, or ""."""
    return _by.get()


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
    outbound_email: OutboundEmail | None = None,
) -> AuditEvent:
    """Record one event. ``step_up_at``: the actor's recent sign-in the change needed, kept in
    its own column and said in the detail. ``outbound_email``: the email the event queued."""
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
        via=_via.get(),
        outbound_email=outbound_email,
    )
