"""The API's periodic work."""

from __future__ import annotations

from api import services
from vlsc_portal.celery import app


@app.task(name="api.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget idempotency keys older than a day (``services.idempotency_keys_purge``); safe to
    repeat."""
    return services.idempotency_keys_purge()
