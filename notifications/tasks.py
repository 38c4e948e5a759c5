from __future__ import annotations

import smtplib

from notifications import services
from vlsc_portal.celery import app

TRANSIENT = (smtplib.SMTPException, ConnectionError, OSError, TimeoutError)


@app.task(
    name="notifications.send_email",
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=services.MAX_ATTEMPTS,
)
def send_email(email_id: int) -> bool:
    """Deliver one outbox row; idempotent (a sent row is not sent again)."""
    return services.deliver(email_id)


@app.task(name="notifications.requeue_stale_emails")
def requeue_stale_emails() -> int:
    return services.requeue_stale_emails()
