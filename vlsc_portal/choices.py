"""Choice labels for lists of rows."""

from __future__ import annotations

_CHOICES: dict[tuple[type, str], dict] = {}


def choice_label(obj, field: str) -> str:
    """``obj.get_<field>_display()`` without its per-call rebuild of the choices: Django hashes
    every choice label on every call, which shows on pages of dozens or hundreds of rows."""
    key = (type(obj), field)
    labels = _CHOICES.get(key)
    if labels is None:
        labels = dict(type(obj)._meta.get_field(field).flatchoices)
        _CHOICES[key] = labels
    value = getattr(obj, field)
    return str(labels.get(value, value))
