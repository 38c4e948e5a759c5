"""Run the Entra ID stand-in for a test session (imported by the portal's tests).

Imports nothing from Django: the stand-in runs in subprocesses with its own settings.

    with run_standin(data_dir=..., mailbox_dir=..., redirect_uris=[...],
                     post_logout_redirect_uris=[...], client_id="...", client_secret="...") as s:
        msal.ConfidentialClientApplication(s.client_id, client_credential=s.client_secret,
                                           authority=s.authority("common"), ...)
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

from entra_standin import config

# Generous: a loaded two-core machine starts two servers and runs migrations first.
START_TIMEOUT = 120.0


class StandinError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningStandin:
    http_url: str
    tls_url: str
    ca_path: Path
    client_id: str
    client_secret: str
    data_dir: Path
    mailbox_dir: Path
    _env: dict[str, str] = field(repr=False, default_factory=dict)

    def authority(self, tenant: str = "common") -> str:
        return f"{self.tls_url}/{tenant}"

    def register_redirect_uri(self, uri: str) -> None:
        """Add a redirect URI to the client (runs ``setup`` again)."""
        _manage(self._env, "setup", *self._client_args(), "--redirect-uri", uri)

    def register_post_logout_redirect_uri(self, uri: str) -> None:
        _manage(self._env, "setup", *self._client_args(), "--post-logout-redirect-uri", uri)

    def _client_args(self) -> list[str]:
        return ["--client-id", self.client_id, "--client-secret", self.client_secret]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "entra_standin", *args],
        env=env,
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise StandinError(
            f"`python -m entra_standin {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def tail_log(path: Path, limit: int = 4000) -> str:
    """The end of a server's log file, for error messages (empty when it is not there)."""
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


@contextlib.contextmanager
def run_standin(
    *,
    data_dir: str | os.PathLike,
    mailbox_dir: str | os.PathLike,
    redirect_uris: Iterable[str],
    post_logout_redirect_uris: Iterable[str],
    client_id: str,
    client_secret: str,
    http_port: int | None = None,
    tls_port: int | None = None,
) -> Iterator[RunningStandin]:
    """Set up, seed and serve the stand-in; yield a :class:`RunningStandin`; stop it on exit."""
    import requests

    data_dir, mailbox_dir = Path(data_dir).resolve(), Path(mailbox_dir).resolve()
    http_port = http_port or free_port()
    tls_port = tls_port or free_port()
    http_url = f"http://localhost:{http_port}"
    tls_url = f"https://127.0.0.1:{tls_port}"
    env = config.subprocess_env(
        {
            "STANDIN_DATA_DIR": str(data_dir),
            "MAILBOX_DIR": str(mailbox_dir),
            "STANDIN_HTTP_URL": http_url,
            "STANDIN_TLS_URL": tls_url,
        }
    )
    standin = RunningStandin(
        http_url=http_url,
        tls_url=tls_url,
        ca_path=data_dir / config.CA_CERT_FILE,
        client_id=client_id,
        client_secret=client_secret,
        data_dir=data_dir,
        mailbox_dir=mailbox_dir,
        _env=env,
    )
    setup_args = ["setup", *standin._client_args()]
    for uri in redirect_uris:
        setup_args += ["--redirect-uri", uri]
    for uri in post_logout_redirect_uris:
        setup_args += ["--post-logout-redirect-uri", uri]
    _manage(env, *setup_args)
    _manage(env, "seed_demo_directory")

    commands = config.gunicorn_commands(http_port, tls_port, data_dir)
    logs = {name: data_dir / f"{name}-server.log" for name in commands}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, cmd in commands.items():
            with open(logs[name], "wb") as log:
                procs[name] = subprocess.Popen(
                    cmd, env=env, cwd=config.REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
                )
        session = requests.Session()
        session.trust_env = False
        checks = {
            "http": (f"{http_url}/", False),
            "tls": (
                f"{tls_url}/common/v2.0/.well-known/openid-configuration",
                str(standin.ca_path),
            ),
        }
        deadline = time.monotonic() + START_TIMEOUT
        pending = dict(checks)
        last_error: dict[str, str] = {}
        while pending:
            for name, (url, verify) in list(pending.items()):
                if procs[name].poll() is not None:
                    raise StandinError(
                        f"The stand-in {name} server exited with {procs[name].returncode}:\n"
                        + tail_log(logs[name])
                    )
                try:
                    response = session.get(url, verify=verify, timeout=2)
                except requests.RequestException as exc:
                    last_error[name] = repr(exc)
                    continue
                if response.status_code == 200:
                    del pending[name]
                else:
                    last_error[name] = f"HTTP {response.status_code}"
            if pending and time.monotonic() > deadline:
                details = "\n".join(
                    f"--- {name} ({checks[name][0]}): {last_error.get(name)}\n"
                    + tail_log(logs[name])
                    for name in pending
                )
                raise StandinError(
                    f"The stand-in did not answer in {START_TIMEOUT:.0f} s:\n" + details
                )
            if pending:
                time.sleep(0.1)
        session.close()
        yield standin
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _sign_in_form(html: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*method="post"[^>]*?(?:action="([^"]*)")?[^>]*>', html, re.I)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return unescape(action.group(1) or "") if action else "", {
        "csrfmiddlewaretoken": token.group(1) if token else ""
    }


def sign_in(auth_uri: str, *, back_to: str, password: str = "Passw0rd!", email: str | None = None):
    """Drive the stand-in's sign-in pages with ``requests`` as a browser would: follow the
    authorize URL, post the sign-in form (the address prefilled from ``login_hint`` unless
    ``email`` is given). Returns the URL starting with ``back_to`` the stand-in redirects to (the
    relying party's callback), or the last response when it stays on its own pages."""
    import requests

    session = requests.Session()
    session.trust_env = False
    response = session.get(auth_uri, allow_redirects=False, timeout=10)
    url = auth_uri
    posted = False
    for _ in range(10):
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303) and location:
            url = urljoin(url, location)
            if url.startswith(back_to):
                return url
            response = session.get(url, allow_redirects=False, timeout=10)
            continue
        if posted or 'name="password"' not in response.text:
            return response
        action, data = _sign_in_form(response.text)
        email_match = re.search(r'name="email"[^>]*value="([^"]*)"', response.text)
        data["email"] = email or (unescape(email_match.group(1)) if email_match else "")
        data["password"] = password
        posted = True
        url = urljoin(url, action) if action else url
        response = session.post(url, data=data, allow_redirects=False, timeout=10)
    raise StandinError("the stand-in kept redirecting")


def latest_signup_code(mailbox_dir: str | os.PathLike, address: str) -> str | None:
    """The newest self-service sign-up code the stand-in emailed to ``address``, or None."""
    newest: tuple[float, str] | None = None
    for message in mailbox.Maildir(Path(mailbox_dir), create=True):
        if message["To"] != address or message["Subject"] != config.SIGNUP_CODE_SUBJECT:
            continue
        found = re.search(
            r"verification code is: (\d{6})", message.get_payload(decode=True).decode()
        )
        if found and (newest is None or message.get_date() > newest[0]):
            newest = (message.get_date(), found.group(1))
    return newest[1] if newest else None


def sign_up(
    auth_uri: str,
    *,
    back_to: str,
    mailbox_dir: str | os.PathLike,
    name: str = "New Person",
    password: str = "Passw0rd!",
) -> str:
    """Self-service sign-up for the ``login_hint`` of ``auth_uri`` with ``requests``, as a
    browser would: sign-in page, sign-up form, then the code the stand-in emailed to the address,
    read from ``mailbox_dir``. Returns the URL starting with ``back_to`` it redirects to."""
    import requests

    address = dict(parse_qsl(urlsplit(auth_uri).query)).get("login_hint", "").strip().lower()
    session = requests.Session()
    session.trust_env = False

    def follow(url, response):
        for _ in range(10):
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303) or not location:
                return url, response
            url = urljoin(url, location)
            if url.startswith(back_to):
                return url, None
            response = session.get(url, allow_redirects=False, timeout=10)
        raise StandinError("the stand-in kept redirecting")

    url, response = follow(auth_uri, session.get(auth_uri, allow_redirects=False, timeout=10))
    steps = [
        ("<title>Sign in", {"email": address, "password": password, "action": "signin"}),
        (
            "<title>Create your account",
            {"name": name, "password": password, "confirm": password, "action": "signup"},
        ),
        ("<title>Verify your email address", {"action": "verify"}),
    ]
    for title, data in steps:
        if response is None or title not in response.text:
            page = response.text[:2000] if response is not None else "(left the stand-in)"
            raise StandinError(f"expected the page {title!r} at {url}:\n{page}")
        if data["action"] == "verify":
            data["code"] = latest_signup_code(mailbox_dir, address) or ""
        action, fields = _sign_in_form(response.text)
        url = urljoin(url, action) if action else url
        posted = session.post(url, data={**fields, **data}, allow_redirects=False, timeout=10)
        url, response = follow(url, posted)
    if response is not None:
        raise StandinError(f"the sign-up did not return to {back_to}:\n{response.text[:2000]}")
    return url
