"""Reading settings from the environment: the helpers ``vlsc_portal/settings.py`` and the
settings modules it includes use for every variable (README "Settings")."""

from __future__ import annotations

import os

__all__ = ["env_bool", "env_int", "env_list", "env_str"]


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
