"""Health of the portal's dependencies, for load balancers and operators."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vlsc_portal.celery import app
from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def check_cache() -> None:
    cache.set("healthz:probe", "ok", timeout=30)
    if cache.get("healthz:probe") != "ok":
        raise RuntimeError("cache did not return what was written")


CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}


@never_cache
@require_GET
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
    try:
        body["worker_heartbeat"] = cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        body["worker_heartbeat"] = None
    body["status"] = "ok" if healthy else "unavailable"
    return JsonResponse(body, status=200 if healthy else 503)
