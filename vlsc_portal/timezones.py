"""Time zones people may choose: the IANA names Python's ``zoneinfo`` knows (README "Languages
and time zones"). The browser's detected zone (``Intl.DateTimeFormat().resolvedOptions()
.timeZone``, sent in the ``tz`` cookie by static/js/portal.js) and the preferences page are both
checked against this list, so no other string ever reaches ``timezone.activate``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia); anything much longer
# is not worth looking up.
MAX_NAME_LENGTH = 64
# Names in the tz database's folder that name no place: Debian's link to the machine's own zone
# (whatever that is on the server) and the database's placeholder for machines not yet set up
# (its abbreviation is "-00").
NOT_PLACES = frozenset({"localtime", "Factory"})


@cache
def available() -> frozenset[str]:
    """Every IANA name of a place this machine's tz database holds. Read once per process:
    listing them walks the database's files."""
    return frozenset(zoneinfo.available_timezones()) - NOT_PLACES


@cache
def choices() -> list[tuple[str, str]]:
    """The names, sorted, as form choices (the name is its own label)."""
    return [(name, name) for name in sorted(available())]


def is_valid(name: object) -> bool:
    return isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and name in available()


def validate_time_zone(value: str) -> None:
    if value and not is_valid(value):
        raise ValidationError(
            _("“%(value)s” is not a time zone name. Choose one from the list, e.g. Europe/Paris."),
            code="invalid_time_zone",
            params={"value": value[:MAX_NAME_LENGTH]},
        )


FORMATS = {"datetime": "DATETIME_FORMAT", "date": "DATE_FORMAT", "time": "TIME_FORMAT"}


def local_text(value: dt.datetime, style: str = "datetime") -> str:
    """The plain text: in the active language and time zone, with the zone's abbreviation
    (except for a date alone)."""
    local = timezone.localtime(value)
    text = date_format(local, FORMATS[style])
    return text if style == "date" else f"{text} {date_format(local, 'T')}"
