"""Redis stopped for 30 seconds while people sign in and use the portal: no 500 at any moment,
and everything works again once Redis is back, with nothing restarted.

gunicorn (two workers) on the test database and a Redis of the test's own (its cache, broker and
results), signing in at the stand-in. During the outage: pages that can do without the cache
answer as usual (a signed-in person's session comes from the database); what is rate limited
(starting a sign-in, completing one, Contact support) answers the 503 page, because its limit is
counted in Redis and a limit does not fail open; /healthz answers 503 naming the cache and the
broker. Once Redis is back, a sign-in that was at the identity provider during the outage
completes with the same callback (its flow cookie was kept)."""

from __future__ import annotations

import io
import time
from collections import Counter

import pytest
from django.core.management import call_command

from support.models import SupportRequest
from tests.processes import exited, free_port, gunicorn, wait_for
from tests.reliability.harness import (
    DEADLINE,
    Browser,
    Portal,
    Visit,
    by_page,
    latency,
    services_required,
)

pytestmark = [services_required, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 30
UNAVAILABLE = "This page is temporarily unavailable"
CONTACT = {
    "name": "Ann Example",
    "email": "ann@fabrikam.com",
    "topic": "sign_in",
    "message": "I cannot find my agreement.",
}


SIGN_IN_ROUNDS = 10  # rounds of the outage that start a sign-in


def one_round(
    portal: Portal, alice: Browser, *, outage: bool, start_sign_in: bool = True
) -> list[Visit]:
    """Each kind of request once; checks every answer against what it must be in (or out of)
    the outage, and returns what was asked."""
    anonymous = portal.browser()

    def check(response, name: str, status: int | set[int], text: str = "") -> None:
        allowed = status if isinstance(status, set) else {status}
        assert response.status_code in allowed, (name, response.status_code, response.text[:800])
        if text:
            assert text in response.text, (name, response.text[:800])

    check(anonymous.get("/", name="landing"), "landing", 200, "Sign in with your Work Account")
    if start_sign_in:
        start = anonymous.post_form(
            "/sign-in/",
            {"email": "alice@contoso.com"},
            name="sign-in start",
            get_name="sign-in page",
        )
        if outage:  # the limit is counted in Redis: no count, no start (fail closed)
            check(start, "sign-in start", 503, UNAVAILABLE)
        else:
            check(start, "sign-in start", 302)
            assert start.headers["Location"].startswith(portal.standin.http_url)
    check(alice.get("/dashboard/", name="dashboard"), "dashboard", 200, "V1234567")
    check(
        alice.get("/register/status/", name="registration status"),
        "registration status",
        200,
        "alice@contoso.com",
    )
    sent = anonymous.post_form(
        "/support/contact/", CONTACT, name="contact support send", get_name="contact support"
    )
    if outage:
        check(sent, "contact support send", 503, UNAVAILABLE)
    else:
        check(sent, "contact support send", {302, 429})  # 3 an hour per sender address
    health = anonymous.get("/healthz", name="healthz")
    if outage:
        check(health, "healthz", 503)
        body = health.json()
        assert body["cache"]["state"] == body["broker"]["state"] == "down", body
        assert body["database"] == {"state": "up"}, body
    else:
        check(health, "healthz", 200)
    return anonymous.visits


def test_a_redis_outage_answers_no_500_and_recovers_without_restarts(
    redis_server, portal_env, standin, tmp_path
):
    call_command("seed_demo", stdout=io.StringIO())
    port = free_port()
    standin.register_redirect_uri(f"http://127.0.0.1:{port}/accounts/entra/login/callback/")
    env = portal_env(redis_server.url, standin=standin)
    log = tmp_path / "web.log"
    with gunicorn(env, port=port, workers=2, log=log) as web:
        portal = Portal(web.url, standin)
        workers_before = web.workers()
        alice = portal.signed_in("alice@contoso.com")
        # A second sign-in already at the identity provider when Redis goes: it comes back
        # during the outage.
        late = portal.browser()
        callback = late.start_sign_in("alice@contoso.com", standin_http_url=standin.http_url)
        one_round(portal, alice, outage=False)
        alice.visits.clear()
        late.visits.clear()

        requests_before = SupportRequest.objects.count()
        redis_server.stop()
        stopped_at = time.monotonic()
        visits: list[Visit] = []
        back = late.get(callback, name="sign-in callback")
        assert back.status_code == 503 and UNAVAILABLE in back.text, back.text[:800]
        rounds = 0
        while time.monotonic() - stopped_at < OUTAGE_SECONDS:
            # Sign-in starts in the first rounds only: 30 a minute from one address is the
            # limit, and a fresh sign-in after the outage must still be within it.
            visits += one_round(portal, alice, outage=True, start_sign_in=rounds < SIGN_IN_ROUNDS)
            rounds += 1
            time.sleep(0.05)  # pacing, not waiting: the machine is shared
        visits += alice.visits + late.visits
        outage_seconds = time.monotonic() - stopped_at

        redis_server.start()
        restarted_at = time.monotonic()
        wait_for(
            lambda: portal.browser().get("/healthz").status_code == 200,
            timeout=DEADLINE,
            what="/healthz 200 after Redis came back",
            interval=0.1,
        )
        recovered_in = time.monotonic() - restarted_at
        # The sign-in that was at the identity provider: the same callback completes now.
        back = late.get(callback, name="sign-in callback")
        assert (back.status_code, back.headers.get("Location")) == (302, "/dashboard/")
        assert late.get("/dashboard/", name="dashboard").status_code == 200
        alice.visits.clear()
        after = one_round(portal, alice, outage=False)
        fresh = portal.signed_in("alice@contoso.com")
        assert fresh.get("/dashboard/").status_code == 200
        after += alice.visits + fresh.visits
        assert exited(web.proc) is None
        assert web.workers() == workers_before  # nothing was restarted

    # Every accepted send made one request, during the outage and after; nothing was lost, and
    # the limit held (a 429 once the sender's three an hour were used).
    accepted = [v for v in visits + after if v.name == "contact support send" and v.status == 302]
    assert SupportRequest.objects.count() == requests_before + len(accepted)
    starts = Counter(v.status for v in visits if v.name == "sign-in start")
    assert set(starts) == {503}, starts  # no sign-in started uncounted while Redis was down
    statuses = Counter(v.status for v in visits)
    assert 500 not in statuses and not [v for v in after if v.status >= 500]
    print(
        f"\nRedis stopped {outage_seconds:.0f} s: {len(visits)} requests in {rounds} rounds, "
        f"statuses {dict(sorted(statuses.items()))}, {latency(visits)}; /healthz 200 "
        f"{recovered_in:.2f} s after Redis started; then {len(after)} requests, statuses "
        f"{dict(sorted(Counter(v.status for v in after).items()))}\n{by_page(visits)}"
    )
