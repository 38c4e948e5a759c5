"""Queue and deliver emails through the outbox (a row per message, a Celery task per row; a
task sends a batch of waiting rows over one SMTP connection when a backlog builds)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from datetime import UTC, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import OutboundEmail

if TYPE_CHECKING:
    from celery import Task
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)
State = OutboundEmail.State
MAX_ATTEMPTS = 6
# Rows one delivery sends over one SMTP connection when a backlog waits (README "Reliability").
BATCH_SIZE = 50
STALE_QUEUED_AFTER = timedelta(minutes=2)
REDACTED = "[removed after delivery: it held a single-use link or code]"


def render_email(
    name: str, context: dict[str, object], *, language: str | None = None
) -> tuple[str, str]:
    """Build an email from ``<name>_subject.txt`` and ``<name>_body.txt`` (``name`` such as
    ``"support/email/answer"``, found under ``<app>/templates/``), the one way the portal builds
    its emails. Returns ``(subject, body)``: the subject on one line (whitespace and line breaks
    in the template collapse to single spaces), the body with exactly one trailing newline. Both
    templates are plain text: load ``i18n`` and wrap the text in ``{% autoescape off %}``.

    ``language`` is the recipient's (README "Languages and time zones"): callers pass
    :func:`recipient_language`. Without one the email is in the language active when it is
    built, the language of the request that caused it. Times in emails are in UTC, which they
    say: an email is read later, elsewhere, perhaps forwarded."""
    with translation.override(language or translation.get_language()), timezone.override(UTC):
        subject = " ".join(render_to_string(f"{name}_subject.txt", context).split())
        body = render_to_string(f"{name}_body.txt", context).rstrip() + "\n"
    return subject, body


def recipient_language(user: object | None) -> str | None:
    """The language an email to ``user`` is written in: their stored choice, else ``None`` (the
    language of the request that sends it, see :func:`render_email`)."""
    language = getattr(user, "language", "") if user is not None else ""
    return language or None


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


def deliver(email_id: int, *, batch_size: int = BATCH_SIZE) -> bool:
    """Send one queued email and, over the same SMTP connection, up to ``batch_size - 1``
    others that are waiting for their first attempt. Returns True if this call sent
    ``email_id``, False if it did not (already sent, being sent elsewhere, or gone): running it
    twice sends once. If ``email_id`` could not be sent, raises the transport's error after
    putting the row back in the queue (or marking it failed after MAX_ATTEMPTS), once the rest
    of the batch is done.

    The guarantees hold per row, as for a batch of one: a row is claimed (``queued`` to
    ``sending``) by one worker only, in one short transaction (PostgreSQL: the extra rows with
    ``FOR UPDATE SKIP LOCKED``; SQLite: its one writer); each row is marked sent by its own
    conditional UPDATE as soon as the SMTP server has accepted it, so a worker that dies mid-batch
    leaves only the unsent rows to ``requeue_stale_emails``. A message the server refuses fails
    alone; a broken connection ends the batch and puts the untried rows back as they were. Rows
    that already failed once are never taken into another's batch: they wait for their own
    retry, so the retry backoff still applies."""
    emails = _claim(email_id, batch_size)
    if not emails:
        return False
    own_error: Exception | None = None
    started = time.monotonic()
    # A batch starts no send after half the staleness, so a send in progress is never handed
    # over again (see OUTBOX_STALE_SENDING_SECONDS).
    cutoff = started + settings.OUTBOX_STALE_SENDING_SECONDS / 2
    smtp = get_connection()
    try:
        smtp.open()  # one SMTP connection for the whole batch
    except Exception as exc:  # no server: the task's row failed, the others were not tried
        _record_failure(emails[0], exc)
        _release(emails[1:])
        raise
    try:
        for index, email in enumerate(emails):
            if index and time.monotonic() > cutoff:
                _release(emails[index:])
                break
            try:
                _message(email, smtp).send()
            except Exception as exc:
                _record_failure(email, exc)
                if email.pk == email_id:
                    own_error = exc
                if not _message_refused(exc):  # the connection is gone: the rest go back
                    _release(emails[index + 1 :])
                    break
                continue
            _mark_sent(email)
    finally:
        with contextlib.suppress(Exception):  # the server already went away: nothing to close
            smtp.close()
    if own_error is not None:
        raise own_error
    return True


def _claim(email_id: int, batch_size: int) -> list[OutboundEmail]:
    """Claim ``email_id`` if it is still queued, and then up to ``batch_size - 1`` queued rows
    never tried yet, oldest first; return the claimed rows (``email_id`` first), or none."""
    claim = dict(state=State.SENDING, attempts=F("attempts") + 1, queued_at=timezone.now())
    if not OutboundEmail.objects.filter(pk=email_id, state=State.QUEUED).update(**claim):
        return []  # one statement when a batch took the row already: the common case
    others: list[int] = []
    if batch_size > 1:
        try:
            with transaction.atomic():
                others = list(
                    OutboundEmail.objects.select_for_update(skip_locked=True)
                    .filter(state=State.QUEUED, attempts=0)
                    .order_by("queued_at", "pk")
                    .values_list("pk", flat=True)[: batch_size - 1]
                )
                if others:  # locked by this transaction (SQLite: its one writer): all claimed
                    OutboundEmail.objects.filter(pk__in=others).update(**claim)
        except DatabaseError:  # the row claimed above is sent alone; the others wait their turn
            logger.warning("could not claim a batch with email %s", email_id, exc_info=True)
            others = []
    rows = {e.pk: e for e in OutboundEmail.objects.filter(pk__in=[email_id, *others])}
    return [rows[pk] for pk in (email_id, *others) if pk in rows]


def _message(email: OutboundEmail, smtp: BaseEmailBackend) -> EmailMessage:
    return EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Message-ID": message_id(email)},
        connection=smtp,
    )


def _message_refused(exc: Exception) -> bool:
    """Whether the server refused this one message and the connection can carry the next.
    (``SMTPException`` is an ``OSError``: a refusal is told apart by the server's answer.)"""
    refused = (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException)
    return isinstance(exc, refused) or not isinstance(exc, OSError)


def _claimed_by_this_attempt(email: OutboundEmail) -> Q:
    """Still ``sending`` under the claim this worker made (a stale requeue and a new claim since
    would have moved ``attempts`` on)."""
    return Q(pk=email.pk, state=State.SENDING, attempts=email.attempts)


def _mark_sent(email: OutboundEmail) -> None:
    """Mark one row sent, right after the server accepted it. On PostgreSQL the commit does not
    wait for its WAL flush (``synchronous_commit`` off for this transaction only): the row is
    sent for every reader at once and a worker that dies next changes nothing; only a crash of
    PostgreSQL itself within a fraction of a second could lose the mark, and the row is then sent
    again after the staleness, with the same Message-ID. Waiting for the flush took longer than
    sending the email."""
    changes: dict[str, object] = dict(state=State.SENT, sent_at=timezone.now(), last_error="")
    if email.sensitive:
        changes["body"] = REDACTED
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        marked = OutboundEmail.objects.filter(_claimed_by_this_attempt(email)).update(**changes)
    if not marked:
        logger.warning("email %s was sent but had been handed over again meanwhile", email.pk)


def _record_failure(email: OutboundEmail, exc: Exception) -> None:
    state = State.FAILED if email.attempts >= MAX_ATTEMPTS else State.QUEUED
    OutboundEmail.objects.filter(_claimed_by_this_attempt(email)).update(
        state=state, last_error=f"{exc.__class__.__name__}: {exc}"[:500]
    )


def _release(emails: list[OutboundEmail]) -> None:
    """Put claimed rows that were not tried back as they were: queued, the attempt uncounted."""
    for email in emails:
        OutboundEmail.objects.filter(_claimed_by_this_attempt(email)).update(
            state=State.QUEUED, attempts=F("attempts") - 1
        )


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
