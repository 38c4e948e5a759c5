"""Budgets on everything that sends email or takes a guess (issue 13, section 4).

The attack that found them: a loop of register, resend, cancel sent 16 verification emails to
one address in 17 seconds (the limit was per registration); restarting a conversion was never
limited (8 signup codes in 15 seconds, 40 guesses). Every email sent at a person's request now
counts per address it goes to (across users and flows) and per user it is sent for (across
addresses and flows), and signup-code tries count per user a day, across conversions."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client

from accounts.demo import GRACE_MSA_OID, seed_demo_users
from accounts.models import Registration, User
from accounts.views import conversion as conversion_views
from notifications.models import OutboundEmail
from tests.accounts.conftest import cancel_pending, make_user

pytestmark = pytest.mark.django_db
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
TRY_AGAIN = re.compile(
    r"Try again after (\d{4}-\d{2}-\d{2} )?\d{2}:\d{2} UTC \(in about \d+ (minute|hour)s?\)"
)


@pytest.fixture(autouse=True)
def _emails_leave_at_once(monkeypatch):
    """The test's transaction never commits: hand emails over as if it had."""
    monkeypatch.setattr(
        "notifications.services.transaction.on_commit", lambda func, *a, **k: func()
    )


def emails_to(address: str) -> int:
    return OutboundEmail.objects.filter(to=address).count()


def assert_says_when(response, *, within_seconds: int) -> None:
    """A 429 that says when to try again, in words and in ``Retry-After``."""
    assert response.status_code == 429
    page = response.content.decode()
    assert TRY_AGAIN.search(page), page
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= within_seconds
    said = TRY_AGAIN.search(page).group(0)
    # The window ends within the second before now + Retry-After; the page rounds up to the minute.
    ends = time.time() + retry_after
    shown = {
        datetime.fromtimestamp(math.ceil(t / 60) * 60, tz=UTC).strftime("%H:%M")
        for t in (ends - 1, ends)
    }
    assert any(minute in said for minute in shown), (said, shown)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def converting(user: User) -> Client:
    """A browser in the middle of ``user``'s conversion (signed in with the personal account)."""
    client = Client()
    session = client.session
    session[conversion_views.SESSION_CONTEXT] = {
        "user": user.pk,
        "uid": f"{GRACE_MSA_OID}.{CONSUMER}",
        "address": "grace@outlook.com",
    }
    session.save()
    return client


@pytest.fixture
def grace() -> User:
    seed_demo_users()
    return User.objects.get(username="grace")


def last_code() -> str:
    return re.search(r"signup code is: (\d{6})", mail.outbox[-1].body).group(1)


def test_a_register_resend_cancel_loop_sends_at_most_five_emails_an_hour_to_the_address(bob):
    client = signed_in(bob)
    rounds = []
    for _ in range(8):
        registered = client.post("/register/", {"email": "licensing@fabrikam.com"}).status_code
        resent = client.post("/register/resend/").status_code
        cancel_pending(client)
        rounds.append((registered, resent))
    assert emails_to("licensing@fabrikam.com") == 5
    assert rounds[:3] == [(302, 302), (302, 302), (302, 429)]
    assert {registered for registered, _ in rounds[3:]} == {429}
    refused = client.post("/register/", {"email": "licensing@fabrikam.com"})
    assert_says_when(refused, within_seconds=3600)
    assert "several emails to this address" in refused.content.decode()
    # the refusal made nothing: no registration waits for an email that was never sent
    assert not Registration.objects.filter(state=Registration.State.PENDING).exists()


def test_the_address_budget_counts_across_users_and_flows(bob, grace):
    """bob's registration, its resend, harry's registration, grace's conversion and a support
    acknowledgement all go to one address: the sixth email is refused, whoever asks."""
    address = "licensing@fabrikam.com"
    bob_client = signed_in(bob)
    assert bob_client.post("/register/", {"email": address}).status_code == 302
    assert bob_client.post("/register/resend/").status_code == 302
    cancel_pending(bob_client)
    harry_client = signed_in(make_user("harry@woodgrove.com"))
    assert harry_client.post("/register/", {"email": address}).status_code == 302
    cancel_pending(harry_client)
    grace_client = converting(grace)
    response = grace_client.post("/convert/", {"name": "Grace", "work_email": address})
    assert response["Location"] == "/convert/code/"
    contact = {"name": "Someone", "email": address, "topic": "other", "message": "Please help me."}
    assert Client().post("/support/contact/", contact).status_code == 302
    assert emails_to(address) == 5

    assert_says_when(grace_client.post("/convert/code/resend/"), within_seconds=3600)
    assert_says_when(bob_client.post("/register/", {"email": address}), within_seconds=3600)
    assert_says_when(Client().post("/support/contact/", contact), within_seconds=3600)
    assert emails_to(address) == 5


def test_the_per_user_budget_counts_across_addresses_and_flows(bob):
    """Ten emails an hour for one user, whatever the addresses: registrations to nine
    addresses and a support request made signed in; the eleventh is refused."""
    client = signed_in(bob)
    for i in range(9):
        assert client.post("/register/", {"email": f"a{i}@fabrikam.com"}).status_code == 302
        cancel_pending(client)
    contact = {
        "name": "Bob",
        "email": "bob@fabrikam.com",
        "topic": "other",
        "message": "Please help me.",
    }
    assert client.post("/support/contact/", contact).status_code == 302
    assert OutboundEmail.objects.filter(user=bob).count() == 10
    refused = client.post("/register/", {"email": "fresh@fabrikam.com"})
    assert_says_when(refused, within_seconds=3600)
    assert emails_to("fresh@fabrikam.com") == 0


def test_a_conversion_restart_loop_is_capped_at_five_codes_an_hour(grace):
    client = converting(grace)
    statuses = [
        client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"}).status_code
        for _ in range(8)
    ]
    assert statuses == [302] * 5 + [429] * 3
    assert emails_to("grace@litware.com") == 5
    assert_says_when(
        client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"}),
        within_seconds=3600,
    )


def test_the_daily_budget_of_guesses_survives_restarting_the_conversion(grace):
    """Four conversions, five wrong tries each: 20 tries, the day's budget. A fifth conversion's
    code is refused, even the right one, until the day's window ends."""
    client = converting(grace)
    for _ in range(4):
        client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"})
        code = last_code()
        wrong = "000000" if code != "000000" else "111111"
        statuses = [client.post("/convert/code/", {"code": wrong}).status_code for _ in range(5)]
        assert statuses == [400, 400, 400, 400, 429]  # the last: this code's own five tries
    client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"})
    refused = client.post("/convert/code/", {"code": last_code()})
    assert_says_when(refused, within_seconds=24 * 3600)
    assert int(refused["Retry-After"]) > 23 * 3600
    assert "tried too many codes today" in refused.content.decode()
    assert client.get("/convert/code/").status_code == 200  # still at the code step


def test_a_code_refused_by_its_own_tries_does_not_use_the_daily_budget(grace):
    from vlsc_portal import ratelimits

    client = converting(grace)
    client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(8):  # five counted tries, then refusals by the code that count nothing
        client.post("/convert/code/", {"code": wrong})
    (daily,) = ratelimits.rates("signup_code_guess")
    for _ in range(daily.amount - 5):
        ratelimits.consume(ratelimits.Use("signup_code_guess", user=grace.pk))
    with pytest.raises(ratelimits.RateLimited):
        ratelimits.consume(ratelimits.Use("signup_code_guess", user=grace.pk))


def test_each_resend_refusal_says_when_to_try_again(bob, grace):
    client = signed_in(bob)
    client.post("/register/", {"email": "licensing@fabrikam.com"})
    assert client.post("/register/resend/").status_code == 302
    refused = client.post("/register/resend/")  # once a minute per registration
    assert_says_when(refused, within_seconds=60)
    assert "once a minute and at most five times a day" in refused.content.decode()

    grace_client = converting(grace)
    grace_client.post("/convert/", {"name": "Grace", "work_email": "grace@litware.com"})
    assert grace_client.post("/convert/code/resend/").status_code == 302
    refused = grace_client.post("/convert/code/resend/")
    assert_says_when(refused, within_seconds=60)
    assert "once a minute and at most five times an hour" in refused.content.decode()
