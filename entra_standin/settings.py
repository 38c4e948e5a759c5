"""Settings of the Entra ID stand-in (a development and test tool, never for production)."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from entra_standin import config
from entra_standin.directory import access_tokens

if os.environ.get("DJANGO_ENV", "").lower() == "production":
    raise ImproperlyConfigured(
        "The Entra ID stand-in is a development tool and refuses to run with DJANGO_ENV=production."
    )

BASE_DIR = config.PACKAGE_DIR
STANDIN_DATA_DIR = config.data_dir()
MAILBOX_DIR = config.mailbox_dir()
STANDIN_HTTP_URL = config.http_url()
STANDIN_TLS_URL = config.tls_url()

SECRET_KEY = os.environ.get(
    "STANDIN_SECRET_KEY", "standin-dev-only-not-secret-3f9a1c7e0b2d4e6f8a9b0c1d2e3f4a5b"
)
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
for _url in (STANDIN_HTTP_URL, STANDIN_TLS_URL):
    _host = urlsplit(_url).hostname
    if _host and _host not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_host)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "entra_standin.directory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "entra_standin.urls"
WSGI_APPLICATION = "entra_standin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STANDIN_DATA_DIR / config.DB_FILE,
        # WAL lets sign-ins read while a token is written; IMMEDIATE transactions take the write
        # lock up front, so concurrent sign-ins wait (busy timeout) instead of failing "locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}

AUTH_USER_MODEL = "standin_directory.User"
AUTH_PASSWORD_VALIDATORS = []
# A dev tool: cheap hashing keeps sign-ins and token requests (client secret checks) fast.
PASSWORD_HASHERS = [
    "entra_standin.directory.hashers.StandinPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "standin:signin"

# Cookies ignore ports: the portal on localhost:8000 must not share these.
SESSION_COOKIE_NAME = "standin_sessionid"
CSRF_COOKIE_NAME = "standin_csrftoken"
CSRF_TRUSTED_ORIGINS = [STANDIN_HTTP_URL, STANDIN_TLS_URL]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _signing_key() -> str:
    path = STANDIN_DATA_DIR / config.SIGNING_KEY_FILE
    return path.read_text() if path.exists() else ""


OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _signing_key(),
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "entra_standin.directory.oidc.EntraValidator",
    "SCOPES": {
        "openid": "Sign you in",
        "profile": "View your basic profile",
        "email": "View your email address",
        "offline_access": "Maintain access to data you have given it access to",
        "User.Read": "Sign you in and read your profile",
        **access_tokens.api_scopes(),
    },
    "DEFAULT_SCOPES": ["openid"],
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 300,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    # Entra-shaped JWT access tokens for the portal's API (access_tokens.py); refresh tokens
    # stay opaque random strings.
    "ACCESS_TOKEN_GENERATOR": "entra_standin.directory.access_tokens.generate",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
