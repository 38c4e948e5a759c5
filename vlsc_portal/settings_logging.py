"""Logging: every record on the console, one line each, with the reference id of the request it
belongs to (``vlsc_portal.middleware.ReferenceIdLogFilter``; a 500 page shows the same id).
``LOG_LEVEL`` sets the level (README "Settings"). ``vlsc_portal/settings.py`` includes it."""

from __future__ import annotations

from vlsc_portal.env import env_str

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"reference_id": {"()": "vlsc_portal.middleware.ReferenceIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [ref=%(reference_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["reference_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
