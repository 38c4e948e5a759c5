"""docker-compose's services, run here as their command lines (Docker has no daemon on this
machine): migrate, then web (deploy/start-web.sh: check --deploy, then gunicorn), the worker and
beat, on production settings against PostgreSQL and Redis, with each request carrying the headers
the proxy (Caddy) would set. Commands, health checks and environment come from
docker-compose.yml itself, so what runs here cannot drift from what deploys.

Runs in the PostgreSQL and Redis mode (``DATABASE_URL`` and ``REDIS_URL`` set, as in CI). It
makes a database of its own on ``DATABASE_URL``'s server (``<name>_compose``, dropped afterwards;
the role needs CREATEDB) and runs compose's own Redis command as a private server on a free
loopback port, so compose's database numbers (broker 0, results 1, cache 2) are used as they are
and no one else's Redis data is touched."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests

from entra_standin.testing import free_port, run_standin, tail_log
from tests.deploy import compose
from tests.waiting import wait_until

ROOT = compose.ROOT
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
HOST = "vlsc.test"
CLIENT = "203.0.113.7"
# What Caddy sends on: the address it saw, https, and the Host the browser asked for.
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT}
DEADLINE = 120.0  # seconds: starting gunicorn, Celery and the stand-in on a busy two-core box

pytestmark = [
    pytest.mark.skipif(
        not (DATABASE_URL.startswith(("postgres://", "postgresql://")) and REDIS_URL),
        reason="runs compose's services on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server installed"),
]


@dataclass
class Stack:
    env: dict[str, str]
    base: str
    logs: Path
    standin_http_url: str
    redis_cache_url: str
    services: dict
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen:
        """Start compose's service ``name`` by its own command line."""
        log = self.logs / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                compose.command(self.services[name]),
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, 15)  # its own session: gunicorn's and Celery's children too
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()

    def healthy(self, name: str) -> bool:
        """Whether compose's health check for ``name`` passes right now (failing the test at
        once if the service's process has exited)."""
        process = self.processes.get(name)
        if process is not None and process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)}")
        result = subprocess.run(
            compose.healthcheck(self.services[name]),
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
        return result.returncode == 0

    def log(self, name: str) -> str:
        return tail_log(self.logs / f"{name}.log", 3000)


def _server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


def _admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(_server_url(DATABASE_URL, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@contextlib.contextmanager
def private_redis(services: dict, directory: Path) -> Iterator[dict[int, str]]:
    """compose's Redis command on a free loopback port; yields database number -> URL."""
    port = free_port()
    command = compose.command(services["redis"])
    command += ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    command += ["--save", "", "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(port=port, socket_timeout=2)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return process.poll() is None or pytest.fail(tail_log(directory / "redis.log"))

        wait_until(what="the private Redis", timeout=DEADLINE, interval=0.5, condition=answers)
        client.close()
        yield {n: f"redis://127.0.0.1:{port}/{n}" for n in range(16)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def _portal_env(services: dict, redis_urls: dict[int, str], database_url: str) -> dict[str, str]:
    """The portal services' environment from docker-compose.yml (one anchor: migrate, web,
    worker and beat share it), its addresses pointed at this machine."""
    variables = {"PORTAL_HOST": HOST, "POSTGRES_PASSWORD": "unused"}
    env = compose.environment(services["web"], variables)
    for name in ("migrate", "worker", "beat"):
        assert compose.environment(services[name], variables) == env, name
    env["DATABASE_URL"] = database_url
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        parts = urlsplit(env[name])
        assert parts.hostname == "redis", name
        env[name] = redis_urls[int(parts.path.strip("/"))]
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("compose")
    services = compose.load()["services"]
    database = urlsplit(DATABASE_URL).path.strip("/") + "_compose"
    assert re.fullmatch(r"\w+", database)
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{database}"')
    web_port = free_port()
    try:
        with (
            private_redis(services, tmp) as redis_urls,
            run_standin(
                data_dir=tmp / "standin",
                mailbox_dir=tmp / "standin-mailbox",
                redirect_uris=[f"https://{HOST}/accounts/entra/login/callback/"],
                post_logout_redirect_uris=[f"https://{HOST}/"],
                client_id="vlsc-compose-test",
                client_secret=secrets.token_urlsafe(32),
            ) as standin,
        ):
            env = {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "HOME": str(tmp),
                "LANG": "C.UTF-8",
                "HOSTNAME": socket.gethostname(),  # the worker's health check names its node
                # What the image's Dockerfile sets:
                "PYTHONUNBUFFERED": "1",
                "VLSC_VAR_DIR": str(tmp / "var"),
                "STATIC_ROOT": str(tmp / "staticfiles"),
                # compose's own environment:
                **_portal_env(services, redis_urls, _server_url(DATABASE_URL, database)),
                # What .env holds in a deployment:
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
                "ENTRA_CLIENT_ID": standin.client_id,
                "ENTRA_CLIENT_SECRET": standin.client_secret,
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(free_port()),  # nothing listens: no email is sent here
                # The stand-in plays Microsoft's authority (its TLS, its own CA):
                "ENTRA_AUTHORITY_HOST": standin.tls_url,
                "ENTRA_CA_BUNDLE": str(standin.ca_path),
                "ENTRA_INSTANCE_DISCOVERY": "false",
                # This machine: loopback, a free port, a fast heartbeat for the beat test.
                "WEB_BIND_ADDRESS": "127.0.0.1",
                "WEB_PORT": str(web_port),
                "GUNICORN_WORKERS": "2",
                "CELERY_HEARTBEAT_SECONDS": "2",
            }
            running = Stack(
                env=env,
                base=f"http://127.0.0.1:{web_port}",
                logs=tmp,
                standin_http_url=standin.http_url,
                redis_cache_url=redis_urls[2],
                services=services,
            )
            try:
                # The image's build step, then compose's one-shot migrate.
                for args in (
                    ["python", "manage.py", "collectstatic", "--noinput"],
                    compose.command(services["migrate"]),
                ):
                    done = subprocess.run(
                        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
                    )
                    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
                running.start("web")
                running.start("worker")
                wait_until(
                    what="web's health check",
                    timeout=DEADLINE,
                    interval=0.5,
                    condition=lambda: running.healthy("web"),
                )
                yield running
            finally:
                for name in list(running.processes):
                    running.stop(name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def get(stack: Stack, path: str, headers: dict[str, str] | None = None, **kwargs):
    return requests.get(
        stack.base + path, headers=headers or {}, allow_redirects=False, timeout=30, **kwargs
    )


def set_cookies(response: requests.Response) -> dict[str, dict]:
    """Each Set-Cookie by name, with its attributes (requests would drop Secure cookies over the
    plain http the proxy speaks to gunicorn, so they are read from the headers)."""
    cookies = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            cookies[name] = {
                "value": morsel.value,
                "secure": bool(morsel["secure"]),
                "httponly": bool(morsel["httponly"]),
            }
    return cookies


def test_plain_http_is_redirected_to_https(stack):
    response = get(stack, "/sign-in/", {"Host": HOST})
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/sign-in/"


def test_pages_through_the_proxy_answer_with_hsts_and_secure_cookies(stack):
    landing = get(stack, "/", PROXY_HEADERS)
    assert landing.status_code == 200
    assert landing.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    sign_in = get(stack, "/sign-in/", PROXY_HEADERS)
    assert sign_in.status_code == 200
    csrf = set_cookies(sign_in)["vlsc_csrftoken"]
    assert csrf["secure"]
    static = re.search(r'href="(/static/[^"]+\.css)"', landing.text)
    assert static and get(stack, static.group(1), PROXY_HEADERS).status_code == 200


def test_the_host_header_must_be_the_portals(stack):
    response = get(stack, "/", {**PROXY_HEADERS, "Host": "attacker.example"})
    assert response.status_code == 400


def test_healthz_reports_database_broker_and_cache_up(stack):
    response = get(stack, "/healthz", PROXY_HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for name in ("database", "broker", "cache"):
        assert body[name] == {"state": "up"}


def test_a_sign_in_start_redirects_to_the_authority_and_counts_the_real_client_address(stack):
    from vlsc_portal import ratelimits

    page = get(stack, "/sign-in/", PROXY_HEADERS)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    csrf_cookie = set_cookies(page)["vlsc_csrftoken"]["value"]
    response = requests.post(
        f"{stack.base}/sign-in/",
        data={"csrfmiddlewaretoken": token, "email": "alice@contoso.com"},
        headers={
            **PROXY_HEADERS,
            # A proxy that appends would pass a client's forged entry along in front of its own.
            "X-Forwarded-For": f"198.51.100.9, {CLIENT}",
            "Origin": f"https://{HOST}",
            "Cookie": f"vlsc_csrftoken={csrf_cookie}",
        },
        allow_redirects=False,
        timeout=60,
    )
    assert response.status_code == 302, response.text[:2000]
    location = response.headers["Location"]
    assert location.startswith(stack.standin_http_url + "/")
    assert f"redirect_uri={quote(f'https://{HOST}/accounts/entra/login/callback/', safe='')}" in (
        location
    )
    assert "login_hint=alice%40contoso.com" in location
    # The flow travels in its cookie, Secure and HttpOnly; nothing is kept on the server.
    cookies = set_cookies(response)
    flow = cookies["vlsc_signin_flow"]
    assert flow["secure"] and flow["httponly"]
    assert "vlsc_sessionid" not in cookies

    # The limiter's counters (vlsc_portal.ratelimits) are in the cache's Redis, named by a keyed
    # hash of the address.
    import redis

    from vlsc_portal import ratecounters

    (rate,) = ratelimits.rates("sign_in_start")
    secret = stack.env["DJANGO_SECRET_KEY"]

    def counter(ip: str) -> str:
        name = ratelimits.bucket(ratelimits.Use("sign_in_start", ip=ip), rate, secret=secret)
        return ratecounters.KEY_PREFIX + name

    client = redis.Redis.from_url(stack.redis_cache_url)
    try:
        counters = {key.decode() for key in client.scan_iter(match="vlsc:rate:*")}
    finally:
        client.close()
    assert counter(CLIENT) in counters, counters
    assert not {counter("198.51.100.9"), counter("127.0.0.1")} & counters, counters


def test_the_worker_answers_its_health_check(stack):
    wait_until(
        what="the worker's health check",
        timeout=DEADLINE,
        interval=0.5,
        condition=lambda: stack.healthy("worker"),
    )


def test_beats_health_check_passes_while_beat_schedules_and_fails_once_it_stops(stack):
    alive = ["python", "manage.py", "beat_alive", "--max-age", "6"]

    def fresh() -> bool:
        return subprocess.run(alive, env=stack.env, cwd=ROOT, capture_output=True).returncode == 0

    assert not fresh(), "no beat has run yet: the check must not pass"
    stack.start("beat")
    try:
        wait_until(
            what="beat's health check",
            timeout=DEADLINE,
            interval=0.5,
            condition=lambda: stack.healthy("beat"),
        )
        assert fresh()
    finally:
        stack.stop("beat")
    wait_until(
        what="the heartbeat to go stale without beat",
        timeout=DEADLINE,
        interval=0.5,
        condition=lambda: not fresh(),
    )
