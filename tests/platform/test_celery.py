import pytest
from django.core.cache import cache

from tests.waiting import RESULT_TIMEOUT
from vlsc_portal.settings import CELERY_BEAT_SCHEDULE
from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY, heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_task_makes_the_round_trip_through_the_real_broker_and_worker(celery_worker):
    result = heartbeat.delay()
    stamp = result.get(timeout=RESULT_TIMEOUT)
    assert cache.get(HEARTBEAT_CACHE_KEY) == stamp


def test_beat_runs_the_heartbeat():
    assert CELERY_BEAT_SCHEDULE["heartbeat"]["task"] == heartbeat.name
