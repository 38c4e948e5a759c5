"""Expiring pending registrations whose 48 hours have run (README "Registration (Flow B)"; beat
runs it every minute: ``accounts.tasks.expire_pending_registrations``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import Registration

State = Registration.State

EXPIRY_CHUNK = 100_000  # primary keys per statement


def expire_pending_registrations(
    *, now: datetime | None = None, parallel: int | None = None
) -> int:
    """Expire every pending registration whose window has closed; returns how many it expired.
    The unverified address stays with the user; registering it again reuses it.

    Each statement is a conditional bulk UPDATE, so this is safe to run twice or on two machines
    at once. Up to ``EXPIRY_CHUNK`` overdue registrations take one statement; more are split by
    primary-key range over ``parallel`` database connections (``EXPIRY_PARALLELISM``, one on
    SQLite, which has a single writer, or inside the caller's transaction), each range its own
    transaction."""
    now = now or timezone.now()
    due = Registration.objects.filter(state=State.PENDING, expires_at__lte=now)
    bounds = due.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return 0
    if high - low < EXPIRY_CHUNK:
        return due.filter(pk__range=(low, high)).update(state=State.EXPIRED, expired_at=now)
    ranges = [
        (start, min(high, start + EXPIRY_CHUNK - 1)) for start in range(low, high + 1, EXPIRY_CHUNK)
    ]
    if parallel is None:
        parallel = settings.EXPIRY_PARALLELISM
    if connection.vendor == "sqlite" or connection.in_atomic_block:
        parallel = 1  # one writer; or the caller's transaction must hold every change

    def expire_range(bounds: tuple[int, int]) -> int:
        try:
            return due.filter(pk__range=bounds).update(state=State.EXPIRED, expired_at=now)
        finally:
            if parallel > 1:
                connection.close()  # this thread's own connection

    if parallel <= 1:
        return sum(map(expire_range, ranges))
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return sum(pool.map(expire_range, ranges))
