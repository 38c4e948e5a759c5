"""The portal's own processes for tests and benchmarks: gunicorn, Celery workers, Celery beat.

Each runs in a process group of its own, is waited for with a deadline, and is ended by its
process id: terminated, then killed with its whole group if it does not exit, so no child
(a prefork pool process, a gunicorn worker) outlives the test. The Entra ID stand-in has its own
harness (``entra_standin.testing``).

    config = PortalConfig(standin_tls_url=standin.tls_url, standin_ca=str(standin.ca_path),
                          client_id=..., client_secret=...)
    env = config.env(REDIS_URL=..., VLSC_VAR_DIR=...)
    with gunicorn(env, port=free_port(), workers=2, log=tmp / "web.log") as base_url: ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import connection

from entra_standin.testing import free_port, tail_log

__all__ = [
    "REPO_ROOT",
    "PortalConfig",
    "WebProcess",
    "celery_beat",
    "celery_worker",
    "database_url",
    "exited",
    "free_port",
    "gunicorn",
    "kill_group",
    "manage",
    "stop",
    "wait_for",
    "wait_for_log",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90.0


def database_url(settings_dict: dict | None = None) -> str:
    """The URL of a database Django is configured for (by default the one this process uses:
    the test database under pytest)."""
    db = settings_dict or connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


@dataclass
class PortalConfig:
    """What the servers share with this process: its database, broker, secret key, and where
    to sign in (the stand-in)."""

    production: bool = False
    settings_module: str = "vlsc_portal.settings"
    client_id: str = ""
    client_secret: str = ""
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
            DJANGO_SETTINGS_MODULE=self.settings_module,
            DJANGO_SECRET_KEY=settings.SECRET_KEY,  # sessions made here must be readable there
            DATABASE_URL=database_url(),
            VLSC_VAR_DIR=str(settings.VAR_DIR),  # the filesystem broker's folders, if no Redis
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(REPO_ROOT),
        )
        if self.client_id:
            env.update(ENTRA_CLIENT_ID=self.client_id, ENTRA_CLIENT_SECRET=self.client_secret)
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


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: ``stop`` ends its children too
        )


def exited(proc: subprocess.Popen) -> int | None:
    """The process's wait status if it has exited, else None, without reaping it: until
    :func:`stop` reaps it, its process id and process group cannot be given to anything else,
    so signalling the group can only reach what it started. (``Popen.poll`` would reap it.)"""
    if proc.returncode is not None:
        return proc.returncode
    info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return None if info is None else info.si_status


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process and every process in its group at once (what the kernel's OOM killer
    or a lost machine does to a worker and its pool)."""
    if proc.returncode is None:  # not reaped: the group is still the one ``_start`` made
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def stop(proc: subprocess.Popen, *, grace: float = 15) -> None:
    """Terminate the process (a warm shutdown for Celery, graceful for gunicorn), give it
    ``grace`` seconds, then kill what is left of its process group and reap it. Safe to call
    on a process that has exited or was killed."""
    if proc.returncode is not None:
        return
    if exited(proc) is None:
        os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while exited(proc) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    kill_group(proc)
    proc.wait()


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    procs: dict[str, tuple[subprocess.Popen, Path]] | None = None,
    interval: float = 0.2,
):
    """Poll ``condition`` until it returns something truthy (returned); raise after
    ``timeout`` seconds, or at once when one of ``procs`` exits, with the ends of their logs."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        for name, (proc, log) in (procs or {}).items():
            if exited(proc) is not None:
                raise RuntimeError(
                    f"{name} exited ({exited(proc)}) while waiting for {what}:\n"
                    f"{tail_log(log, 3000)}"
                )
        if time.monotonic() > deadline:
            logs = "\n".join(
                f"--- {name}:\n{tail_log(log, 2000)}" for name, (_, log) in (procs or {}).items()
            )
            raise TimeoutError(f"no {what} within {timeout:.0f} s\n{logs}")
        time.sleep(interval)


def wait_for_log(proc: subprocess.Popen, log: Path, text: str, *, timeout: float) -> None:
    """Wait until ``text`` appears in the process's log (e.g. a Celery worker's "ready.")."""
    wait_for(
        lambda: text in tail_log(log, 1_000_000),
        timeout=timeout,
        what=f"{text!r} in {log.name}",
        procs={log.stem: (proc, log)},
    )


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class WebProcess:
    """A running gunicorn: its base URL and its master process."""

    url: str
    proc: subprocess.Popen

    def workers(self) -> set[int]:
        """The process ids of its workers (the master's children)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(pid) for pid in path.read_text().split()}


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    port: int,
    workers: int,
    log: Path,
    ready_path: str = "/healthz",
    timeout: float = START_TIMEOUT,
) -> Iterator[WebProcess]:
    """Serve the portal on 127.0.0.1:port, once ``ready_path`` answers 200."""
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
    proc = _start(cmd, env, log)
    try:
        wait_for(
            lambda: _answers(base + ready_path),
            timeout=timeout,
            what=f"gunicorn answering {ready_path}",
            procs={"gunicorn": (proc, log)},
        )
        yield WebProcess(url=base, proc=proc)
    finally:
        stop(proc)


@contextlib.contextmanager
def celery_worker(
    env: dict[str, str],
    *,
    concurrency: int,
    log: Path,
    queue: str = "celery",
    name: str = "worker",
    loglevel: str = "WARNING",
) -> Iterator[subprocess.Popen]:
    """A real worker process (prefork) on the configured broker, consuming ``queue``. With
    ``loglevel="INFO"`` its log says "ready." once it consumes (:func:`wait_for_log`)."""
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
        "--hostname",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        loglevel,
    ]
    proc = _start(cmd, env, log)
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def celery_beat(env: dict[str, str], *, log: Path) -> Iterator[subprocess.Popen]:
    """Celery beat on the portal's schedule (its schedule file under ``VLSC_VAR_DIR``)."""
    cmd = [sys.executable, "-m", "celery", "-A", "vlsc_portal", "beat", "--loglevel", "INFO"]
    proc = _start(cmd, env, log)
    try:
        yield proc
    finally:
        stop(proc)
