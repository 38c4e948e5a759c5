"""Health of the portal's dependencies, for load balancers and operators."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from vlsc_portal.celery import app
from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


# Seconds. /healthz answers within about these plus the cache's own timeouts
# (``CACHES`` in ``vlsc_portal/settings.py``), whether a dependency refuses connections or hangs.
BROKER_PROBE_TIMEOUT = 1.0


def check_broker() -> None:
    """One attempt, no retry: kombu would sleep 2 s before retrying a refused connection."""
    options = {
        **app.conf.broker_transport_options,
        "socket_connect_timeout": BROKER_PROBE_TIMEOUT,
        "socket_timeout": BROKER_PROBE_TIMEOUT,
    }
    with app.connection_for_write(transport_options=options) as conn:
        # kombu takes seconds as a float; celery-types' stub says int.
        conn.ensure_connection(max_retries=0, timeout=BROKER_PROBE_TIMEOUT)  # type: ignore[arg-type]


def check_cache() -> None:
    cache.set("healthz:probe", "ok", timeout=30)
    if cache.get("healthz:probe") != "ok":
        raise RuntimeError("cache did not return what was written")


CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and the cache answer; 503 naming the one that does not.

    ``worker_heartbeat`` is the last time beat's heartbeat ran on a worker (informational: a
    worker that is still starting does not make the portal unhealthy).
    """
    body: dict[str, object] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is reported, never raised
            logger.warning("health check %s failed: %s", name, exc)
            body[name] = {"state": "down", "error": exc.__class__.__name__}
            healthy = False
        else:
            body[name] = {"state": "up"}
    body["worker_heartbeat"] = None
    if body["cache"] == {"state": "up"}:  # a cache that is down would only time out again
        try:
            body["worker_heartbeat"] = cache.get(HEARTBEAT_CACHE_KEY)
        except Exception:
            logger.warning("heartbeat unreadable", exc_info=True)
    body["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(body, status=200 if healthy else 503)
