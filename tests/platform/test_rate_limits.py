"""The portal's one rate limiter (``vlsc_portal.ratelimits``): atomic windows, all or nothing,
failing closed, saying when to try again (the client address it counts per IP:
``test_client_address.py``). Each behaviour is checked on both counting stores
(``vlsc_portal.ratecounters``): the database, and Redis where ``REDIS_URL`` is set."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import DatabaseError, connection
from django.test import Client

from vlsc_portal import ratecounters, ratelimits
from vlsc_portal.models import RateCounter

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 3, 4, 13, 50, 0, tzinfo=UTC).timestamp()
Use = ratelimits.Use
REDIS_URL = os.environ.get("REDIS_URL", "")
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing answers there


class Counts:
    """The store under test and what it holds."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.redis = redis.Redis.from_url(REDIS_URL) if kind == "redis" else None

    def clear(self) -> None:
        if self.redis is not None:
            keys = list(self.redis.scan_iter(match=f"{ratecounters.KEY_PREFIX}*"))
            if keys:
                self.redis.delete(*keys)

    def uses(self, action: str) -> list[int]:
        """The uses counted in each window of ``action``."""
        if self.redis is None:
            return [c.uses for c in RateCounter.objects.filter(bucket__startswith=f"{action}:")]
        keys = self.redis.scan_iter(match=f"{ratecounters.KEY_PREFIX}{action}:*")
        return [int(self.redis.hget(key, "uses")) for key in keys]


@pytest.fixture(
    params=[
        "database",
        pytest.param(
            "redis",
            marks=pytest.mark.skipif(not REDIS_URL, reason="the Redis store needs REDIS_URL"),
        ),
    ]
)
def store(request, settings):
    """Each counting store in turn (both run wherever Redis is configured)."""
    settings.RATE_LIMIT_REDIS_URL = REDIS_URL if request.param == "redis" else ""
    counts = Counts(request.param)
    counts.clear()
    yield counts
    counts.clear()


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, at ``clock.at`` (T0 to start with)."""

    class Clock:
        at = T0

    monkeypatch.setattr(ratelimits, "now", lambda: Clock.at)
    return Clock


@pytest.fixture
def limits(settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "per_minute": "2/m/key",
        "per_hour": "1/h/user",
        "per_ip": "1/m/ip",
    }


def refusal(*uses: Use) -> ratelimits.RateLimited:
    with pytest.raises(ratelimits.RateLimited) as caught:
        ratelimits.consume(*uses)
    return caught.value


def test_a_window_lets_its_amount_through_then_ends_and_a_new_one_starts(limits, clock, store):
    ratelimits.consume(Use("per_minute", key="x"))
    clock.at += 30
    ratelimits.consume(Use("per_minute", key="x"))
    assert refusal(Use("per_minute", key="x")).retry_at.timestamp() == T0 + 60
    ratelimits.consume(Use("per_minute", key="y"))  # another subject has its own window
    clock.at = T0 + 60
    ratelimits.consume(Use("per_minute", key="x"))  # the window starts at this first use
    clock.at = T0 + 119
    ratelimits.consume(Use("per_minute", key="x"))
    assert refusal(Use("per_minute", key="x")).retry_at.timestamp() == T0 + 120


def test_a_refused_use_counts_in_no_window_and_names_the_latest_end(limits, clock, store):
    ratelimits.consume(Use("per_minute", key="x"), Use("per_hour", user=7))
    clock.at += 10
    refused = refusal(Use("per_minute", key="x"), Use("per_hour", user=7))
    assert refused.actions == ("per_hour",)
    assert refused.retry_at.timestamp() == T0 + 3600
    ratelimits.consume(Use("per_minute", key="x"))  # the refusal did not use the minute's second
    refused = refusal(Use("per_minute", key="x"), Use("per_hour", user=7))
    assert set(refused.actions) == {"per_minute", "per_hour"}
    assert refused.retry_at.timestamp() == T0 + 3600  # both must pass: the later end


def test_a_refusal_inside_a_transaction_leaves_the_callers_earlier_counts(limits, clock, store):
    from django.db import transaction

    with transaction.atomic():
        ratelimits.consume(Use("per_hour", user=1))
        ratelimits.consume(Use("per_minute", key="x"))
        refusal(Use("per_minute", key="x"), Use("per_hour", user=1))  # the hour is full
    assert store.uses("per_minute") == store.uses("per_hour") == [1]
    ratelimits.consume(Use("per_minute", key="x"))


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_get_exactly_the_amount_through(settings, store):
    """Twelve threads, each with its own database connection, released at once."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "five": "5/h/key"}
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def use() -> None:
        try:
            barrier.wait(timeout=60)
            ratelimits.consume(Use("five", key="licensing@fabrikam.com"))
            outcomes.append("allowed")
        except ratelimits.RateLimited:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["allowed"] * 5 + ["refused"] * 7
    assert store.uses("five") == [5]


def test_an_unknown_action_or_a_missing_subject_raises_instead_of_allowing(limits, store):
    with pytest.raises(ImproperlyConfigured):
        ratelimits.consume(Use("no_such_action", key="x"))
    with pytest.raises(ImproperlyConfigured):
        ratelimits.consume(Use("per_minute", user=1))  # counted per key; no key given
    with pytest.raises(PermissionDenied):
        ratelimits.consume(Use("per_ip", ip=None))  # a request without a client address


@pytest.fixture
def store_lost(store, settings):
    """The store cannot count: the database's table is gone, or Redis does not answer."""
    if store.kind == "database":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {RateCounter._meta.db_table}")
        return DatabaseError
    settings.RATE_LIMIT_REDIS_URL = CLOSED_PORT_URL
    return redis.exceptions.ConnectionError


def test_it_fails_closed_when_it_cannot_count(store_lost):
    with pytest.raises(store_lost):
        ratelimits.consume(Use("sign_in_start", ip="127.0.0.1"))


def test_it_fails_closed_for_a_limited_page_too(store_lost):
    """The limited page goes no further: an error page (SQLite reports the missing table as an
    OperationalError and an unreachable Redis is a ConnectionError, both answered with the 503
    page; PostgreSQL reports a ProgrammingError, a fault of the server's own, 500), never the
    redirect to the identity provider. A lost database is tests/platform/test_outages.py's
    case."""
    client = Client(raise_request_exception=False)
    response = client.post("/sign-in/", {"email": "alice@contoso.com"})
    assert response.status_code in (500, 503)
    assert "Location" not in response


def test_beat_purges_only_ended_windows(limits, clock, settings, store):
    """The database deletes ended windows when beat asks; Redis lets each expire by itself."""
    from vlsc_portal import tasks

    schedule = settings.CELERY_BEAT_SCHEDULE["purge-rate-counters"]
    assert schedule["task"] == tasks.purge_rate_counters.name
    ratelimits.consume(Use("per_minute", key="x"), Use("per_hour", user=1))
    clock.at = T0 + 60
    if store.kind == "database":
        assert tasks.purge_rate_counters() == 1
        assert [c.bucket.split(":")[0] for c in RateCounter.objects.all()] == ["per_hour"]
    else:
        assert tasks.purge_rate_counters() == 0
        ttls = {
            key.decode().split(":")[2]: store.redis.ttl(key)
            for key in store.redis.scan_iter(match=f"{ratecounters.KEY_PREFIX}*")
        }
        assert 0 < ttls["per_minute"] <= 61 and 3500 < ttls["per_hour"] <= 3601, ttls


@pytest.mark.parametrize(
    ("wait", "sentence"),
    [
        (30, "Try again after 13:51 UTC (in about 1 minute)."),
        (12 * 60, "Try again after 14:02 UTC (in about 12 minutes)."),
        (90 * 60, "Try again after 15:20 UTC (in about 90 minutes)."),
        (5 * 3600, "Try again after 18:50 UTC (in about 5 hours)."),
        (86400, "Try again after 2030-03-05 13:50 UTC (in about 24 hours)."),
    ],
)
def test_the_refusal_says_when_to_try_again(clock, wait, sentence):
    retry_at = datetime.fromtimestamp(T0 + wait, tz=UTC)
    assert ratelimits.try_again(retry_at) == sentence
    refusal = ratelimits.RateLimited(retry_at=retry_at, actions=("x",))
    assert refusal.retry_after() == wait


def test_the_readme_lists_every_limit_as_configured():
    from pathlib import Path

    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("\n## Rate limits and budgets\n", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", section, re.MULTILINE))
    portal = {k: v for k, v in settings.ACCOUNT_RATE_LIMITS.items() if k != "login"}  # allauth's
    assert listed == portal
