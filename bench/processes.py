"""The processes a benchmark runs against: gunicorn serving the portal (production settings on
plain http, loopback only), the Entra ID stand-in, a Celery worker. Each one is started with a
deadline and ended by its own process id."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection

from entra_standin.testing import tail_log

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "vlsc-portal-bench"
# Production settings refuse client secrets under 32 characters and ones marked as placeholders.
CLIENT_SECRET = "bench-client-secret-for-the-local-stand-in-only-3f9c2a7d"
START_TIMEOUT = 60.0


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


@dataclass
class PortalConfig:
    """What the servers share with this process: its database, broker, secret key."""

    production: bool
    standin_tls_url: str = ""
    standin_ca: str = ""
    static_root: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "ENTRA_", "PYTEST", "COV_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DJANGO_SECRET_KEY=settings.SECRET_KEY,  # sessions made here must be readable there
            DATABASE_URL=database_url(),
            VLSC_VAR_DIR=str(settings.VAR_DIR),  # the filesystem broker's folders, if no Redis
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(REPO_ROOT),
            ENTRA_CLIENT_ID=CLIENT_ID,
            ENTRA_CLIENT_SECRET=CLIENT_SECRET,
        )
        env.pop("REDIS_URL", None)
        if settings.REDIS_URL:
            env["REDIS_URL"] = settings.REDIS_URL
        if self.standin_tls_url:
            env.update(
                ENTRA_AUTHORITY_HOST=self.standin_tls_url,
                ENTRA_TENANT="common",
                ENTRA_CA_BUNDLE=self.standin_ca,
                ENTRA_INSTANCE_DISCOVERY="false",
            )
        if self.production:
            # Plain http on loopback: no TLS redirect, no HSTS; cookies stay Secure (the load
            # clients send them anyway), so the code path is production's own.
            env.update(
                DJANGO_ENV="production",
                DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
                PORTAL_URL="https://localhost",
                EMAIL_HOST="127.0.0.1",  # the email benchmark points it at its own sink
                SECURE_SSL_REDIRECT="false",
                SECURE_HSTS_SECONDS="0",
                SECURE_HSTS_PRELOAD="false",
                STATIC_ROOT=self.static_root,
            )
        else:
            env["DJANGO_DEBUG"] = "false"
        env.update(extra)
        return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, port: int, workers: int, log: Path) -> Iterator[str]:
    """Serve the portal (with the ceiling view) on 127.0.0.1:port; yield its base URL."""
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "vlsc_portal.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--graceful-timeout",
        "3",
        "--timeout",
        "60",
    ]
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {proc.returncode}:\n{tail_log(log, 3000)}"
                )
            try:
                if requests.get(f"{base}/bench/ceiling/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not answer in {START_TIMEOUT:.0f} s:\n{tail_log(log, 3000)}"
                )
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)


@contextlib.contextmanager
def celery_worker(
    env: dict[str, str], *, concurrency: int, queue: str, log: Path
) -> Iterator[subprocess.Popen]:
    """A real worker process (prefork) on the configured broker."""
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "vlsc_portal",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--queues",
        queue,
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "WARNING",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        _stop(proc)


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
