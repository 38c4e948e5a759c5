"""A person's language and time zone (README "Languages and time zones")."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from vlsc_portal import timezones


def is_language(code: object) -> bool:
    return isinstance(code, str) and code in dict(settings.LANGUAGES)


def remember_language(*, user: User, language: str) -> None:
    """The switcher's choice, kept for the signed-in person (pages and emails)."""
    if not is_language(language):
        raise ValueError(f"not one of the portal's languages: {language[:16]!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def save_preferences(*, user: User, language: str, time_zone: str) -> None:
    """The preferences page's choices."""
    if not is_language(language):
        raise ValueError(f"not one of the portal's languages: {language[:16]!r}")
    if not timezones.is_valid(time_zone):
        raise ValueError(f"not a time zone: {time_zone[:64]!r}")
    user.language = language
    user.time_zone = time_zone
    user.save(update_fields=["language", "time_zone"])
