"""The processes a benchmark runs against: gunicorn serving the portal (production settings on
plain http, loopback only, with the ceiling view), the Entra ID stand-in, a Celery worker. The
harness itself is shared with the tests (``tests.processes``); this adds the benchmarks'
settings, client registration and readiness URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests import processes as testing
from tests.processes import REPO_ROOT, database_url, exited, manage

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "REPO_ROOT",
    "PortalConfig",
    "celery_worker",
    "database_url",
    "exited",
    "gunicorn",
    "manage",
    "peak_rss_kb",
]

CLIENT_ID = "vlsc-portal-bench"
# Production settings refuse client secrets under 32 characters and ones marked as placeholders.
CLIENT_SECRET = "bench-client-secret-for-the-local-stand-in-only-3f9c2a7d"


@dataclass
class PortalConfig(testing.PortalConfig):
    """The portal's configuration for a benchmark: ``bench.settings`` (the ceiling view, a
    per-IP sign-in limit one loopback client cannot reach) and the benchmarks' client."""

    settings_module: str = "bench.settings"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, port: int, workers: int, log: Path) -> Iterator[str]:
    """Serve the portal (with the ceiling view) on 127.0.0.1:port; yield its base URL."""
    with testing.gunicorn(
        env, port=port, workers=workers, log=log, ready_path="/bench/ceiling/"
    ) as web:
        yield web.url


def celery_worker(env: dict[str, str], *, concurrency: int, queue: str, log: Path):
    """A real worker process (prefork) on the configured broker, consuming ``queue`` only."""
    return testing.celery_worker(env, concurrency=concurrency, queue=queue, log=log)


def peak_rss_kb(pid: int) -> int:
    """VmHWM (peak resident set) of a process and its children, from /proc."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total
