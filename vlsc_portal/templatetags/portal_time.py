"""The one way the portal shows a date or a time (README "Languages and time zones").

``{{ value|datetime }}`` gives ``<time datetime="2026-11-30T14:03:00Z" title="2026-11-30 14:03
UTC">30 novembre 2026 23:03 JST</time>``: the text in the active language's own format
(Django's ``DATETIME_FORMAT``, ``DATE_FORMAT`` or ``TIME_FORMAT``) and the active time zone
(accounts.middleware.PersonalPreferencesMiddleware), followed by the zone's abbreviation; the
machine-readable value and the tooltip in UTC, the portal's reference time, which support and the
logs use. Everyone gets the tooltip: it costs nothing, and a person quoting a time to support
can read it in UTC. ``|datetime:"date"`` shows the date only, ``|datetime:"time"`` the time
only. ``None`` shows as nothing, so ``|default:"—"`` works after it.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from vlsc_portal.timezones import FORMATS, local_text

register = template.Library()


@register.filter(name="datetime")
def datetime_filter(value: dt.datetime | dt.date | None, style: str = "datetime") -> SafeString:
    if value is None or value == "":
        return SafeString("")
    if style not in FORMATS:
        raise template.TemplateSyntaxError(f"datetime: unknown style {style!r}")
    if not isinstance(value, dt.datetime):  # a calendar date: no time zone to convert
        return format_html(
            '<time datetime="{}">{}</time>', value.isoformat(), date_format(value, "DATE_FORMAT")
        )
    utc = value.astimezone(dt.UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        local_text(value, style),
    )


@register.simple_tag(name="now_datetime")
def now_datetime(style: str = "datetime") -> SafeString:
    """``{% now_datetime %}``: the current time, shown as ``|datetime`` shows any other."""
    return datetime_filter(timezone.now(), style)
