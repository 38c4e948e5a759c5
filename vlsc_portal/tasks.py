"""Platform tasks: the heartbeat beat runs so /healthz can tell that worker and beat are alive,
and the purge of ended rate-limit windows."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from vlsc_portal import ratelimits
from vlsc_portal.celery import app

HEARTBEAT_CACHE_KEY = "celery:heartbeat"


@app.task(name="vlsc_portal.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record the time the worker ran this task. Safe to run any number of times."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now


@app.task(name="vlsc_portal.tasks.purge_rate_counters")
def purge_rate_counters() -> int:
    """Delete rate-limit windows that have ended (``ratelimits.purge_expired``); safe to repeat."""
    return ratelimits.purge_expired()
