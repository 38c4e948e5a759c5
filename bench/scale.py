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
    clean up. Returns the figures, with the seeding time (the seeding first drops what a previous
    run left)."""
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
    """Queue ``count`` emails through the outbox, a task each as ``queue_email`` hands them
    over; a real worker (``concurrency`` processes) delivers them to a local SMTP sink. Timed
    from the first hand-over to the sink holding them all, once the worker has delivered one
    warm-up email (its start-up is not email throughput). Also counts the messages the sink got
    twice (by Message-ID) and the rows marked sent, both of which must equal ``count``."""
    from notifications.models import OutboundEmail

    OutboundEmail.objects.filter(kind="bench").delete()
    # The sink answers from a thread of this process, which also publishes the tasks: with
    # Python's default 5 ms switch interval each SMTP answer could wait that long for the GIL.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        return _email_throughput(count, env, concurrency=concurrency, log=log)
    finally:
        sys.setswitchinterval(switch_interval)


def _email_throughput(count: int, env: dict[str, str], *, concurrency: int, log: Path) -> dict:
    from notifications.models import OutboundEmail
    from notifications.tasks import send_email

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

            def delivered(n: int) -> None:
                deadline = time.monotonic() + max(60.0, n / 5)
                while sink.count() < n and time.monotonic() < deadline:
                    if processes.exited(worker) is not None:
                        raise RuntimeError(f"the worker exited ({processes.exited(worker)})")
                    time.sleep(0.02)

            warm_up = _bench_email("bench-warm-up@bench.example")
            warm_up.save()
            send_email.apply_async((warm_up.pk,), queue=QUEUE)
            delivered(1)
            warm = sink.count()
            rows = OutboundEmail.objects.bulk_create(
                _bench_email(f"bench-mail-{n}@bench.example") for n in range(count)
            )
            t0 = time.perf_counter()
            for row in rows:  # a queue of its own: no other worker takes these
                send_email.apply_async((row.pk,), queue=QUEUE)
            handed_over = time.perf_counter() - t0
            delivered(warm + count)
            seconds = time.perf_counter() - t0
            worker_peak = processes.peak_rss_kb(worker.pid)
    received = [m["Message-ID"] for m in sink.messages()[warm:]]
    sent = OutboundEmail.objects.filter(kind="bench", state=OutboundEmail.State.SENT).count()
    OutboundEmail.objects.filter(kind="bench").delete()
    return {
        "count": count,
        "delivered_to_sink": len(received),
        "delivered_twice": len(received) - len(set(received)),
        "marked_sent": sent - 1,  # without the warm-up email
        "seconds": round(seconds, 2),
        "emails_per_s": round(len(received) / seconds, 1) if seconds else 0.0,
        "hand_over_seconds": round(handed_over, 2),
        "worker_concurrency": concurrency,
        "worker_peak_rss_kb": worker_peak,
    }


def _bench_email(to: str):
    from notifications.models import OutboundEmail

    return OutboundEmail(
        kind="bench", to=to, subject="Bench", body="A benchmark message.\n", queued_at=_now()
    )


def _now():
    from django.utils import timezone

    return timezone.now()
