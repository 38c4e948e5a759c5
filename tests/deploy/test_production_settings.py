"""Production fails closed: DJANGO_ENV takes two exact values, and production refuses placeholder
or short secrets, a missing or http PORTAL_URL, missing hosts and a missing SMTP host, naming
every one in a single line. Settings are read at process start, so most of these start one."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from tests.deploy import compose
from vlsc_portal import deployment

ROOT = compose.ROOT
# Variables these tests set themselves; whatever the calling environment has for them is dropped.
OWN = ("DJANGO_", "ENTRA_", "PORTAL_URL", "EMAIL_", "SECURE_", "ALLAUTH_", "CACHE_URL", "CELERY_")


def base_env(tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(OWN)}
    env.pop("REDIS_URL", None)
    env.update(VLSC_VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    return env


def entra_shaped_secret() -> str:
    """40 characters, the shape Microsoft generates (three characters, a digit, "Q~", 34 more)."""
    return "Ab3" + "7Q~" + secrets.token_urlsafe(26)[:34]


def valid_production(**overrides: str) -> dict[str, str]:
    values = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "ENTRA_CLIENT_ID": "3f1c2a9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f",
        "ENTRA_CLIENT_SECRET": entra_shaped_secret(),
        "PORTAL_URL": "https://vlsc.example",
        "DJANGO_ALLOWED_HOSTS": "vlsc.example",
        "EMAIL_HOST": "smtp.vlsc.example",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def start(tmp_path, env: dict[str, str], code: str = "") -> subprocess.CompletedProcess:
    """A fresh process that loads the settings (and runs ``code`` after django.setup())."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        env={**base_env(tmp_path), "DJANGO_SETTINGS_MODULE": "vlsc_portal.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refusal(result: subprocess.CompletedProcess) -> str:
    """The ImproperlyConfigured line of a process that refused to start."""
    assert result.returncode != 0, result.stdout
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    ]
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("django.core.exceptions.ImproperlyConfigured: ")


@pytest.mark.parametrize("value", ["Production", "prod", " production", "production ", "", "dev"])
def test_a_django_env_other_than_the_two_names_refuses_to_start(tmp_path, value):
    message = refusal(start(tmp_path, {"DJANGO_ENV": value}))
    assert message == (f"DJANGO_ENV must be exactly 'development' or 'production', not {value!r}.")


def test_unset_django_env_means_development(tmp_path):
    code = "from django.conf import settings; print(settings.DJANGO_ENV, settings.DEBUG)"
    result = start(tmp_path, {}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["development", "True"]


def test_production_with_nothing_set_names_every_missing_variable_in_one_line(tmp_path):
    message = refusal(start(tmp_path, {"DJANGO_ENV": "production"}))
    assert message.startswith("DJANGO_ENV=production refuses to start: ")
    for name in (
        "DJANGO_SECRET_KEY must be set",
        "ENTRA_CLIENT_ID must be set",
        "ENTRA_CLIENT_SECRET must be set",
        "DJANGO_ALLOWED_HOSTS must be set",
        "PORTAL_URL must be set",
        "EMAIL_HOST must be set",
    ):
        assert name in message


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_production_refuses_the_values_published_in_env_example(tmp_path):
    example = _env_example()
    env = valid_production(
        DJANGO_SECRET_KEY=example["DJANGO_SECRET_KEY"],
        ENTRA_CLIENT_ID=example["ENTRA_CLIENT_ID"],
        ENTRA_CLIENT_SECRET=example["ENTRA_CLIENT_SECRET"],
    )
    message = refusal(start(tmp_path, env))
    assert "DJANGO_SECRET_KEY is a known placeholder" in message
    assert "ENTRA_CLIENT_ID is a known placeholder" in message
    assert "ENTRA_CLIENT_SECRET is a known placeholder" in message
    assert len(example["DJANGO_SECRET_KEY"]) >= deployment.SECRET_KEY_MIN_LENGTH, (
        "the placeholder is refused as a placeholder, not merely for its length"
    )


def test_production_refuses_the_development_defaults(tmp_path):
    code = (
        "from django.conf import settings; print(settings.SECRET_KEY, settings.ENTRA_CLIENT_SECRET)"
    )
    result = start(tmp_path, {}, code)
    assert result.returncode == 0, result.stderr
    dev_key, dev_client_secret = result.stdout.split()
    message = refusal(
        start(
            tmp_path,
            valid_production(DJANGO_SECRET_KEY=dev_key, ENTRA_CLIENT_SECRET=dev_client_secret),
        )
    )
    assert "DJANGO_SECRET_KEY is a known placeholder" in message
    assert "ENTRA_CLIENT_SECRET is a known placeholder" in message


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"DJANGO_SECRET_KEY": "x" * 49}, "DJANGO_SECRET_KEY must be at least 50 characters"),
        (
            {"DJANGO_SECRET_KEY": "change-me-" + "k" * 60},
            "DJANGO_SECRET_KEY is a known placeholder",
        ),
        ({"DJANGO_SECRET_KEY": "Secret"}, "DJANGO_SECRET_KEY is a known placeholder"),
        ({"ENTRA_CLIENT_SECRET": "check"}, "ENTRA_CLIENT_SECRET is a known placeholder"),
        ({"ENTRA_CLIENT_SECRET": "q" * 31}, "ENTRA_CLIENT_SECRET must be at least 32 characters"),
        ({"PORTAL_URL": ""}, "PORTAL_URL must be set"),
        ({"PORTAL_URL": "http://vlsc.example"}, "PORTAL_URL must be an https:// address"),
        ({"PORTAL_URL": "https://other.example"}, "must be one of DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS must name the hosts, not '*'"),
        ({"EMAIL_HOST": ""}, "EMAIL_HOST must be set"),
    ],
)
def test_production_refuses_a_weak_or_missing_value(overrides, problem):
    env = valid_production(**overrides)
    problems = deployment.production_problems(
        secret_key=env["DJANGO_SECRET_KEY"],
        client_id=env["ENTRA_CLIENT_ID"],
        client_secret=env["ENTRA_CLIENT_SECRET"],
        portal_url=env["PORTAL_URL"],
        allowed_hosts=[h for h in env["DJANGO_ALLOWED_HOSTS"].split(",") if h],
        smtp=True,
        email_host=env["EMAIL_HOST"],
    )
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_short_secret_refuses_to_start_the_process(tmp_path):
    message = refusal(start(tmp_path, valid_production(DJANGO_SECRET_KEY="k" * 49)))
    assert message == (
        "DJANGO_ENV=production refuses to start: "
        "DJANGO_SECRET_KEY must be at least 50 characters (it has 49)."
    )


def test_a_valid_production_environment_passes_the_deployment_checks(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base_env(tmp_path), **valid_production()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_web_start_refuses_to_serve_when_the_deployment_checks_warn(tmp_path):
    """DEBUG on passes the settings' own rules but not check --deploy (security.W018): the
    start script must stop before gunicorn, or this would hang serving."""
    from entra_standin.testing import free_port

    env = {
        **base_env(tmp_path),
        **valid_production(DJANGO_DEBUG="true"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "WEB_BIND_ADDRESS": "127.0.0.1",
        "WEB_PORT": str(free_port()),
    }
    try:
        result = subprocess.run(
            ["deploy/start-web.sh"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test exists for
        pytest.fail("start-web.sh served although check --deploy reported a warning")
    assert result.returncode != 0
    assert "security.W018" in result.stderr
    assert "Booting worker" not in result.stderr + result.stdout


def test_redis_url_alone_puts_broker_results_and_cache_in_one_database(tmp_path):
    code = (
        "import json; from django.conf import settings; print(json.dumps(["
        "settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND,"
        "settings.CACHES['default']['LOCATION'], settings.CACHES['default']['KEY_PREFIX']]))"
    )
    shared = start(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6379/15"}, code)
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout) == ["redis://127.0.0.1:6379/15"] * 3 + ["vlsc"]
    split = start(
        tmp_path,
        {
            "REDIS_URL": "redis://redis:6379/0",
            "CELERY_BROKER_URL": "redis://redis:6379/0",
            "CELERY_RESULT_BACKEND": "redis://redis:6379/1",
            "CACHE_URL": "redis://redis:6379/2",
        },
        code,
    )
    assert split.returncode == 0, split.stderr
    assert json.loads(split.stdout) == [
        "redis://redis:6379/0",
        "redis://redis:6379/1",
        "redis://redis:6379/2",
        "vlsc",
    ]


@pytest.mark.parametrize(
    ("count", "forwarded_for", "client"),
    [
        (0, "198.51.100.9", "10.0.0.2"),  # no proxy trusted: the header is the client's own
        (1, "203.0.113.7", "203.0.113.7"),  # Caddy's X-Forwarded-For: the address it saw
        (1, "198.51.100.9, 203.0.113.7", "203.0.113.7"),  # a forged entry in front is ignored
    ],
)
def test_rate_limits_see_the_address_exactly_one_trusted_proxy_reports(
    settings, count, forwarded_for, client
):
    from allauth.account.adapter import get_adapter

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert get_adapter(request).get_client_ip(request) == client


def test_the_readme_settings_table_names_every_variable_the_settings_read():
    source = compose.settings_source()
    read = set(
        re.findall(r"\b(?:env_str|env_bool|env_int|env_list|environ\.get)\(\s*\"(\w+)\"", source)
    )
    assert {"DJANGO_ENV", "CACHE_URL", "ALLAUTH_TRUSTED_PROXY_COUNT", "PORTAL_URL"} <= read
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") : readme.index("## Running on PostgreSQL")]
    documented = set(re.findall(r"`(\w+)`", table))
    assert read <= documented, sorted(read - documented)
