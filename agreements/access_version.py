"""One version for everything a dashboard shows: agreements, contact roles, permission grants
and which addresses are verified. Any save or delete of those rows moves it (receivers.py), so a
dashboard rendered under the old version is never served again; the dashboard's table is cached
under the version (``accounts/home.html``).

The version moves at once and again when the transaction commits: a render that read the old
rows between the two cannot outlive the commit. Writes that bypass model signals
(``QuerySet.update`` or ``bulk_create`` on those models) must call :func:`bump` themselves; none
does today."""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY = "agreements:access-version"
# How long a rendered dashboard table may stay in the cache unread (the version, not this,
# keeps it correct).
DASHBOARD_TTL = 15 * 60


def current() -> str:
    """The version; a fresh one (so nothing cached is reused) when the cache cannot say."""
    fresh = secrets.token_hex(8)
    try:
        version = cache.get(KEY)
        if version is None:
            cache.add(KEY, fresh, None)
            version = cache.get(KEY)
    except Exception:  # the cache is down: render afresh, never fail the page
        logger.warning("access version unavailable", exc_info=True)
        return fresh
    return version or fresh


def _move() -> None:
    try:
        cache.set(KEY, secrets.token_hex(8), None)
    except Exception:  # a write to agreements must not fail because the cache is down
        logger.error("could not move the access version: dashboards may lag", exc_info=True)


def bump() -> None:
    _move()
    transaction.on_commit(_move, robust=True)


def dashboard_cache_key(*, user, pending) -> str:
    """What a user's cached dashboard table depends on beyond the version: the user (and when
    they joined, so a reused primary key never meets an old entry) and a pending registration."""
    joined = int(user.date_joined.timestamp() * 1_000_000)
    return f"{user.pk}.{joined}.{pending.pk if pending else 0}.{current()}"
