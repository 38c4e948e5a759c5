import time
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.core.cache import cache
from django.db import connections

from tests.waiting import RESULT_TIMEOUT
from vlsc_portal.celery import app, close_old_connections
from vlsc_portal.settings import CELERY_BEAT_SCHEDULE
from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY, heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_task_makes_the_round_trip_through_the_real_broker_and_worker(celery_worker):
    result = heartbeat.delay()
    stamp = result.get(timeout=RESULT_TIMEOUT)
    assert cache.get(HEARTBEAT_CACHE_KEY) == stamp


def test_beat_runs_the_heartbeat():
    assert CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == heartbeat.name


def _task(*, eager: bool) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_celerys_fixup_does_not_close_every_connection_around_every_task():
    """Celery 5.7's Django fixup closes each database connection before and after every task
    unless CELERY_DB_REUSE_MAX is set: a new PostgreSQL connection per email."""
    assert DjangoWorkerFixup(app).db_reuse_max


@pytest.mark.django_db(transaction=True)
def test_a_task_boundary_keeps_a_connection_until_conn_max_age():
    connection = connections["default"]
    connection.ensure_connection()
    raw = connection.connection
    connection.close_at = time.monotonic() + 60  # as CONN_MAX_AGE=60 sets it on connecting
    close_old_connections(task=_task(eager=False))
    assert connection.connection is raw

    connection.close_at = time.monotonic() - 1
    close_old_connections(task=_task(eager=True))  # an eager call runs in its caller's transaction
    assert connection.connection is raw
    close_old_connections(task=_task(eager=False))
    assert connection.connection is None
