"""The sign-in flow's cookie (``accounts.entra.flow_cookie``): written once at the sign-in start,
nothing on the server; the callback refuses it forged, replayed, expired, oversized, missing or
another browser's with "start again" (400), never a 500."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.entra import flow_cookie
from accounts.models import SignInEvent, User
from tests.accounts.standin_driver import sign_in_at_standin

pytestmark = pytest.mark.django_db
Outcome = SignInEvent.Outcome
CALLBACK = "/accounts/entra/login/callback/"
START_AGAIN = "Please start signing in again"


def start(client: Client, email: str = "alice@contoso.com") -> str:
    response = client.post("/sign-in/", {"email": email})
    assert response.status_code == 302
    return response["Location"]


def sealed(client: Client) -> str:
    return client.cookies[flow_cookie.COOKIE_NAME].value


def assert_start_again(response, reason: str) -> None:
    assert response.status_code == 400
    assert START_AGAIN in response.content.decode()
    event = SignInEvent.objects.filter(outcome=Outcome.INVALID_CALLBACK).latest("pk")
    assert reason in event.detail, event.detail
    assert "_auth_user_id" not in response.wsgi_request.session
    assert not User.objects.exists()


def test_the_sign_in_start_writes_the_flow_once_in_a_cookie_and_no_session(client, entra):
    response = client.post("/sign-in/", {"email": "alice@contoso.com"})
    assert response.status_code == 302
    cookie = response.cookies[flow_cookie.COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert cookie["path"] == CALLBACK  # sent to the callback only
    assert cookie["max-age"] == flow_cookie.LIFETIME_SECONDS
    assert "vlsc_sessionid" not in response.cookies  # nothing stored on the server
    flow = flow_cookie.open_sealed(cookie.value, state=flow_state(response["Location"]))
    # What the round trip needs is in it, and none of it can be read from the cookie.
    assert flow.login_hint == "alice@contoso.com"
    for secret in (flow.msal_flow["code_verifier"], flow.msal_flow["nonce"], "alice@contoso"):
        assert secret not in cookie.value
    assert {"state", "redirect_uri", "code_verifier", "nonce", "scope"} <= set(flow.msal_flow)
    assert "auth_uri" not in flow.msal_flow  # not needed back: the cookie stays small
    assert len(cookie.value) < 2000


def flow_state(auth_uri: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(auth_uri).query)["state"][0]


def test_the_cookie_is_secure_where_the_session_cookie_is(client, entra, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.post("/sign-in/", {"email": "alice@contoso.com"})
    assert response.cookies[flow_cookie.COOKIE_NAME]["secure"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the Redis store needs REDIS_URL")
def test_with_redis_the_sign_in_start_makes_no_database_query(client, entra, settings):
    """The anonymous path commits nothing: its limit is counted in Redis, its flow in a cookie."""
    settings.RATE_LIMIT_REDIS_URL = os.environ["REDIS_URL"]
    client.get("/sign-in/")
    with CaptureQueriesContext(connection) as queries:
        start(client)
    assert queries.captured_queries == []


def test_without_redis_the_sign_in_start_writes_only_its_rate_counter(client, entra, settings):
    settings.RATE_LIMIT_REDIS_URL = ""
    with CaptureQueriesContext(connection) as queries:
        start(client)
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(control)]
    assert len(writes) == 1 and "ratecounter" in writes[0].lower(), writes


def test_the_callback_clears_the_cookie_and_signs_in(client, entra):
    callback = sign_in_at_standin(start(client))
    response = client.get(callback)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    cleared = response.cookies[flow_cookie.COOKIE_NAME]
    assert cleared.value == "" and cleared["max-age"] == 0 and cleared["path"] == CALLBACK


def test_a_forged_cookie_gets_start_again(client, entra):
    callback = sign_in_at_standin(start(client))
    value = sealed(client)
    middle = len(value) // 2
    flipped = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    client.cookies[flow_cookie.COOKIE_NAME] = flipped
    assert_start_again(client.get(callback), "forged")


def test_a_cookie_sealed_with_another_secret_key_is_forged(client, entra, settings):
    callback = sign_in_at_standin(start(client))
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert_start_again(client.get(callback), "forged")


def test_a_cookie_sealed_before_a_key_rotation_still_opens(client, entra, settings):
    callback = sign_in_at_standin(start(client))
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-" + "x" * 40
    assert client.get(callback).status_code == 302


@pytest.mark.parametrize("garbage", ["", "not-a-token", "é" * 10, "gAAAAA" + "=" * 50])
def test_garbage_in_the_cookie_gets_start_again_not_a_500(client, entra, garbage):
    callback = sign_in_at_standin(start(client))
    client.cookies[flow_cookie.COOKIE_NAME] = garbage
    response = client.get(callback)
    assert response.status_code == 400 and START_AGAIN in response.content.decode()


def test_a_replayed_cookie_gets_start_again_in_this_browser_and_in_another(client, entra):
    callback = sign_in_at_standin(start(client))
    value = sealed(client)
    assert client.get(callback).status_code == 302  # signed in: the flow is used
    client.logout()
    client.cookies[flow_cookie.COOKIE_NAME] = value  # the browser kept a copy
    assert_replayed(client.get(callback))
    other = Client()
    other.cookies[flow_cookie.COOKIE_NAME] = value  # someone who copied it
    assert_replayed(other.get(callback))


def assert_replayed(response) -> None:
    assert response.status_code == 400
    assert START_AGAIN in response.content.decode()
    event = SignInEvent.objects.filter(outcome=Outcome.INVALID_CALLBACK).latest("pk")
    assert "replay" in event.detail
    assert "_auth_user_id" not in response.wsgi_request.session


def test_a_used_flow_is_refused_even_after_an_error_answer(client, entra):
    """Single use whatever the outcome: a cancelled flow cannot be completed later."""
    auth_uri = start(client)
    value = sealed(client)
    cancelled = client.get(CALLBACK, {"state": flow_state(auth_uri)})  # neither code nor error
    assert cancelled.status_code == 200
    client.cookies[flow_cookie.COOKIE_NAME] = value
    callback = sign_in_at_standin(auth_uri)
    assert_start_again(client.get(callback), "replay")


def test_an_expired_cookie_gets_start_again(client, entra, monkeypatch):
    callback = sign_in_at_standin(start(client))
    later = time.time() + flow_cookie.LIFETIME_SECONDS + 1
    monkeypatch.setattr(flow_cookie.time, "time", lambda: later)
    assert_start_again(client.get(callback), "expired")


def test_a_cookie_from_the_future_gets_start_again():
    flow = flow_cookie.FlowState(msal_flow={"state": "s"})
    value = flow_cookie.seal(flow, now=time.time() + 3600)
    with pytest.raises(flow_cookie.FlowRefused, match="future"):
        flow_cookie.open_sealed(value, state="s")


def test_an_oversized_cookie_gets_start_again(client, entra):
    callback = sign_in_at_standin(start(client))
    client.cookies[flow_cookie.COOKIE_NAME] = sealed(client) + "A" * 4096
    assert_start_again(client.get(callback), "oversized")


def test_a_missing_cookie_gets_start_again(client, entra):
    callback = sign_in_at_standin(start(client))
    del client.cookies[flow_cookie.COOKIE_NAME]
    assert_start_again(client.get(callback), "no sign-in flow cookie")


def test_another_browsers_cookie_gets_start_again_and_leaves_this_browsers_flow(client, entra):
    """Browser B's callback with browser A's cookie (or a state that is not the cookie's): the
    states differ. The browser's own cookie stays, so its own flow still completes."""
    other = Client()
    start(other, "harry@woodgrove.com")
    theirs = sealed(other)
    callback = sign_in_at_standin(start(client))
    mine = sealed(client)
    client.cookies[flow_cookie.COOKIE_NAME] = theirs
    response = client.get(callback)
    assert_start_again(response, "not this browser's sign-in flow")
    assert flow_cookie.COOKIE_NAME not in response.cookies  # not cleared
    client.cookies[flow_cookie.COOKIE_NAME] = mine
    assert client.get(callback).status_code == 302


def test_the_newest_sign_in_start_in_a_browser_wins(client, entra):
    first = sign_in_at_standin(start(client))
    second = sign_in_at_standin(start(client))
    assert_start_again(client.get(first), "not this browser's sign-in flow")
    assert client.get(second).status_code == 302
