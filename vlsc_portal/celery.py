"""The Celery application shared by the web process, the worker and beat."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vlsc_portal.settings")

app = Celery("vlsc_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["vlsc_portal"])


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs) -> None:
    """Give each task Django's request lifecycle for database connections: before and after it,
    close those past ``CONN_MAX_AGE`` or broken, keep the others (and health-check them before
    their next use, ``conn_health_checks``). Celery's own Django fixup closes every connection
    around every task whatever ``CONN_MAX_AGE`` says (celery PR 9824), a new PostgreSQL
    connection per task; ``CELERY_DB_REUSE_MAX`` in the settings leaves the closing to this.
    Not for eager calls, which run inside the caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections as close

    close()
