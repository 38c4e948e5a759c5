"""The agreements' periodic work."""

from __future__ import annotations

from agreements import services
from vlsc_portal.celery import app


@app.task(name="agreements.send_access_change_emails", ignore_result=True)
def send_access_change_emails() -> int:
    """Queue one email per address and agreement whose access changes have been quiet for
    ``ACCESS_CHANGE_EMAIL_DELAY`` (``services.send_due_access_change_emails``); safe to repeat
    and to run on two workers at once."""
    return services.send_due_access_change_emails()
