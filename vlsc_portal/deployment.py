"""What production mode refuses to start with, read by ``settings.py`` before anything runs.

Production fails closed: a value that only looks configured (a placeholder copied from
``.env.example``, a development default, a short test value, an http address) stops every
process (web, worker, beat, migrate, manage.py) with one line naming every variable to fix,
instead of serving with a secret anyone can read in this repository.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

ENVIRONMENTS = ("development", "production")

# Django's own ``check --deploy`` (security.W009) asks for 50 characters in the secret key.
SECRET_KEY_MIN_LENGTH = 50
# Microsoft generates client secrets of 37 to 40 characters ("xxx9Q~" and 31 to 34 more), so 50
# would refuse every real one; 32 still refuses every placeholder and hand-typed test value.
CLIENT_SECRET_MIN_LENGTH = 32

# The secrets published in this repository: .env.example's, settings.py's development defaults,
# the tests' and the stand-in's own, and the obvious ones people type. Compared case-insensitively.
PLACEHOLDER_SECRETS = frozenset(
    {
        "change-me-to-a-long-random-string-of-at-least-50-characters",
        "change-me-to-the-app-registration-client-secret",
        "dev-only-insecure-key-not-for-production-0123456789",
        "dev-secret-change-me",
        "test-secret-not-for-production",
        "standin-test-secret",
        "collectstatic-only",
        "change-me",
        "changeme",
        "secret",
        "password",
        "check",
        "test",
        "x",
    }
)
# Words that mark a value as not meant to be used: someone who lengthened a placeholder to pass
# the length rule has still not chosen a secret.
PLACEHOLDER_MARKERS = (
    "change-me",
    "changeme",
    "change_me",
    "not-for-production",
    "insecure",
    "your-app-registration",
)


def environment(value: str | None) -> str:
    """``DJANGO_ENV`` as given: unset means development; anything but the two exact names
    (``Production``, ``prod``, `` production``, an empty string) raises, since a near miss
    would otherwise start with DEBUG on and the development secrets."""
    if value is None:
        return "development"
    if value not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"DJANGO_ENV must be exactly 'development' or 'production', not {value!r}."
        )
    return value


def is_placeholder(value: str) -> bool:
    folded = value.strip().lower()
    return folded in PLACEHOLDER_SECRETS or any(mark in folded for mark in PLACEHOLDER_MARKERS)


def _secret_problem(name: str, value: str, min_length: int) -> str | None:
    if not value:
        return f"{name} must be set"
    if is_placeholder(value):
        return f"{name} is a known placeholder, not a secret"
    if len(value) < min_length:
        return f"{name} must be at least {min_length} characters (it has {len(value)})"
    return None


def _client_id_problem(value: str) -> str | None:
    if not value:
        return "ENTRA_CLIENT_ID must be set"
    if is_placeholder(value):
        return "ENTRA_CLIENT_ID is a known placeholder, not the app registration's id"
    return None


def _portal_url_problems(portal_url: str, allowed_hosts: list[str]) -> list[str]:
    if not portal_url:
        return ["PORTAL_URL must be set to the portal's https:// address"]
    parts = urlsplit(portal_url)
    if parts.scheme != "https" or not parts.hostname:
        return [f"PORTAL_URL must be an https:// address, not {portal_url!r}"]
    if allowed_hosts and "*" not in allowed_hosts:
        from django.http.request import validate_host

        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        if not validate_host(host, allowed_hosts):
            return [f"PORTAL_URL's host {host!r} must be one of DJANGO_ALLOWED_HOSTS"]
    return []


def production_problems(
    *,
    secret_key: str,
    client_id: str,
    client_secret: str,
    portal_url: str,
    allowed_hosts: list[str],
    smtp: bool,
    email_host: str,
) -> list[str]:
    """Every reason production must not start with these values (empty: it may)."""
    problems = [
        _secret_problem("DJANGO_SECRET_KEY", secret_key, SECRET_KEY_MIN_LENGTH),
        _client_id_problem(client_id),
        _secret_problem("ENTRA_CLIENT_SECRET", client_secret, CLIENT_SECRET_MIN_LENGTH),
    ]
    if not allowed_hosts:
        problems.append("DJANGO_ALLOWED_HOSTS must be set")
    elif "*" in allowed_hosts:
        problems.append("DJANGO_ALLOWED_HOSTS must name the hosts, not '*'")
    problems += _portal_url_problems(portal_url, allowed_hosts)
    if smtp and not email_host:
        problems.append("EMAIL_HOST must be set (production sends email through SMTP)")
    return [problem for problem in problems if problem]


def refuse_production(problems: list[str]) -> None:
    """Raise one one-line :class:`ImproperlyConfigured` naming every problem, if there is any."""
    if problems:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production refuses to start: " + "; ".join(problems) + "."
        )
