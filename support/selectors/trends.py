"""Support's overview: registrations and sign-in outcomes per UTC day over the last 30 days.

Every figure is counted in the database (``GROUP BY`` the UTC day, and the outcome and the
organisation): two queries, one over registrations and one over the sign-in events, each
reading a range of a ``created_at`` index, so the page reads a few rows a day whatever the
number of events. The window
is the ``DAYS`` whole UTC days ending with today (today so far included): ``created_at >=``
midnight UTC ``DAYS - 1`` days ago, a range the ``created_at`` index of the sign-in events serves
(README, "Benchmarks": ``support_overview``).

An organisation is the tenant the identity provider named (``tid``), or, when it named none (an
error before the token, E03 among them), the domain of the address the person signed in with, so
a spike of refusals from one organisation shows whether or not a token came back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr, TruncDate
from django.utils.translation import gettext_lazy as _

from accounts.models import Registration, SignInEvent

DAYS = 30
TOP_ORGANISATIONS = 5
# A day's E03 refusals from one organisation are a spike from this many, and at least
# SPIKE_FACTOR times the organisation's average per day over the window.
SPIKE_MIN = 5
SPIKE_FACTOR = 3
E_CODES = ("E02", "E03", "E04", "E05", "E06")
SUCCESS = "success"
OTHER = "other"
OTHERS = "others"
# The outcome columns, in the order the charts and tables show them.
OUTCOMES = (SUCCESS, *E_CODES, OTHER)
OUTCOME_LABELS = {
    SUCCESS: _("Signed in"),
    **{code: code for code in E_CODES},
    OTHER: _("Other failure"),
}
REGISTRATION_SERIES = ("started", "completed", "expired")
REGISTRATION_LABELS = {
    "started": _("Started"),
    "completed": _("Completed"),
    "expired": _("Expired"),
}


@dataclass
class Series:
    """Counts per day (``values[i]`` is ``days[i]``) of one line in a chart."""

    key: str
    label: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Organisation:
    key: str  # a tenant id, "@domain", or OTHERS
    failures: list[int]  # per day
    e03: list[int]  # per day
    total_failures: int = 0
    spikes: list[bool] = field(default_factory=list)

    @property
    def spike_days(self) -> int:
        return sum(self.spikes)


@dataclass
class Trends:
    days: list[date]
    registrations: list[Series]
    outcomes: list[Series]
    organisations: list[Organisation] = field(default_factory=list)

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]


def window(*, now: datetime) -> tuple[list[date], datetime]:
    """The ``DAYS`` UTC days ending with ``now``'s, and the first one's midnight (UTC)."""
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    return days, datetime.combine(days[0], time.min, tzinfo=UTC)


Row = Mapping[str, Any]


# A registration completes or expires within REGISTRATION_WINDOW_HOURS (48 h) of being made:
# completing needs ``expires_at`` still ahead, and ``expires_at`` is set that long after
# ``created_at``. So those completed or expired in the window were made at most this long before
# it, and the made-at index bounds every registration query. A week leaves room for a longer
# window configured in the past.
PENDING_HORIZON = timedelta(days=7)


def registration_series(*, days: list[date], since: datetime) -> list[Series]:
    """Started (made), completed and expired registrations per UTC day: each counted on the day
    it happened (``created_at``, ``completed_at``, ``expires_at`` of an expired one). One query
    over a range of the ``created_at`` index (back to ``PENDING_HORIZON`` before the window),
    grouped by the three days and the state: a few rows per day made."""
    horizon = since - max(PENDING_HORIZON, timedelta(hours=settings.REGISTRATION_WINDOW_HOURS))
    rows = (
        Registration.objects.filter(created_at__gte=horizon)
        .annotate(
            made=TruncDate("created_at", tzinfo=UTC),
            completed=TruncDate("completed_at", tzinfo=UTC),
            expires=TruncDate("expires_at", tzinfo=UTC),
        )
        .values("made", "completed", "expires", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    index = {day: i for i, day in enumerate(days)}
    counts = {key: [0] * len(days) for key in REGISTRATION_SERIES}
    for row in rows:
        for key, day in (
            ("started", row["made"]),
            (
                "completed",
                row["completed"] if row["state"] == Registration.State.COMPLETED else None,
            ),
            ("expired", row["expires"] if row["state"] == Registration.State.EXPIRED else None),
        ):
            if day in index:
                counts[key][index[day]] += row["n"]
    return [Series(key, str(REGISTRATION_LABELS[key]), counts[key]) for key in REGISTRATION_SERIES]


def _attempts(since: datetime) -> QuerySet[SignInEvent]:
    """Sign-in attempts in the window (a sign-out is not one)."""
    return SignInEvent.objects.filter(created_at__gte=since).exclude(
        outcome=SignInEvent.Outcome.SIGNED_OUT
    )


_OUTCOME = Case(
    When(outcome=SignInEvent.Outcome.SIGNED_IN, then=Value(SUCCESS)),
    *(When(error_code=code, then=Value(code)) for code in E_CODES),
    default=Value(OTHER),
    output_field=CharField(),
)
# The tenant id, or "@domain" of the sign-in address when the provider named no tenant.
_ORGANISATION = Case(
    When(~Q(tenant_id=""), then=F("tenant_id")),
    When(~Q(address__contains="@"), then=Value("")),  # none, or not an address: no domain
    default=Substr("address", StrIndex("address", Value("@"))),
    output_field=CharField(),
)


def sign_in_counts(*, since: datetime) -> list[Row]:
    """Sign-in attempts since ``since`` counted by UTC day, outcome (``kind``: SUCCESS, an
    E-code or OTHER) and, for failures, organisation (``org``; "" for successes): one scan of
    the window through the ``created_at`` index, a row per (day, kind, org) that occurred, so
    at most a few rows a day per failing organisation, whatever the number of events."""
    return list(
        _attempts(since)
        .annotate(
            day=TruncDate("created_at", tzinfo=UTC),
            kind=_OUTCOME,
            org=Case(
                When(outcome=SignInEvent.Outcome.SIGNED_IN, then=Value("")),
                default=_ORGANISATION,
                output_field=CharField(),
            ),
        )
        .values("day", "kind", "org")
        .annotate(n=Count("id"))
        .order_by()
    )


def outcome_series(*, days: list[date], counts: list[Row]) -> list[Series]:
    """Sign-in attempts per UTC day by outcome: signed in, each of E02–E06, other failures."""
    per_day: dict[str, dict[date, int]] = {kind: defaultdict(int) for kind in OUTCOMES}
    for row in counts:
        per_day[row["kind"]][row["day"]] += row["n"]
    return [
        Series(kind, str(OUTCOME_LABELS[kind]), [per_day[kind][day] for day in days])
        for kind in OUTCOMES
    ]


def organisation_failures(
    *, days: list[date], counts: list[Row], top: int = TOP_ORGANISATIONS
) -> list[Organisation]:
    """The ``top`` organisations with the most failed sign-ins in the window (most first, ties by
    key), each with failures and E03 refusals per day, then everyone else as ``OTHERS`` (left out
    when there is nobody else). Spikes: days on which an organisation's E03 refusals reach
    ``SPIKE_MIN`` and ``SPIKE_FACTOR`` times its average per day."""
    index = {day: i for i, day in enumerate(days)}
    failures: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    e03: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for row in counts:
        if row["kind"] == SUCCESS or row["day"] not in index:
            continue
        failures[row["org"]][index[row["day"]]] += row["n"]
        if row["kind"] == "E03":
            e03[row["org"]][index[row["day"]]] += row["n"]
    ranking = sorted(failures, key=lambda org: (-sum(failures[org]), org))
    organisations = [
        Organisation(key=org, failures=failures[org], e03=e03[org]) for org in ranking[:top]
    ]
    if len(ranking) > top:  # someone beyond the top: the rest in one row
        rest = ranking[top:]
        organisations.append(
            Organisation(
                key=OTHERS,
                failures=[sum(failures[org][i] for org in rest) for i in range(len(days))],
                e03=[sum(e03[org][i] for org in rest) for i in range(len(days))],
            )
        )
    for organisation in organisations:
        organisation.total_failures = sum(organisation.failures)
        average = sum(organisation.e03) / len(days)
        organisation.spikes = [
            n >= SPIKE_MIN and n >= SPIKE_FACTOR * average for n in organisation.e03
        ]
    return organisations


def trends(*, now: datetime) -> Trends:
    """The overview's figures for the ``DAYS`` UTC days ending with ``now``'s."""
    days, since = window(now=now)
    counts = sign_in_counts(since=since)
    return Trends(
        days=days,
        registrations=registration_series(days=days, since=since),
        outcomes=outcome_series(days=days, counts=counts),
        organisations=organisation_failures(days=days, counts=counts),
    )
