"""Locations and server commands of the stand-in, with no Django import.

Shared by ``settings.py``, the management commands and :mod:`entra_standin.testing`.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

SETTINGS_MODULE = "entra_standin.settings"

DEFAULT_HTTP_URL = "http://localhost:8001"
DEFAULT_TLS_URL = "https://127.0.0.1:8443"

DB_FILE = "standin.sqlite3"
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
TLS_CERT_FILE = "tls-cert.pem"
TLS_KEY_FILE = "tls-key.pem"
SIGNING_KEY_FILE = "signing-key.pem"

# The subject of the email with a self-service sign-up code (tests find it in the mailbox).
SIGNUP_CODE_SUBJECT = "Verify your email address"


def data_dir() -> Path:
    return Path(os.environ.get("STANDIN_DATA_DIR") or REPO_ROOT / "var" / "standin")


def mailbox_dir() -> Path:
    return Path(os.environ.get("MAILBOX_DIR") or REPO_ROOT / "var" / "mailbox")


def http_url() -> str:
    return (os.environ.get("STANDIN_HTTP_URL") or DEFAULT_HTTP_URL).rstrip("/")


def tls_url() -> str:
    return (os.environ.get("STANDIN_TLS_URL") or DEFAULT_TLS_URL).rstrip("/")


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def gunicorn_commands(http_port: int, tls_port: int, directory: Path) -> dict[str, list[str]]:
    """The two gunicorn command lines: plain http (browser side) and TLS (back channel)."""
    common = [
        sys.executable,
        "-m",
        "gunicorn",
        "entra_standin.wsgi:application",
        "--no-control-socket",
        "--workers",
        "1",
        "--threads",
        "8",
        "--graceful-timeout",
        "3",
        "--access-logfile",
        "-",
    ]
    http_binds = ["--bind", f"127.0.0.1:{http_port}"]
    if ipv6_loopback_available():
        # Browsers may resolve "localhost" to ::1 first.
        http_binds += ["--bind", f"[::1]:{http_port}"]
    return {
        "http": [*common, *http_binds],
        "tls": [
            *common,
            "--bind",
            f"127.0.0.1:{tls_port}",
            "--certfile",
            str(directory / TLS_CERT_FILE),
            "--keyfile",
            str(directory / TLS_KEY_FILE),
        ],
    }


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a stand-in subprocess: its own settings module, repo on the path."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    if extra:
        env.update(extra)
    return env
