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
    # The outbox row is the result. Storing one also made every ``delay()`` subscribe to the
    # result backend first, which with Redis down retried for 19 s inside the web request.
    ignore_result=True,
)
def send_email(email_id: int) -> bool:
    """Deliver one outbox row, with a batch of others waiting for their first attempt
    (``services.deliver``); idempotent (a sent row is not sent again)."""
    return services.deliver(email_id)


@app.task(name="notifications.requeue_stale_emails")
def requeue_stale_emails() -> int:
    return services.requeue_stale_emails()
