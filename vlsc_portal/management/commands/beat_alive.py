"""``manage.py beat_alive``: the beat container's health check.

Beat sends the heartbeat task every ``CELERY_HEARTBEAT_SECONDS``; a worker runs it and writes the
time into the cache (``vlsc_portal.tasks.heartbeat``). A fresh time proves beat is scheduling and a
worker is consuming; a process merely running (or a schedule file merely existing) proves neither.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vlsc_portal.tasks import HEARTBEAT_CACHE_KEY


class Command(BaseCommand):
    help = (
        "Exit 0 when beat's heartbeat ran on a worker within --max-age seconds, 1 otherwise "
        "(stale, never recorded, or the cache unreachable)."
    )
    # A probe every 30 seconds: skip the system checks, which the web container already ran.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        interval = settings.CELERY_BEAT_SCHEDULE["heartbeat"]["schedule"]
        parser.add_argument(
            "--max-age",
            type=float,
            default=4 * interval,
            help="seconds (default: four heartbeat intervals)",
        )

    def handle(self, *args, max_age: float, **options) -> None:
        try:
            stamp = cache.get(HEARTBEAT_CACHE_KEY)
        except Exception as exc:  # a probe reports, it never raises a traceback
            raise CommandError(f"the cache did not answer: {exc.__class__.__name__}") from exc
        if not stamp:
            raise CommandError("no heartbeat recorded yet: beat has not scheduled one that ran")
        try:
            age = (timezone.now() - datetime.fromisoformat(stamp)).total_seconds()
        except (TypeError, ValueError) as exc:
            raise CommandError(f"the heartbeat is not a time: {stamp!r}") from exc
        if age > max_age:
            raise CommandError(
                f"the last heartbeat ran {age:.0f} s ago (more than {max_age:.0f} s): beat is "
                "not scheduling, or no worker runs what it sends"
            )
        self.stdout.write(f"heartbeat {age:.0f} s ago")
