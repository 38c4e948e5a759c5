"""Support's overview (issue 15 item 7): the per-day figures, counted in the database over the
last 30 UTC days, the SVG charts and the tables that carry the same numbers."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Registration, SignInEvent, User
from support import charts
from support.selectors import trends

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # just after midnight UTC: edges are close
TODAY = date(2026, 11, 30)
FIRST_DAY = date(2026, 11, 1)
_numbers = itertools.count()


def event(at: datetime, *, code: str = "", tenant: str = "", address: str = "", **extra):
    outcome = extra.pop("outcome", "signed_in" if not code else "refused")
    made = SignInEvent.objects.create(
        reference_id=f"T{next(_numbers):011d}",
        outcome=outcome,
        error_code=code,
        tenant_id=tenant,
        address=address,
        **extra,
    )
    SignInEvent.objects.filter(pk=made.pk).update(created_at=at)  # auto_now_add otherwise
    return made


def registration(created: datetime, *, state: str = "pending", n: int = 0, **extra):
    user = User.objects.create(username=f"person-{n}", email=f"p{n}@contoso.com")
    fields = {
        "user": user,
        "sign_in_address": f"p{n}@contoso.com",
        "invitation_address": f"i{n}@contoso.com",
        "created_at": created,
        "expires_at": created + timedelta(hours=48),
        "nonce": f"{n:032d}",
        "state": state,
    }
    return Registration.objects.create(**{**fields, **extra})


def at(day: date, hour: int = 12, minute: int = 0, **kw) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC, **kw)


def series(result, key: str) -> list[int]:
    return next(s.values for s in result if s.key == key)


# --- the window --------------------------------------------------------------------------------


def test_the_window_is_30_utc_days_ending_today():
    days, since = trends.window(now=NOW)
    assert len(days) == 30 and days[0] == FIRST_DAY and days[-1] == TODAY
    assert since == datetime(2026, 11, 1, tzinfo=UTC)
    # The same instant seen from Tokyo (already the 30th, 09:30) or from Los Angeles (still
    # the 29th) is the same window: days are UTC days.
    from zoneinfo import ZoneInfo

    for zone in ("Asia/Tokyo", "America/Los_Angeles"):
        assert trends.window(now=NOW.astimezone(ZoneInfo(zone))) == (days, since)


def test_events_count_on_their_utc_day_and_the_edges_of_the_window_hold():
    event(datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=UTC))  # a microsecond too early
    event(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))  # the first instant in
    event(datetime(2026, 11, 15, 23, 59, 59, tzinfo=UTC))  # late evening UTC of the 15th
    event(datetime(2026, 11, 16, 0, 0, 1, tzinfo=UTC))
    event(datetime(2026, 11, 30, 0, 10, tzinfo=UTC))  # today so far
    with timezone.override("Asia/Tokyo"):  # the active time zone does not move a day
        result = trends.trends(now=NOW)
    success = series(result.outcomes, "success")
    assert len(success) == 30 and sum(success) == 4
    assert success[0] == 1  # 1 November
    assert success[14] == 1 and success[15] == 1  # 15 and 16 November
    assert success[-1] == 1
    assert success.count(0) == 26  # empty days are there, as zeros


def test_outcomes_are_split_by_e_code_with_other_failures_apart_and_sign_outs_left_out():
    day = date(2026, 11, 20)
    for code, n in (("E02", 1), ("E03", 3), ("E04", 2), ("E05", 1), ("E06", 4)):
        for _ in range(n):
            event(at(day), code=code)
    event(at(day))
    event(at(day))
    event(at(day), outcome="invalid_callback")  # no code: another failure
    event(at(day), code="tenant_n", outcome="refused")  # a code outside E02–E06
    event(at(day), outcome="signed_out")  # not an attempt
    result = trends.trends(now=NOW)
    index = (day - FIRST_DAY).days
    got = {s.key: s.values[index] for s in result.outcomes}
    assert got == {
        "success": 2,
        "E02": 1,
        "E03": 3,
        "E04": 2,
        "E05": 1,
        "E06": 4,
        "other": 2,
    }
    assert [s.key for s in result.outcomes] == ["success", *trends.E_CODES, "other"]


def test_registrations_count_started_completed_and_expired_on_the_day_each_happened():
    d1, d2, d3 = date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 13)
    registration(at(d1), n=1)
    registration(at(d1), n=2, state="completed", completed_at=at(d2))
    registration(at(d1), n=3, state="expired")  # expires 48 h later: on the 12th
    registration(at(d3), n=4, state="completed", completed_at=at(d3, 13))
    # Made before the window, completed (within its 48 hours) inside it: completed, not started.
    registration(at(date(2026, 10, 30), 20), n=5, state="completed", completed_at=at(FIRST_DAY))
    registration(at(date(2026, 10, 30), 20), n=6, state="expired")  # expires 1 November, 20:00
    result = trends.trends(now=NOW)
    i = {d: (d - FIRST_DAY).days for d in (FIRST_DAY, d1, d2, d3, date(2026, 11, 12))}
    started = series(result.registrations, "started")
    completed = series(result.registrations, "completed")
    expired = series(result.registrations, "expired")
    assert started[i[d1]] == 3 and started[i[d3]] == 1 and sum(started) == 4
    assert completed[i[FIRST_DAY]] == 1 and completed[i[d2]] == 1 and completed[i[d3]] == 1
    assert sum(completed) == 3
    assert expired[i[FIRST_DAY]] == 1 and expired[i[date(2026, 11, 12)]] == 1
    assert sum(expired) == 2


def test_organisations_are_the_top_five_by_failures_then_the_others():
    day = date(2026, 11, 25)
    for n, count in enumerate((7, 6, 5, 4, 3, 2, 1)):
        for _ in range(count):
            event(at(day), code="E02", tenant=f"tenant-{n}")
    event(at(day), tenant="tenant-6")  # a success: not a failure, ranks nothing
    event(at(day), code="E03", address="ann@fabrikam.com")  # no tenant: the address's domain
    result = trends.trends(now=NOW)
    keys = [o.key for o in result.organisations]
    assert keys == ["tenant-0", "tenant-1", "tenant-2", "tenant-3", "tenant-4", trends.OTHERS]
    others = result.organisations[-1]
    index = (day - FIRST_DAY).days
    assert others.failures[index] == 2 + 1 + 1  # tenant-5, tenant-6, @fabrikam.com
    assert others.e03[index] == 1
    assert [o.total_failures for o in result.organisations] == [7, 6, 5, 4, 3, 4]


def test_without_anybody_beyond_the_top_there_is_no_others_row_and_domains_stand_for_tenants():
    event(at(date(2026, 11, 3)), code="E03", address="ann@fabrikam.com")
    event(at(date(2026, 11, 3)), code="E03", address="bob@fabrikam.com")
    event(at(date(2026, 11, 4)), code="E05", tenant="t-1")
    result = trends.trends(now=NOW)
    assert [(o.key, o.total_failures) for o in result.organisations] == [
        ("@fabrikam.com", 2),
        ("t-1", 1),
    ]


def test_a_failure_whose_address_has_no_domain_counts_as_unknown_not_as_a_tenant():
    event(at(date(2026, 11, 3)), code="E03", address="jdoe")
    result = trends.trends(now=NOW)
    assert [(o.key, o.total_failures) for o in result.organisations] == [("", 1)]


def test_a_spike_of_e03_for_one_organisation_is_flagged_on_its_day_only():
    spike_day = date(2026, 11, 28)
    for day in (FIRST_DAY + timedelta(days=n) for n in range(30)):
        event(at(day), code="E03", tenant="steady")  # one a day: no spike
        event(at(day), code="E02", tenant="steady")
    for _ in range(12):
        event(at(spike_day, 9), code="E03", tenant="contoso")
    event(at(date(2026, 11, 2)), code="E03", tenant="contoso")
    result = trends.trends(now=NOW)
    by_key = {o.key: o for o in result.organisations}
    assert by_key["contoso"].spikes[(spike_day - FIRST_DAY).days]
    assert by_key["contoso"].spike_days == 1
    assert by_key["steady"].spike_days == 0


def test_the_figures_take_the_same_few_queries_however_many_events():
    with CaptureQueriesContext(connection) as none:
        trends.trends(now=NOW)
    counts = []
    for round_ in range(2):
        for n in range(20):
            event(at(FIRST_DAY + timedelta(days=n % 30)), code="E03", tenant=f"t{round_}-{n}")
        with CaptureQueriesContext(connection) as queries:
            trends.trends(now=NOW)
        counts.append(len(queries.captured_queries))
    # One for registrations, one for the sign-in events.
    assert len(none.captured_queries) == 2 and counts == [2, 2]
    assert all("GROUP BY" in q["sql"] for q in queries.captured_queries)


# --- the charts --------------------------------------------------------------------------------


def test_a_chart_is_labelled_well_formed_svg_with_a_bar_per_day():
    days = [FIRST_DAY + timedelta(days=n) for n in range(3)]
    drawing = charts.small_multiples(
        chart_id="c",
        title="Things & <stuff>",
        desc="What it shows",
        days=days,
        panels=[charts.Panel("A <b>", [1, 0, 5], marked=[1, 0, 2], spikes=[False, False, True])],
    )
    root = ET.fromstring(str(drawing))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Things & <stuff>"
    assert root.find(f"{SVG}title").get("id") == "c-title"
    assert root.find(f"{SVG}desc").text == "What it shows"
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "chart__bar"]
    assert [(b.get("data-day"), b.get("data-value"), b.get("data-marked")) for b in bars] == [
        ("2026-11-01", "1", "1"),
        ("2026-11-02", "0", "0"),
        ("2026-11-03", "5", "2"),
    ]
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "A <b> · total 6, peak 5" in texts and "▲" in texts and "5" in texts
    assert not any(r.get("style") for r in root.iter())  # colours come from the stylesheet


# --- the page ----------------------------------------------------------------------------------


def _element(page: str, tag: str, element_id: str) -> ET.Element:
    """The element ``<tag ... id="element_id">`` of the page, parsed as XML (the support
    templates write these tables and the charts well-formed)."""
    match = re.search(rf'<{tag}[^>]*id="{element_id}".*?</{tag}>', page, re.S)
    assert match, element_id
    return ET.fromstring(match.group(0))


def _table(page: str, table_id: str) -> tuple[list[str], dict[str, list[str]]]:
    table = _element(page, "table", table_id)
    head = ["".join(th.itertext()).strip() for th in table.findall("./thead/tr/th")][1:]
    rows = {
        "".join(tr.find("th").itertext()).strip(): [
            "".join(td.itertext()).split()[0] for td in tr.findall("td")
        ]
        for tr in table.findall("./tbody/tr")
    }
    return head, rows


def _chart_values(page: str, chart_id: str) -> dict[str, dict[str, str]]:
    svg = _element(page, "svg", chart_id)
    return {
        g.get("data-label"): {
            r.get("data-day"): r.get("data-value")
            for r in g.iter(f"{SVG}rect")
            if r.get("class") == "chart__bar"
        }
        for g in svg.iter(f"{SVG}g")
    }


@pytest.fixture
def busy_month():
    now = timezone.now()
    today = now.astimezone(UTC).date()
    spike = today - timedelta(days=2)
    for _ in range(9):
        event(at(spike, 1), code="E03", tenant="contoso-tenant-id-0000")
    event(at(today - timedelta(days=10), 1), code="E06", address="ann@fabrikam.com")
    event(at(today - timedelta(days=3), 1))
    registration(at(today - timedelta(days=5), 1), n=1)
    return spike


def test_the_page_shows_each_chart_with_the_same_numbers_in_its_table(support_client, busy_month):
    response = support_client.get("/support/overview/")
    assert response.status_code == 200
    page = response.content.decode()
    for chart_id, table_id in (
        ("chart-registrations", "table-registrations"),
        ("chart-outcomes", "table-outcomes"),
        ("chart-organisations", "table-organisations"),
    ):
        head, rows = _table(page, table_id)
        assert len(rows) == 30
        chart = _chart_values(page, chart_id)
        assert len(chart) == len(head)
        for column, values in zip(head, chart.values(), strict=True):
            assert {day: rows[day][head.index(column)] for day in rows} == values, column
        table = _element(page, "table", table_id)
        assert "".join(table.find("caption").itertext()).strip()
        assert all(th.get("scope") in ("col", "row") for th in table.iter("th"))
        svg = _element(page, "svg", chart_id)
        assert svg.get("role") == "img" and svg.find(f"{SVG}title").text
    assert "E03 spike" in page and busy_month.isoformat() in page
    assert "Spikes of E03 refusals" in page and "fabrikam.com" in page


def test_the_page_takes_no_parameters_and_ignores_odd_ones(support_client):
    for query in ("?days=abc", "?days=99999999999999999999", "?q=" + "x" * 5000):
        assert support_client.get("/support/overview/" + query).status_code == 200, query
    # Undecodable input is refused before the view, as on every page: 4xx, never 500.
    assert support_client.get("/support/overview/?%ff=%00").status_code == 400


def test_the_page_is_get_only_and_for_support_staff_only(client, support_client, outsider):
    assert support_client.post("/support/overview/").status_code == 405
    assert support_client.head("/support/overview/").status_code in (200, 405)
    client.logout()
    response = client.get("/support/overview/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    client.force_login(outsider)
    assert client.get("/support/overview/").status_code == 403


def test_organisations_are_named_for_people_where_a_name_is_known():
    """Microsoft's consumer tenant is every personal account, not one organisation to look up."""
    from django.conf import settings

    from support.overview import organisation_names

    assert organisation_names(settings.CONSUMER_TENANT_ID) == (
        "Personal Microsoft accounts",
        "Personal Microsoft accounts",
    )
    assert organisation_names("@contoso.com") == ("contoso.com", "contoso.com")
    tenant = "0c9f2a4e-5b1d-4c3e-9a7f-2d8e6b1c0f35"
    assert organisation_names(tenant) == ("tenant 0c9f2a4e…", f"tenant {tenant}")
