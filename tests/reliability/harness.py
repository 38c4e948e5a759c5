"""What the fault tests run against: a Redis and a PostgreSQL cluster of their own (the machine's
are shared and never stopped), a browser-like HTTP client, and the portal's processes
(``tests.processes``). Every service lives in a temporary folder that is removed at the end,
and every process is ended by its own id."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.conf import settings

from entra_standin.testing import sign_in as sign_in_at_standin
from tests.processes import free_port, stop, wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Generous: the machine has two cores and other people's tests run beside these.
DEADLINE = 90.0


def _services_missing() -> str:
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return "needs PostgreSQL (DATABASE_URL=postgres://...): CI runs these"
    if not settings.REDIS_URL:
        return "needs Redis (REDIS_URL=redis://...): CI runs these"
    if not shutil.which("redis-server"):
        return "needs redis-server to run a Redis of its own"
    return ""


services_required = pytest.mark.skipif(bool(_services_missing()), reason=_services_missing())


def private_tmp(prefix: str) -> Path:
    """A folder under /tmp (pytest's own are closed to the postgres user)."""
    return Path(tempfile.mkdtemp(prefix=f"vlsc-reliability-{prefix}-"))


# Redis ------------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server on a free loopback port that a test may stop and start again (same port,
    nothing kept on disk, as the machine's)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=DEADLINE, what="the private Redis answering")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def answers(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_timeout=1) as client:
                return client.ping()
        except redis.RedisError:
            return False


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    directory = private_tmp("redis")
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


# PostgreSQL -------------------------------------------------------------------------------------


def _as_postgres(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: its tools run as the ``postgres`` OS user."""
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class PrivateCluster:
    """A PostgreSQL 15 cluster of its own on a free loopback port (trust authentication, no
    fsync: nothing in it outlives the test), which a test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = free_port()

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        shutil.chown(self.directory, "postgres", "postgres")
        _as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(DEADLINE)),
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: sessions are cut, as when the server restarts under the portal."""
        if (self.data / "postmaster.pid").exists():
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> None:
        _as_postgres(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )


def postgres_missing() -> str:
    if not (PG_BIN / "initdb").exists():
        return f"needs PostgreSQL 15's server binaries in {PG_BIN}"
    if os.geteuid() != 0 or not shutil.which("runuser"):
        return "needs root (runuser) to run a PostgreSQL cluster as the postgres user"
    return ""


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    directory = private_tmp("postgres")
    cluster = PrivateCluster(directory)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


# A browser over HTTP ----------------------------------------------------------------------------


@dataclass
class Visit:
    """One request: what was asked, of which web process, what came back and how fast."""

    name: str
    base: str
    status: int
    seconds: float
    location: str = ""


@dataclass
class Browser:
    """A cookie jar sending each request to the next of ``bases`` in turn (several web processes
    behind a load balancer with no sticky sessions), following no redirects by itself."""

    bases: list[str]
    visits: list[Visit] = field(default_factory=list)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        self._turn = 0

    def _next_base(self) -> str:
        base = self.bases[self._turn % len(self.bases)]
        self._turn += 1
        return base

    def request(self, method: str, path: str, *, name: str = "", **kwargs) -> requests.Response:
        """``path`` may be a full URL of one of the web processes: it goes to the next one."""
        parts = urlsplit(path)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        base = self._next_base()
        started = time.monotonic()
        response = self.session.request(
            method, base + path, allow_redirects=False, timeout=self.timeout, **kwargs
        )
        self.visits.append(
            Visit(
                name=name or f"{method} {parts.path}",
                base=base,
                status=response.status_code,
                seconds=time.monotonic() - started,
                location=response.headers.get("Location", ""),
            )
        )
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict[str, str], **kwargs) -> requests.Response:
        """GET the page, then POST its form with the CSRF token it carries."""
        page = self.get(path, name=kwargs.pop("get_name", ""))
        token = csrf_token(page.text)
        return self.request("POST", path, data={"csrfmiddlewaretoken": token, **data}, **kwargs)

    def sign_in(self, email: str, *, standin_http_url: str) -> requests.Response:
        """The whole sign-in: the portal's email step, the stand-in's pages, the callback.
        Returns the callback's response (a redirect into the portal)."""
        return self.get(self.start_sign_in(email, standin_http_url=standin_http_url))

    def start_sign_in(self, email: str, *, standin_http_url: str) -> str:
        """Up to the stand-in sending the browser back: returns the callback URL, not opened."""
        start = self.post_form("/sign-in/", {"email": email})
        assert start.status_code == 302, (start.status_code, start.text[:500])
        assert start.headers["Location"].startswith(standin_http_url)
        callback = sign_in_at_standin(start.headers["Location"], back_to="http://127.0.0.1:")
        assert isinstance(callback, str), getattr(callback, "text", callback)[:500]
        return callback


def latency(visits: list[Visit]) -> str:
    """The median and slowest answer, for the figures the tests print."""
    seconds = sorted(v.seconds for v in visits)
    slowest = max(visits, key=lambda v: v.seconds)
    return (
        f"median {statistics.median(seconds) * 1000:.0f} ms, "
        f"slowest {slowest.seconds * 1000:.0f} ms ({slowest.name}, {slowest.status})"
    )


def by_page(visits: list[Visit]) -> str:
    """One line per kind of request and status, with how many."""
    counts = Counter((v.name, v.status) for v in visits)
    return "\n".join(f"  {name}: {status} x{n}" for (name, status), n in sorted(counts.items()))


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html[:500]
    return unescape(match.group(1))


@dataclass
class Portal:
    """A portal served at ``base`` (one web process), signing in at ``standin``."""

    base: str
    standin: object

    def browser(self) -> Browser:
        return Browser([self.base])

    def signed_in(self, email: str) -> Browser:
        browser = self.browser()
        response = browser.sign_in(email, standin_http_url=self.standin.http_url)
        assert response.status_code == 302, response.text[:500]
        dashboard = browser.get(response.headers["Location"])
        if dashboard.headers.get("Location") == "/register/":  # first sign-in: same address
            registered = browser.post_form("/register/", {"email": email})
            assert registered.headers["Location"] == "/dashboard/", registered.status_code
        return browser
