"""PostgreSQL stopped and started again under the portal: /healthz answers 503 naming the
database while it is down, then 200; pages that need it answer the 503 page (never 500) while it
is down (starting a sign-in does not: it writes nothing), and no request fails once it is back,
with nothing restarted.

gunicorn (two workers, persistent connections as in production) on a PostgreSQL cluster of the
test's own and a Redis of its own, signing in at the stand-in."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from tests.processes import exited, free_port, gunicorn, manage, wait_for
from tests.reliability.harness import (
    DEADLINE,
    Browser,
    Portal,
    Visit,
    by_page,
    latency,
    postgres_missing,
    private_cluster,
    services_required,
)

pytestmark = [
    services_required,
    pytest.mark.skipif(bool(postgres_missing()), reason=postgres_missing()),
    pytest.mark.django_db(transaction=True),
]

DOWN_SECONDS = 10
UNAVAILABLE = "This page is temporarily unavailable"
CONTACT = {
    "name": "Ann Example",
    "email": "ann@fabrikam.com",
    "topic": "sign_in",
    "message": "I cannot find my agreement.",
}


def one_round(portal: Portal, alice: Browser, *, down: bool, limited: bool) -> list[Visit]:
    """Each kind of request once, each answer checked against what it must be while the
    database is down (or up); returns what was asked. ``limited``: also the requests under a
    per-IP rate limit (Redis is up and counts them, and every request here comes from one IP),
    which a test can make only a few times a minute."""
    anonymous = portal.browser()

    def check(response, name: str, up: int, text_up: str = "") -> None:
        expected = 503 if down else up
        assert response.status_code == expected, (name, response.status_code, response.text[:800])
        if down and expected == 503:
            assert UNAVAILABLE in response.text or name == "healthz", response.text[:800]
        elif text_up:
            assert text_up in response.text, (name, response.text[:800])

    assert anonymous.get("/", name="landing").status_code == 200  # needs no database
    if limited:
        start = anonymous.post_form(
            "/sign-in/",
            {"email": "alice@contoso.com"},
            name="sign-in start",
            get_name="sign-in page",
        )
        # Needs no database: the flow's state goes into its cookie, the limit is counted in
        # Redis.
        assert start.status_code == 302, (start.status_code, start.text[:800])
    check(alice.get("/dashboard/", name="dashboard"), "dashboard", 200, "V1234567")
    check(alice.get("/register/status/", name="registration status"), "registration status", 200)
    if limited:
        sent = anonymous.post_form(
            "/support/contact/", CONTACT, name="contact support send", get_name="contact support"
        )
        check(sent, "contact support send", 302)
    else:  # the form itself needs no database
        assert anonymous.get("/support/contact/", name="contact support").status_code == 200
    health = anonymous.get("/healthz", name="healthz")
    check(health, "healthz", 200)
    body = health.json()
    assert body["database"]["state"] == ("down" if down else "up"), body
    assert body["cache"] == body["broker"] == {"state": "up"}, body
    return anonymous.visits + alice.visits


def test_a_postgresql_restart_answers_503_while_down_and_no_500_after(
    redis_server, portal_env, standin, tmp_path
):
    with private_cluster() as cluster:
        cluster.create_database("vlsc_faults_restart")
        env = portal_env(
            redis_server.url,
            standin=standin,
            DATABASE_URL=cluster.url("vlsc_faults_restart"),
            DATABASE_CONN_MAX_AGE="60",  # as in production: connections outlive requests
        )
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        port = free_port()
        standin.register_redirect_uri(f"http://127.0.0.1:{port}/accounts/entra/login/callback/")
        with gunicorn(env, port=port, workers=2, log=tmp_path / "web.log") as web:
            portal = Portal(web.url, standin)
            workers_before = web.workers()
            alice = portal.signed_in("alice@contoso.com")
            one_round(portal, alice, down=False, limited=True)
            alice.visits.clear()

            cluster.stop()
            stopped_at = time.monotonic()
            visits: list[Visit] = []
            rounds = 0
            while time.monotonic() - stopped_at < DOWN_SECONDS:
                visits += one_round(portal, alice, down=True, limited=rounds == 0)
                alice.visits.clear()
                rounds += 1
                time.sleep(0.05)  # pacing, not waiting: the machine is shared
            down_for = time.monotonic() - stopped_at

            cluster.start()
            started_at = time.monotonic()
            wait_for(
                lambda: portal.browser().get("/healthz").status_code == 200,
                timeout=DEADLINE,
                what="/healthz 200 after PostgreSQL came back",
                interval=0.1,
            )
            recovered_in = time.monotonic() - started_at
            after = one_round(portal, alice, down=False, limited=True)
            fresh = portal.signed_in("alice@contoso.com")
            assert fresh.get("/dashboard/").status_code == 200
            after += fresh.visits
            assert exited(web.proc) is None
            assert web.workers() == workers_before  # nothing was restarted

    statuses = Counter(v.status for v in visits)
    assert 500 not in statuses and not [v for v in after if v.status >= 500]
    print(
        f"\nPostgreSQL stopped {down_for:.0f} s: {len(visits)} requests in {rounds} rounds, "
        f"statuses {dict(sorted(statuses.items()))}, {latency(visits)}; /healthz 200 "
        f"{recovered_in:.2f} s after PostgreSQL started; then {len(after)} requests, statuses "
        f"{dict(sorted(Counter(v.status for v in after).items()))}\n{by_page(visits)}"
    )
