"""Where the rate limiter (``vlsc_portal.ratelimits``) keeps its counts: Redis when the cache is
Redis, the database otherwise.

Both stores have one contract, :meth:`count`: add one use to each named window, all or nothing.
Each window is fixed and starts at its first use (its end is stored with it, so a refusal can say
exactly when it ends); a window that has ended starts again at this use. It returns, for each
window in the order given, its uses with this one and its end; if any would go past its amount,
nothing is counted (the caller refuses: those windows are full). Both are
atomic across processes: exactly ``amount`` uses per window get through, however many arrive at
once. Neither catches its backend's errors: a store that cannot count raises, and the limited
action does not happen (the limiter fails closed).

- :class:`DatabaseStore` (the embedded defaults, and any deployment without Redis): rows of
  :class:`~vlsc_portal.models.RateCounter`, each window counted by one
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside a savepoint that a refusal rolls
  back. Atomic on SQLite (one writer) and PostgreSQL (row locks), unlike the file cache, whose
  ``add`` and ``incr`` are a read then a write. A caller's transaction that rolls back takes the
  counts with it. Beat deletes ended windows (:meth:`purge_expired`).
- :class:`RedisStore` (``RATE_LIMIT_REDIS_URL``, the cache's Redis): one hash per window
  (``uses``, ``resets_at``) under the cache's key prefix, read, checked and written by one Lua
  script, which Redis runs atomically; each hash expires with its window. No database write, so
  a limited anonymous page (the sign-in start) commits nothing to PostgreSQL. Counts are not
  part of the caller's database transaction: a use counted before the caller fails stays
  counted (stricter, never looser). A ``FLUSHDB`` of the cache's database resets them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import redis
from django.conf import settings
from django.db import connection, transaction

from vlsc_portal.models import RateCounter

# (name, amount, duration in seconds) of one window; what counting says of it: (uses with this
# one, resets_at in seconds since the epoch).
Window = tuple[str, int, int]
Tally = tuple[int, int]

KEY_PREFIX = "vlsc:rate:"  # inside the cache's KEY_PREFIX ("vlsc"), which the tests empty


class Store(Protocol):
    def count(self, windows: list[Window], *, at: int) -> list[Tally]: ...

    def purge_expired(self, *, at: int) -> int: ...


class _Refused(Exception):
    """Raised inside the savepoint to roll back a refused use's counts."""


class DatabaseStore:
    def _count_one(self, name: str, *, at: int, duration: int) -> tuple[int, int]:
        table = connection.ops.quote_name(RateCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (bucket, uses, resets_at) VALUES (%s, 1, %s)
                ON CONFLICT (bucket) DO UPDATE SET
                    uses = CASE WHEN {table}.resets_at <= %s THEN 1 ELSE {table}.uses + 1 END,
                    resets_at = CASE WHEN {table}.resets_at <= %s
                        THEN excluded.resets_at ELSE {table}.resets_at END
                RETURNING uses, resets_at
                """,  # noqa: S608 - the table name is the model's own, quoted
                [name, at + duration, at, at],
            )
            uses, resets_at = cursor.fetchone()
        return int(uses), int(resets_at)

    def count(self, windows: list[Window], *, at: int) -> list[Tally]:
        tallies: dict[int, Tally] = {}
        try:
            # Sorted: concurrent consumers lock rows in one order and cannot deadlock.
            with transaction.atomic():
                for index, (name, _amount, duration) in sorted(
                    enumerate(windows), key=lambda item: item[1]
                ):
                    tallies[index] = self._count_one(name, at=at, duration=duration)
                if any(tallies[i][0] > amount for i, (_, amount, _) in enumerate(windows)):
                    raise _Refused  # inside the block: every count above is rolled back
        except _Refused:
            pass
        return [tallies[index] for index in range(len(windows))]

    def purge_expired(self, *, at: int) -> int:
        deleted, _ = RateCounter.objects.filter(resets_at__lte=at).delete()
        return deleted


# KEYS[i]: a window; ARGV[1]: now; ARGV[2i], ARGV[2i+1]: its amount and duration (seconds).
# Returns each window's uses with this one and its end, in order; counts only if none is full.
COUNT_SCRIPT = """
local at = tonumber(ARGV[1])
local ends, fresh, answer, full = {}, {}, {}, false
for i, key in ipairs(KEYS) do
  local amount, duration = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local window = redis.call('HMGET', key, 'uses', 'resets_at')
  local uses, resets_at = tonumber(window[1]) or 0, tonumber(window[2]) or 0
  if resets_at <= at then
    uses, resets_at, fresh[i] = 0, at + duration, true
  end
  ends[i] = resets_at
  answer[2 * i - 1] = uses + 1
  answer[2 * i] = resets_at
  if uses + 1 > amount then
    full = true
  end
end
if full then
  return answer
end
for i, key in ipairs(KEYS) do
  if fresh[i] then
    redis.call('HSET', key, 'uses', 1, 'resets_at', ends[i])
    redis.call('EXPIRE', key, tonumber(ARGV[2 * i + 1]) + 1)
  else
    redis.call('HINCRBY', key, 'uses', 1)
  end
end
return answer
"""


@lru_cache(maxsize=4)
def _redis_script(url: str):
    """One client (and connection pool) per process and URL, and the registered script (sent by
    its SHA, loaded again if Redis lost it). The cache's socket timeouts: a Redis that hangs
    holds a request that long at most, then the limiter raises (fails closed)."""
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=settings.REDIS_SOCKET_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
    return client, client.register_script(COUNT_SCRIPT)


class RedisStore:
    def __init__(self, url: str) -> None:
        self.client, self._script = _redis_script(url)

    def count(self, windows: list[Window], *, at: int) -> list[Tally]:
        keys = [KEY_PREFIX + name for name, _, _ in windows]
        args: list[int] = [at]
        for _, amount, duration in windows:
            args += [amount, duration]
        answer = self._script(keys=keys, args=args)
        return [(int(answer[i]), int(answer[i + 1])) for i in range(0, len(answer), 2)]

    def purge_expired(self, *, at: int) -> int:
        return 0  # each window's key expires by itself in Redis


def store() -> Store:
    """The store for this configuration: Redis when ``RATE_LIMIT_REDIS_URL`` is set (the cache's
    Redis, ``vlsc_portal/settings.py``), the database otherwise."""
    url = getattr(settings, "RATE_LIMIT_REDIS_URL", "")
    return RedisStore(url) if url else DatabaseStore()
