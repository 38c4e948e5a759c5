"""One version for everything a dashboard shows: agreements, contact roles, permission grants
and which addresses are verified. Any save or delete of those rows moves it (receivers.py), so a
dashboard rendered under the old version is never served again; the dashboard's table is cached
under the version (``accounts/home.html``).

The version moves at once and again when the transaction commits: a render that read the old
rows between the two cannot outlive the commit. Writes that bypass model signals
(``QuerySet.update`` or ``bulk_create`` on those models) must call :func:`bump` themselves; none
does today."""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

KEY = "agreements:access-version"
# How long a rendered dashboard table may stay in the cache unread (the version, not this,
# keeps it correct).
DASHBOARD_TTL = 15 * 60


def current() -> str:
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, secrets.token_hex(8), None)
        version = cache.get(KEY)
    return version


def bump() -> None:
    cache.set(KEY, secrets.token_hex(8), None)
    transaction.on_commit(lambda: cache.set(KEY, secrets.token_hex(8), None))


def dashboard_cache_key(*, user, pending) -> str:
    """What a user's cached dashboard table depends on beyond the version: the user (and when
    they joined, so a reused primary key never meets an old entry) and a pending registration."""
    joined = int(user.date_joined.timestamp() * 1_000_000)
    return f"{user.pk}.{joined}.{pending.pk if pending else 0}.{current()}"
