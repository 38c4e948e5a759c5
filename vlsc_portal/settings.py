"""Settings for VLSC Portal, read from the environment.

With no environment variables at all the portal runs on embedded defaults that need no server:
SQLite, a filesystem Celery broker, a file-based cache, emails written to the dev mailbox (a
Maildir the Entra ID stand-in shows), and the stand-in as identity provider. ``DATABASE_URL``
switches to PostgreSQL, ``REDIS_URL`` to Redis for the broker, results and the cache.
``DJANGO_ENV`` is ``development`` (the default) or ``production``, nothing else. Production
mode fails closed: it refuses to start with a missing, placeholder or short secret, without an
https ``PORTAL_URL`` or without ``DJANGO_ALLOWED_HOSTS`` (``vlsc_portal/deployment.py``), and it
passes ``manage.py check --deploy --fail-level WARNING``, which the web container runs before
serving. The README's settings table lists every variable read here and in the modules this
one includes: ``settings_accounts`` (sign-in, accounts, rate limits), ``settings_headers``
(Content-Security-Policy, Permissions-Policy) and ``settings_logging``; ``vlsc_portal/env.py``
reads the environment for all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

from vlsc_portal import deployment
from vlsc_portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


DJANGO_ENV = deployment.environment(os.environ.get("DJANGO_ENV"))
PRODUCTION = DJANGO_ENV == "production"
VAR_DIR = Path(env_str("VLSC_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Production has no default: the checks at the end of this file refuse an empty or weak key.
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "" if PRODUCTION else "dev-only-insecure-key-not-for-production-0123456789"
)

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "vlsc_portal.admin_config.PortalAdminConfig",  # django.contrib.admin, the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "django_countries",
    "vlsc_portal",  # its management commands (beat_alive, the beat container's health check)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "accounts.entra",
    "accounts",
    "notifications",
    "agreements",
    "support",
    "ninja",  # the provisioning API's reference page from local static files, no CDN
    "api",
]

MIDDLEWARE = [
    "vlsc_portal.middleware.ReferenceIdMiddleware",
    "api.middleware.ProblemDetailsMiddleware",  # every error under /api/ as problem+json
    "vlsc_portal.outages.ServiceUnavailableMiddleware",
    "vlsc_portal.middleware.RejectMalformedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "vlsc_portal.headers.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vlsc_portal.headers.SignedInPagesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.sessions.SessionAgeLimitMiddleware",
    # After authentication: the signed-in person's language and time zone (README "Languages
    # and time zones"); LocaleMiddleware above chose from the cookie and Accept-Language.
    "accounts.middleware.PersonalPreferencesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

if PRODUCTION:  # collected static files, served by the web process itself
    MIDDLEWARE.insert(3, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "vlsc_portal.urls"
WSGI_APPLICATION = "vlsc_portal.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "vlsc_portal.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite by default, DATABASE_URL (postgres://...) otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy timeout lets the web process, the worker and beat share one SQLite file.
    # WAL and IMMEDIATE transactions: readers do not block the writer, and a transaction that
    # will write waits for the lock up front instead of failing "database is locked" mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file too: the live server, the Celery worker thread and the test share it, and
    # an in-memory shared-cache database has table locks without a busy timeout.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Redis (broker, results, cache) when REDIS_URL is set; embedded equivalents otherwise.
# Each role takes its own URL, defaulting to REDIS_URL: one database for all three suits
# development and CI (the cache's keys carry its KEY_PREFIX, and the tests empty only those), while
# a deployment gives each role its own database (docker-compose: broker 0, results 1, cache 2), so
# that even the cache's clear(), a FLUSHDB, can never touch a queue. Celery itself also reads
# CELERY_BROKER_URL and CELERY_RESULT_BACKEND from the environment, so both agree.
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_CONNECT_TIMEOUT = 1.0  # seconds: the cache's and the rate limiter's Redis clients
REDIS_SOCKET_TIMEOUT = 2.0
if REDIS_URL:
    CACHE_URL = env_str("CACHE_URL") or REDIS_URL
    # Django's own Redis backend. redis-py waits 5 s to connect and 5 s for each reply by
    # default, so a Redis that hangs (rather than refusing) would hold a web worker that long for
    # every cache call: a local Redis answers in well under a millisecond, and the largest value
    # cached in a few. Callers treat the timeout like a refused connection
    # (vlsc_portal.outages.CACHE_UNAVAILABLE).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "vlsc",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    # The rate limiter counts in the cache's Redis (vlsc_portal/ratecounters.py), atomically, and
    # without a database write; without Redis it counts in the database.
    RATE_LIMIT_REDIS_URL = CACHE_URL
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
    CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or REDIS_URL
    # Without socket timeouts kombu waits for ever on a Redis that hangs (a publish, /healthz).
    # max_retries: a publish from a web request tries the connection twice, then gives up (the
    # outbox row waits for beat); the worker reconnects by its own broker_connection_retry.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
    }
else:
    RATE_LIMIT_REDIS_URL = ""
    # File-based so the web process, the worker and beat see one cache (heartbeat).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    _broker_dir = VAR_DIR / "celery" / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport with atomic writes and claims (vlsc_portal/broker.py).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "vlsc_portal.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "polling_interval": 0.2,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"

# Template fragments that depend only on the code, the language and what the cache tag names (the
# landing page's text, the app shell's asset links, brand, navigation by page and role, footer and
# language choices): each process keeps them in memory. Off while developing, so edits show at once.
CACHES["static_fragments"] = {
    "BACKEND": (
        "django.core.cache.backends.dummy.DummyCache"
        if DEBUG
        else "django.core.cache.backends.locmem.LocMemCache"
    ),
    "LOCATION": "static-fragments",
}

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A publish that fails is not retried while a request waits: every task the portal queues from a
# request is an outbox email whose row waits and is handed over again by beat
# (notifications.requeue_stale_emails), so nothing is lost by failing at once.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Database connections in a worker live as in a web process (DATABASE_CONN_MAX_AGE): Celery's
# Django fixup would close them around every task; vlsc_portal.celery closes old ones instead,
# and the fixup only recycles them after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Database connections the registration expiry spreads a large backlog over (one on SQLite).
EXPIRY_PARALLELISM = env_int("EXPIRY_PARALLELISM", 2)
# An email claimed for sending this long ago whose worker died is handed over again (README
# "Reliability": longer than any send can take, EMAIL_TIMEOUT per SMTP step).
OUTBOX_STALE_SENDING_SECONDS = env_int("OUTBOX_STALE_SENDING_SECONDS", 600)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "heartbeat": {
        "task": "vlsc_portal.tasks.heartbeat",
        "schedule": env_int("CELERY_HEARTBEAT_SECONDS", 30),
    },
    "requeue-stale-emails": {
        "task": "notifications.requeue_stale_emails",
        "schedule": env_int("OUTBOX_REQUEUE_SECONDS", 60),
    },
    "expire-abandoned-conversions": {
        "task": "accounts.tasks.expire_abandoned_conversions",
        "schedule": 300,
    },
    "expire-pending-registrations": {
        "task": "accounts.tasks.expire_pending_registrations",
        "schedule": 60,
    },
    "purge-rate-counters": {"task": "vlsc_portal.tasks.purge_rate_counters", "schedule": 3600},
    "purge-idempotency-keys": {"task": "api.tasks.purge_idempotency_keys", "schedule": 3600},
    "send-access-change-emails": {
        "task": "agreements.send_access_change_emails",
        "schedule": 60,
    },
}
# Changes to a person's access on an agreement made within this many seconds of each other
# become one email, sent once none has been made for this long (agreements.services.
# access_changes).
ACCESS_CHANGE_EMAIL_DELAY = env_int("ACCESS_CHANGE_EMAIL_DELAY", 180)

# Email: SMTP in production; the dev mailbox (a Maildir read by the stand-in) otherwise.
MAILBOX_DIR = Path(env_str("MAILBOX_DIR", str(VAR_DIR / "mailbox")))
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "vlsc_portal.mail.MaildirEmailBackend",
)
# Production has no SMTP host by default: one left unset would send every email to a localhost
# that, in a container, nothing answers on (the checks at the end refuse it).
EMAIL_HOST = env_str("EMAIL_HOST") or ("" if PRODUCTION else "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the first byte, usually port 465
EMAIL_TIMEOUT = 20
# The portal's public address, for links in emails sent where no request is at hand
# (required, https, in production).
PORTAL_URL = env_str("PORTAL_URL", "" if PRODUCTION else "http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "VLSC Portal <no-reply@vlsc.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sign-in: MSAL against Microsoft in production, against the Entra ID stand-in in development.
STANDIN_HTTP_URL = "" if PRODUCTION else env_str("STANDIN_HTTP_URL", "http://localhost:8001")
STANDIN_TLS_URL = "" if PRODUCTION else env_str("STANDIN_TLS_URL", "https://127.0.0.1:8443")
ENTRA_AUTHORITY_HOST = env_str(
    "ENTRA_AUTHORITY_HOST", "https://login.microsoftonline.com" if PRODUCTION else STANDIN_TLS_URL
)
ENTRA_TENANT = env_str("ENTRA_TENANT", "common")
ENTRA_CLIENT_ID = env_str("ENTRA_CLIENT_ID", "" if PRODUCTION else "vlsc-portal-dev")
ENTRA_CLIENT_SECRET = env_str("ENTRA_CLIENT_SECRET", "" if PRODUCTION else "dev-secret-change-me")
# A CA bundle for the authority's TLS (the stand-in's locally generated CA in development).
ENTRA_CA_BUNDLE = env_str(
    "ENTRA_CA_BUNDLE", "" if PRODUCTION else str(VAR_DIR / "standin" / "ca.pem")
)
# MSAL's instance discovery asks Microsoft about the authority; a local authority skips it.
ENTRA_INSTANCE_DISCOVERY = env_bool("ENTRA_INSTANCE_DISCOVERY", PRODUCTION)
ENTRA_ALLOWED_TENANTS = env_list("ENTRA_ALLOWED_TENANTS", [])
# The provisioning API's audiences: its application ID URI and, in production, its application
# (client) id too (Entra's v2.0 access tokens carry the client id in ``aud``).
API_AUDIENCES = env_list("API_AUDIENCES", ["api://vlsc-portal"])
CONSUMER_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

# Sign-in, accounts and their limits (vlsc_portal/settings_accounts.py).
from vlsc_portal.settings_accounts import *  # noqa: E402, F403

# Four languages (README "Languages and time zones"). Each is named in its own language, so
# that someone who cannot read the page they are on still finds theirs in the switcher: these
# names are deliberately not marked for translation. The language of a request is the signed-in
# person's stored choice (accounts.middleware.PersonalPreferencesMiddleware), else the switcher's
# cookie, else Accept-Language, else English (django.middleware.locale.LocaleMiddleware).
# The catalogues are locale/<code>/LC_MESSAGES/django.po, compiled by the build
# (`manage.py compilemessages`: make install, make install-test, the Dockerfile).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Sessions: signed-in sessions end with the browser or after 8 hours, whichever comes first.
# Sessions read from the cache, written through to the database (survive a cache flush).
SESSION_ENGINE = "vlsc_portal.sessions"  # cached_db that falls back to the database
SESSION_COOKIE_NAME = "vlsc_sessionid"
CSRF_COOKIE_NAME = "vlsc_csrftoken"
# The cookie has no Max-Age (it ends with the browser); the 8 hours are counted from sign-in and
# enforced on the server by accounts.sessions.SessionAgeLimitMiddleware.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy and Permissions-Policy (vlsc_portal/settings_headers.py).
from vlsc_portal.settings_headers import *  # noqa: E402, F403

DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Client addresses (rate limits per IP) behind the TLS-terminating proxy: trust exactly as many
# X-Forwarded-For entries, counted from the right, as there are proxies of our own (1 behind
# docker-compose's Caddy, which replaces whatever the client sent). 0, the default, trusts none
# and uses the connection's address, so a client cannot choose its own by sending the header.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 0)
# Or a header one proxy sets to the client's address alone (e.g. X-Real-IP); wins when set.
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("ALLAUTH_TRUSTED_CLIENT_IP_HEADER") or None

if PRODUCTION:
    deployment.refuse_production(
        deployment.production_problems(
            secret_key=SECRET_KEY,
            client_id=ENTRA_CLIENT_ID,
            client_secret=ENTRA_CLIENT_SECRET,
            portal_url=PORTAL_URL,
            allowed_hosts=ALLOWED_HOSTS,
            smtp=EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend",
            email_host=EMAIL_HOST,
        )
    )
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Set by the proxy (the web port is reachable from the proxy only, never published).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # /healthz is probed over plain http inside the deployment network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Logging: one line per record with the request's reference id (vlsc_portal/settings_logging.py).
from vlsc_portal.settings_logging import *  # noqa: E402, F403

CSRF_FAILURE_VIEW = "vlsc_portal.errors.csrf_failure"
