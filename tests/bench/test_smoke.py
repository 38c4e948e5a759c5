"""Each benchmark at a tiny size and duration, so the harness cannot rot (issue 8). The figures
are not checked: only that every benchmark ran, answered as expected and reported them.

Runs on the embedded defaults (SQLite, filesystem broker) and on PostgreSQL/Redis alike; the
servers it starts (gunicorn, the stand-in, a Celery worker) use the test database."""

from __future__ import annotations

import pytest

from bench import report, run, seed, web

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]


def test_each_benchmark_runs_at_tiny_size():
    opts = run.Options(
        duration=1,
        warmup=0,
        concurrency=2,
        workers=1,
        registrations=30,
        emails=3,
        email_concurrency=1,
        dashboard_agreements=3,
        dashboard_permissions=9,
        timeline_events=200,
        timeline_people=10,
        timeline_users=3,
        support_samples=3,
        api_grants=30,
        api_samples=3,
        production=False,
        write=False,
    )
    results = run.run(opts)

    for name in (
        "ceiling",
        "landing",
        "sign_in_start",
        "form_post_floor",
        "dashboard",
        "signed_in_floor",
        "callback",
        "support_lookup",
        "support_overview",
        "api_grants",
    ):
        row = results["web"][name]
        assert row["requests"] > 0, name
        assert row["errors"] == 0, (name, row)
        assert row["ratio_to_ceiling"] is not None
    assert results["web"]["callback"]["standin_token_requests"] > 0
    assert results["scale"]["expire"]["expired"] == 30
    assert results["scale"]["expire_tenth"]["expired"] == 3
    email = results["scale"]["email"]
    assert (email["delivered_to_sink"], email["delivered_twice"], email["marked_sent"]) == (3, 0, 3)
    lookup = results["scale"]["support_lookup"]
    assert (lookup["events"], lookup["errors"]) == (200, 0), lookup["error_sample"]
    assert lookup["page_p95_ms"] > 0
    overview = results["scale"]["support_overview"]
    assert (overview["events"], overview["errors"]) == (200, 0), overview["error_sample"]
    assert overview["page_p95_ms"] > 0
    assert results["web"]["api_grants"]["alone_p95_ms"] > 0
    assert "ceiling" in run.table(results)
    # The chart and the README table draw from a real run's results too.
    assert f"{report.rps_text(results['web']['landing']['rps'])} req/s" in report.svg(results)
    assert "| landing `/` |" in report.table(results)


def test_dashboard_queries_do_not_grow_with_the_agreements():
    small = seed.seed_dashboard_user(agreements=2, permissions=4)
    few = web.page_queries(small, web.DASHBOARD_PATH, warm=False)
    large = seed.seed_dashboard_user(agreements=60, permissions=300)  # more than a page
    assert web.page_queries(large, web.DASHBOARD_PATH, warm=False) == few
    assert web.page_queries(large, web.DASHBOARD_PATH) == few  # nothing cached between visits


def test_support_lookup_queries_do_not_grow_with_the_events():
    from support.demo import seed_support_staff

    staff = seed_support_staff()
    url = web.support_person_url("", 0)
    seed.seed_timeline_events(20, people=2, users=1)
    few = web.page_queries(staff, url)
    seed.seed_timeline_events(400, people=2, users=1)
    assert web.page_queries(staff, url) == few


def test_support_overview_queries_do_not_grow_with_the_events():
    from support.demo import seed_support_staff

    staff = seed_support_staff()
    seed.seed_timeline_events(20, people=2, users=1)
    few = web.page_queries(staff, web.SUPPORT_OVERVIEW_PATH)
    seed.seed_timeline_events(400, people=2, users=1)
    assert web.page_queries(staff, web.SUPPORT_OVERVIEW_PATH) == few
