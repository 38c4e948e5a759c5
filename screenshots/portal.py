"""The portal as ``make run`` shows it, for the gallery: Django's development server (DEBUG on,
so the development notice shows), a Celery worker for the emails, and the Entra ID stand-in
with its demo directory and dev mailbox, on free ports; a fresh SQLite database, broker, cache
and mailbox under a temporary ``VLSC_VAR_DIR``, seeded with ``seed_demo``. No ``DATABASE_URL``
or ``REDIS_URL``: the embedded defaults. The process harness is the tests' and benchmarks'
(``tests.processes``, ``entra_standin.testing``)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from entra_standin.testing import RunningStandin, free_port, run_standin
from tests.processes import REPO_ROOT, _start, celery_worker, manage, stop, wait_for, wait_for_log

CLIENT_ID = "vlsc-portal-screenshots"
CLIENT_SECRET = "screenshots-client-secret-for-the-local-stand-in-only"
# Variables of the caller's environment that would point the portal elsewhere.
DROPPED = ("DJANGO_", "ENTRA_", "DATABASE_URL", "REDIS_URL", "PORTAL_URL", "MAILBOX_DIR")


@dataclass
class Portal:
    url: str
    # The same portal (database, cookies' host) with DEBUG off: under DEBUG Django answers a 404
    # with its own technical page, not the portal's.
    plain_url: str
    standin: RunningStandin
    env: dict[str, str]


def portal_env(var_dir: Path, port: int, standin: RunningStandin) -> dict[str, str]:
    """``make run``'s configuration, pointed at this run's ports and folders."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(DROPPED)}
    url = f"http://localhost:{port}"
    env.update(
        DJANGO_SETTINGS_MODULE="vlsc_portal.settings",
        VLSC_VAR_DIR=str(var_dir),
        PORTAL_URL=url,
        MAILBOX_DIR=str(standin.mailbox_dir),
        STANDIN_HTTP_URL=standin.http_url,
        STANDIN_TLS_URL=standin.tls_url,
        ENTRA_AUTHORITY_HOST=standin.tls_url,
        ENTRA_TENANT="common",
        ENTRA_CLIENT_ID=standin.client_id,
        ENTRA_CLIENT_SECRET=standin.client_secret,
        ENTRA_CA_BUNDLE=str(standin.ca_path),
        ENTRA_INSTANCE_DISCOVERY="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def runserver(env: dict[str, str], port: int, log: Path, *, debug: bool = True) -> Iterator[str]:
    """``manage.py runserver`` as Procfile.dev runs it (without the reloader); with ``debug``
    off it still serves the static files (``--insecure``), as DEBUG does."""
    cmd = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    if not debug:
        env = {**env, "DJANGO_DEBUG": "false"}
        cmd.append("--insecure")
    proc = _start(cmd, env, log)
    url = f"http://localhost:{port}"
    try:
        wait_for(
            lambda: _answers(url + "/healthz"),
            timeout=90,
            what="the portal answering /healthz",
            procs={"runserver": (proc, log)},
        )
        yield url
    finally:
        stop(proc)


@contextlib.contextmanager
def running_portal() -> Iterator[Portal]:
    """Everything ``make run`` starts, on free ports, seeded; removed again on exit."""
    with tempfile.TemporaryDirectory(prefix="vlsc-screenshots-") as tmp:
        var_dir = Path(tmp)
        port = free_port()
        portal_url = f"http://localhost:{port}"
        with run_standin(
            data_dir=var_dir / "standin",
            mailbox_dir=var_dir / "mailbox",
            redirect_uris=[f"{portal_url}/accounts/entra/login/callback/"],
            post_logout_redirect_uris=[f"{portal_url}/"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ) as standin:
            env = portal_env(var_dir, port, standin)
            manage(env, "migrate", "--noinput")
            manage(env, "seed_demo")
            worker_log = var_dir / "worker.log"
            with (
                celery_worker(env, concurrency=1, log=worker_log, loglevel="INFO") as worker,
                runserver(env, port, var_dir / "web.log") as url,
                runserver(env, free_port(), var_dir / "plain.log", debug=False) as plain_url,
            ):
                wait_for_log(worker, worker_log, "ready.", timeout=90)
                yield Portal(url=url, plain_url=plain_url, standin=standin, env=env)
