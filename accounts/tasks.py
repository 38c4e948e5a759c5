from __future__ import annotations

from accounts.services import conversion, expiry
from vlsc_portal.celery import app


@app.task(name="accounts.tasks.expire_pending_registrations")
def expire_pending_registrations() -> int:
    """Beat: close registrations whose 48 hours are up (one bulk statement, safe to repeat)."""
    return expiry.expire_pending_registrations()


@app.task(name="accounts.tasks.expire_abandoned_conversions")
def expire_abandoned_conversions() -> int:
    """Beat: expire conversions left unfinished (one bulk statement, safe to repeat)."""
    return conversion.expire_stale()
