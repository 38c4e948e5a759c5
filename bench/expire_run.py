"""``python -m bench.expire_run``: run ``expire_pending_registrations`` once in a fresh process
and print its time, count and memory as JSON (so the peak RSS is the expiry's alone)."""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _backend_peak_kb(pid: int | None) -> int | None:
    """The database server process's own peak (PostgreSQL on this machine only)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def expire_in_this_process() -> dict:
    """Run ``expire_pending_registrations`` once; time, count and memory."""
    from django.db import connection

    from accounts.services.expiry import expire_pending_registrations

    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    baseline = _rss_kb()
    t0 = time.perf_counter()
    expired = expire_pending_registrations()
    seconds = time.perf_counter() - t0
    return {
        "expired": expired,
        "seconds": round(seconds, 3),
        "rss_before_kb": baseline,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "db_backend_peak_rss_kb": _backend_peak_kb(backend),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    print(json.dumps(expire_in_this_process()))
