"""Scale runs, each printing time and peak memory: expiring pending registrations (in a process
of its own, so its peak RSS is the expiry's) and the worker's email throughput to an SMTP sink."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import processes, seed
from bench.smtp_sink import running_sink

QUEUE = "bench-email"


def expire(count: int, env: dict[str, str]) -> dict:
    """Seed ``count`` pending registrations whose window closed, expire them in a fresh process,
    clean up. Returns the figures, with the seeding time."""
    seed.drop_pending_registrations()
    t0 = time.perf_counter()
    seed.seed_pending_registrations(count)
    seeded = time.perf_counter() - t0
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.expire_run"],
            env=env,
            cwd=processes.REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the expiry process failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        seed.drop_pending_registrations()
    result.update(count=count, seed_seconds=round(seeded, 2))
    return result


def email_throughput(count: int, env: dict[str, str], *, concurrency: int, log: Path) -> dict:
    """Queue ``count`` emails through the outbox; a real worker process delivers them to a
    local SMTP sink. Time from the first hand-over to the sink holding them all."""
    from notifications.models import OutboundEmail
    from notifications.tasks import send_email

    OutboundEmail.objects.filter(kind="bench").delete()
    with running_sink() as sink:
        worker_env = dict(
            env,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink.port),
            EMAIL_USE_TLS="false",
        )
        with processes.celery_worker(
            worker_env, concurrency=concurrency, queue=QUEUE, log=log
        ) as worker:
            rows = OutboundEmail.objects.bulk_create(
                OutboundEmail(
                    kind="bench",
                    to=f"bench-mail-{n}@bench.example",
                    subject="Bench",
                    body="A benchmark message.\n",
                    queued_at=_now(),
                )
                for n in range(count)
            )
            t0 = time.perf_counter()
            for row in rows:  # a queue of its own: no other worker takes these
                send_email.apply_async((row.pk,), queue=QUEUE)
            handed_over = time.perf_counter() - t0
            deadline = time.monotonic() + max(60.0, count / 5)
            while sink.count() < count and time.monotonic() < deadline:
                if processes.exited(worker) is not None:
                    raise RuntimeError(f"the worker exited ({processes.exited(worker)})")
                time.sleep(0.05)
            seconds = time.perf_counter() - t0
            worker_peak = processes.peak_rss_kb(worker.pid)
    sent = OutboundEmail.objects.filter(kind="bench", state=OutboundEmail.State.SENT).count()
    OutboundEmail.objects.filter(kind="bench").delete()
    return {
        "count": count,
        "delivered_to_sink": sink.count(),
        "marked_sent": sent,
        "seconds": round(seconds, 2),
        "emails_per_s": round(sink.count() / seconds, 1) if seconds else 0.0,
        "hand_over_seconds": round(handed_over, 2),
        "worker_concurrency": concurrency,
        "worker_peak_rss_kb": worker_peak,
    }


def _now():
    from django.utils import timezone

    return timezone.now()
