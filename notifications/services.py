"""Queue and deliver emails through the outbox (a row per message, a Celery task per row)."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import OutboundEmail

if TYPE_CHECKING:
    from celery import Task
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)
State = OutboundEmail.State
MAX_ATTEMPTS = 6
STALE_QUEUED_AFTER = timedelta(minutes=2)
REDACTED = "[removed after delivery: it held a single-use link or code]"


def render_email(name: str, context: dict[str, object]) -> tuple[str, str]:
    """Build an email from ``<name>_subject.txt`` and ``<name>_body.txt`` (``name`` such as
    ``"support/email/answer"``, found under ``<app>/templates/``), the one way the portal builds
    its emails. Returns ``(subject, body)``: the subject on one line (whitespace and line breaks
    in the template collapse to single spaces), the body with exactly one trailing newline. Both
    templates are plain text: load ``i18n`` and wrap the text in ``{% autoescape off %}``."""
    subject = " ".join(render_to_string(f"{name}_subject.txt", context).split())
    body = render_to_string(f"{name}_body.txt", context).rstrip() + "\n"
    return subject, body


def queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    user: AbstractBaseUser | None = None,
    dedupe_key: str | None = None,
    sensitive: bool = False,
) -> OutboundEmail:
    """Record an email and hand it to the worker once the surrounding transaction commits.

    With ``dedupe_key`` an email already recorded under that key is returned as it is and
    nothing new is sent (safe to repeat). If the broker is down the row stays queued and
    :func:`requeue_stale_emails` hands it over later.
    """
    from notifications.tasks import send_email

    fields = dict(
        to=to,
        subject=subject[:200],
        body=body,
        kind=kind,
        user=user,
        sensitive=sensitive,
        queued_at=timezone.now(),
    )
    if dedupe_key:
        try:
            with transaction.atomic():
                email, created = OutboundEmail.objects.get_or_create(
                    dedupe_key=dedupe_key, defaults=fields
                )
        except IntegrityError:  # a concurrent request created it first
            return OutboundEmail.objects.get(dedupe_key=dedupe_key)
        if not created:
            return email
    else:
        email = OutboundEmail.objects.create(**fields)
    transaction.on_commit(lambda: _hand_over(send_email, email.pk))
    return email


def _hand_over(task: Task[[int], Any], email_id: int) -> None:
    try:
        task.delay(email_id)
    except Exception:  # the broker is down: the row stays queued for the beat to retry
        logger.warning("broker unavailable; email %s stays queued", email_id, exc_info=True)


def message_id(email: OutboundEmail) -> str:
    """The Message-ID every attempt to send this row carries. A worker killed after the SMTP
    server accepted the message but before the row was marked sent leaves the row to be sent
    again; with the same Message-ID, the receiving side can recognise the second copy."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "vlsc.invalid"
    return f"<outbox.{email.pk}.{email.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def deliver(email_id: int) -> bool:
    """Send one queued email. Returns True if this call sent it, False if it was not (already
    sent, being sent elsewhere, or gone): running it twice sends once. Raises the transport's
    error after putting the row back in the queue (or marking it failed after MAX_ATTEMPTS)."""
    claimed = OutboundEmail.objects.filter(pk=email_id, state=State.QUEUED).update(
        state=State.SENDING, attempts=F("attempts") + 1, queued_at=timezone.now()
    )
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            headers={"Message-ID": message_id(email)},
        ).send()
    except Exception as exc:
        state = State.FAILED if email.attempts >= MAX_ATTEMPTS else State.QUEUED
        OutboundEmail.objects.filter(pk=email_id).update(
            state=state, last_error=f"{exc.__class__.__name__}: {exc}"[:500]
        )
        raise
    OutboundEmail.objects.filter(pk=email_id).update(
        state=State.SENT,
        sent_at=timezone.now(),
        last_error="",
        body=REDACTED if email.sensitive else email.body,
    )
    return True


def requeue_stale_emails() -> int:
    """Hand again to the broker what has waited too long: queued rows not picked up within
    STALE_QUEUED_AFTER (the broker was down) and rows stuck in sending for
    ``OUTBOX_STALE_SENDING_SECONDS`` (a worker died while sending), at most 1,000 a run. One
    conditional UPDATE; safe to run twice or on two machines at once: both may hand a row over,
    and ``deliver`` claims it once. ``OUTBOX_STALE_SENDING_SECONDS`` must exceed the longest a
    send can take, or a slow send would be started a second time."""
    from notifications.tasks import send_email

    now = timezone.now()
    dead = Q(state=State.SENDING) & Q(
        queued_at__lt=now - timedelta(seconds=settings.OUTBOX_STALE_SENDING_SECONDS)
    )
    waiting = Q(state=State.QUEUED) & Q(queued_at__lt=now - STALE_QUEUED_AFTER)
    stale = list(OutboundEmail.objects.filter(dead | waiting).values_list("pk", flat=True)[:1000])
    if stale:  # conditional: a row claimed or sent since the read above is left alone
        OutboundEmail.objects.filter(Q(pk__in=stale) & (dead | waiting)).update(
            state=State.QUEUED, queued_at=now
        )
    for email_id in stale:
        _hand_over(send_email, email_id)
    return len(stale)
