"""With the cache (Redis) or the database unreachable: sessions fall back to the database, pages
that can do without the cache work, the others answer the 503 page; never a 500.

The cache is made unreachable by swapping in a backend that raises redis-py's ConnectionError
(``unreachable_cache.py``); ``tests/reliability`` stops a real Redis and PostgreSQL."""

from __future__ import annotations

import pytest
import redis.exceptions
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.test import Client, override_settings

from agreements.models import PermissionGrant
from support.models import SupportRequest
from tests.agreements.conftest import make_agreement, make_user
from vlsc_portal import errors
from vlsc_portal.sessions import SessionStore

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    **settings.CACHES,
    "default": {"BACKEND": "tests.platform.unreachable_cache.UnreachableCache"},
}
cache_down = override_settings(CACHES=UNREACHABLE)
UNAVAILABLE = "This page is temporarily unavailable"


@pytest.fixture
def alice(db):
    user = make_user("alice@contoso.com")
    PermissionGrant.objects.create(
        agreement=make_agreement("V1234567"),
        email="alice@contoso.com",
        kind=PermissionGrant.Kind.DOWNLOADS,
    )
    return user


@pytest.fixture
def alice_client(alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)  # while the cache is up: the session is in both
    return client


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    html = response.content.decode()
    assert UNAVAILABLE in html and "Try again in a minute" in html
    assert response["X-Reference-Id"] in html
    assert response["Retry-After"] == "60"


# Sessions ---------------------------------------------------------------------------------------


def test_a_signed_in_person_keeps_their_session_and_dashboard_while_the_cache_is_down(
    alice_client,
):
    with cache_down:
        response = alice_client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Signed in as <strong>alice@contoso.com</strong>" in html
    assert "V1234567" in html  # the table, rendered afresh instead of from the cache


def test_a_session_made_and_changed_while_the_cache_is_down_is_kept_in_the_database():
    with cache_down:
        session = SessionStore()
        session["step"] = "one"
        session.save()
        assert SessionStore(session.session_key).load() == {"step": "one"}
        session["step"] = "two"
        session.save()
    assert Session.objects.filter(session_key=session.session_key).exists()
    assert SessionStore(session.session_key).load() == {"step": "two"}  # cache up again


def test_a_new_key_at_sign_in_works_while_the_cache_is_down():
    anonymous = SessionStore()
    anonymous["flow"] = "state"
    anonymous.save()
    old_key = anonymous.session_key
    with cache_down:
        session = SessionStore(old_key)
        session.cycle_key()
        session.save()
        assert SessionStore(session.session_key).load() == {"flow": "state"}
    assert session.session_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()


def test_a_signed_in_session_is_not_retired_with_its_cached_copy_left_behind():
    signed_in = SessionStore()
    signed_in["_auth_user_id"] = "1"
    signed_in.save()
    with cache_down:
        session = SessionStore(signed_in.session_key)
        with pytest.raises(redis.exceptions.ConnectionError):
            session.cycle_key()
    assert Session.objects.filter(session_key=signed_in.session_key).exists()


def test_signing_out_while_the_cache_is_down_changes_nothing_and_says_try_again(
    alice_client,
):
    key = alice_client.session.session_key
    with cache_down:
        response = alice_client.post("/sign-out/")
    assert_unavailable(response)
    assert Session.objects.filter(session_key=key).exists()
    assert alice_client.get("/dashboard/").status_code == 200  # still signed in
    alice_client.post("/sign-out/")
    assert not Session.objects.filter(session_key=key).exists()


# Pages ------------------------------------------------------------------------------------------


def test_pages_that_do_not_need_the_cache_answer_while_it_is_down(alice_client, alice):
    from accounts.models import Registration
    from accounts.services import registration as registrations

    registrations.start_registration(
        user=alice, invitation_address="licensing@contoso.com", confirm_url="http://testserver/c/"
    )
    assert Registration.objects.filter(user=alice).exists()
    with cache_down:
        assert Client().get("/").status_code == 200
        assert Client().get("/sign-in/").status_code == 200
        assert Client().get("/support/contact/").status_code == 200
        assert alice_client.get("/register/status/").status_code == 200


CONTACT = {
    "name": "Alice",
    "email": "alice@contoso.com",
    "topic": "sign_in",
    "message": "Help me sign in, please.",
}


def test_rate_limited_forms_work_while_the_cache_is_down_if_counted_in_the_database(
    alice_client, settings
):
    """Rate limits counted in the database (``vlsc_portal.ratecounters``, the store without
    Redis) need no cache: the limit is still checked and counted."""
    from vlsc_portal.models import RateCounter

    settings.RATE_LIMIT_REDIS_URL = ""
    client = Client(raise_request_exception=False)
    with cache_down:
        contact = client.post("/support/contact/", CONTACT)
        access = alice_client.post(
            "/agreements/request-access/",
            {
                "email": "alice@contoso.com",
                "agreement_number": "E5550101",
                "kind": PermissionGrant.Kind.DOWNLOADS,
                "reason": "I manage downloads",
            },
        )
    assert (contact.status_code, access.status_code) == (302, 302)
    assert SupportRequest.objects.count() == 1
    assert RateCounter.objects.exists()


def test_rate_limited_forms_answer_503_while_the_limiters_redis_is_down(alice_client, settings):
    """Counted in Redis, a limit whose Redis does not answer refuses (it does not fail open):
    the 503 page, nothing recorded, no redirect to the identity provider."""
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:9/0"  # nothing answers there
    client = Client(raise_request_exception=False)
    with cache_down:
        assert_unavailable(client.post("/sign-in/", {"email": "alice@contoso.com"}))
        assert_unavailable(client.post("/support/contact/", CONTACT))
    assert not SupportRequest.objects.exists()


def test_a_rate_limit_that_cannot_be_counted_refuses_with_a_503(monkeypatch):
    """The database that holds the counters is gone: the limit does not fail open."""
    from vlsc_portal import ratelimits

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(ratelimits, "consume", lost)
    client = Client(raise_request_exception=False)
    assert_unavailable(client.post("/support/contact/", CONTACT))
    assert_unavailable(client.post("/sign-in/", {"email": "alice@contoso.com"}))
    assert not SupportRequest.objects.exists()


def test_healthz_names_the_cache_and_answers_while_it_is_down(client):
    with cache_down:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["cache"] == {"state": "down", "error": "ConnectionError"}
    assert body["database"] == {"state": "up"}
    assert body["worker_heartbeat"] is None


# The database -----------------------------------------------------------------------------------


def test_a_view_that_loses_the_database_answers_503(alice_client, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("accounts.services.registration.latest_registration", lost)
    assert_unavailable(alice_client.get("/register/status/"))


def test_a_session_that_cannot_be_saved_on_the_way_out_answers_503(monkeypatch):
    """The session is saved by SessionMiddleware after the view: Django turns that exception
    into the 500 handler's response, which answers 503 for an unreachable database."""

    def lost(self, must_create=False):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(SessionStore, "save", lost)
    client = Client(raise_request_exception=False)
    data = {
        "name": "Ann",
        "email": "ann@fabrikam.com",
        "topic": "sign_in",
        "message": "Hello there, support.",
    }
    assert_unavailable(client.post("/support/contact/", data))


@override_settings(DEBUG=False)
def test_other_errors_stay_500(rf):
    request = rf.get("/")
    request.reference_id = "ABCDEFGH2345"
    try:
        raise redis.exceptions.ResponseError("WRONGTYPE")
    except redis.exceptions.ResponseError:
        response = errors.server_error(request)
    assert response.status_code == 500
