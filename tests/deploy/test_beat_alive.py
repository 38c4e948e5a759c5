"""``manage.py beat_alive``, the beat container's health check: healthy only while the heartbeat
beat schedules has recently run on a worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY


@pytest.fixture
def heartbeat_at():
    def record(seconds_ago: float) -> None:
        stamp = timezone.now() - timedelta(seconds=seconds_ago)
        cache.set(HEARTBEAT_CACHE_KEY, stamp.isoformat(), timeout=None)

    yield record
    cache.delete(HEARTBEAT_CACHE_KEY)


def test_a_recent_heartbeat_is_healthy(heartbeat_at, capsys):
    heartbeat_at(10)
    call_command("beat_alive", "--max-age", "120")
    assert "heartbeat 10 s ago" in capsys.readouterr().out


def test_a_stale_heartbeat_is_unhealthy(heartbeat_at):
    heartbeat_at(121)
    with pytest.raises(CommandError, match="121 s ago"):
        call_command("beat_alive", "--max-age", "120")


def test_no_heartbeat_at_all_is_unhealthy(heartbeat_at):
    cache.delete(HEARTBEAT_CACHE_KEY)
    with pytest.raises(CommandError, match="no heartbeat recorded"):
        call_command("beat_alive")


def test_the_default_age_is_four_heartbeat_intervals(heartbeat_at, settings):
    interval = settings.CELERY_BEAT_SCHEDULE["heartbeat"]["schedule"]
    heartbeat_at(4 * interval - 5)
    call_command("beat_alive")
    heartbeat_at(4 * interval + 5)
    with pytest.raises(CommandError):
        call_command("beat_alive")


def test_an_unreachable_cache_is_unhealthy_without_a_traceback(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    with pytest.raises(CommandError, match="the cache did not answer: ConnectionError"):
        call_command("beat_alive")
