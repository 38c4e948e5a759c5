from __future__ import annotations

from accounts.services import registration
from vlsc_portal.celery import app


@app.task(name="accounts.tasks.expire_pending_registrations")
def expire_pending_registrations() -> int:
    """Beat: close registrations whose 48 hours are up (one bulk statement, safe to repeat)."""
    return registration.expire_pending_registrations()
