"""The support overview page's content: the figures of ``selectors.trends`` as charts (``charts``)
and as the rows of the tables beside them, drawn from the same lists so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from support import charts
from support.selectors import trends as figures


@dataclass
class OrganisationColumn:
    key: str
    label: str  # short, for the chart
    name: str  # in full, for the table


@dataclass
class DayRow:
    day: date
    values: list[int]


@dataclass
class OrganisationCell:
    failures: int
    e03: int
    spike: bool


def organisation_names(key: str) -> tuple[str, str]:
    """(short label, full name) of an organisation key: a tenant id, "@domain" or OTHERS."""
    if key == figures.OTHERS:
        name = _("All other organisations")
        return name, name
    if not key:
        name = _("Unknown (no tenant, no address)")
        return name, name
    if key.startswith("@"):
        return key[1:], key[1:]
    if key == settings.CONSUMER_TENANT_ID:  # Microsoft's tenant of every personal account
        name = _("Personal Microsoft accounts")
        return name, name
    return _("tenant %(id)s…") % {"id": key[:8]}, _("tenant %(id)s") % {"id": key}


def _day_rows(days: list[date], series: list[figures.Series]) -> list[DayRow]:
    return [DayRow(day, [s.values[i] for s in series]) for i, day in enumerate(days)]


def context(*, now: datetime) -> dict[str, Any]:
    data = figures.trends(now=now)
    days = data.days
    span = {"first": days[0].isoformat(), "last": days[-1].isoformat(), "days": figures.DAYS}

    registrations_chart: SafeString = charts.small_multiples(
        chart_id="chart-registrations",
        title=_("Registrations per day"),
        desc=_(
            "Registrations started, completed and expired per UTC day from %(first)s to "
            "%(last)s, one panel each on its own scale, with its total and peak. The numbers are "
            "in the table that follows."
        )
        % span,
        days=days,
        panels=[charts.Panel(s.label, s.values) for s in data.registrations],
    )
    outcomes_chart = charts.small_multiples(
        chart_id="chart-outcomes",
        title=_("Sign-in outcomes per day"),
        desc=_(
            "Sign-in attempts per UTC day from %(first)s to %(last)s by outcome: signed in, each "
            "error code E02 to E06, and other failures, one panel each on its own scale, with "
            "its total and peak. The numbers are in the table that follows."
        )
        % span,
        days=days,
        panels=[charts.Panel(s.label, s.values) for s in data.outcomes],
    )
    columns = [OrganisationColumn(o.key, *organisation_names(o.key)) for o in data.organisations]
    spikes = [
        (column.name, days[i])
        for column, o in zip(columns, data.organisations, strict=True)
        for i, spike in enumerate(o.spikes)
        if spike
    ]
    organisations_chart = charts.small_multiples(
        chart_id="chart-organisations",
        title=_("Failed sign-ins per day, by organisation"),
        desc=(
            _(
                "Failed sign-ins per UTC day from %(first)s to %(last)s for the %(top)s "
                "organisations with the most, then all others, one panel each on its own scale. "
                "The hatched part of each bar is E03 refusals; a triangle under a day marks a "
                "spike of E03."
            )
            % {**span, "top": figures.TOP_ORGANISATIONS}
            + " "
            + (
                _("Spikes: %(list)s.")
                % {"list": "; ".join(f"{name}, {day.isoformat()}" for name, day in spikes)}
                if spikes
                else _("No spike of E03.")
            )
        ),
        days=days,
        panels=[
            charts.Panel(column.label, o.failures, marked=o.e03, spikes=o.spikes)
            for column, o in zip(columns, data.organisations, strict=True)
        ],
        marked_label=_("hatched: E03, ▲: spike of E03"),
    )
    organisation_rows = [
        (
            day,
            [
                OrganisationCell(o.failures[i], o.e03[i], o.spikes[i] if o.spikes else False)
                for o in data.organisations
            ],
        )
        for i, day in enumerate(days)
    ]
    return {
        "trends": data,
        "span": span,
        "now": now,
        "registrations_chart": registrations_chart,
        "registration_rows": _day_rows(days, data.registrations),
        "outcomes_chart": outcomes_chart,
        "outcome_rows": _day_rows(days, data.outcomes),
        "organisations_chart": organisations_chart,
        "organisation_columns": columns,
        "organisation_rows": organisation_rows,
        "spikes": spikes,
    }
