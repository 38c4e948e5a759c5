"""The session cookie ends with the browser; the server ends a session 8 hours after sign-in,
however active it has been."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from accounts.sessions import SIGNED_IN_AT
from tests.accounts.test_sign_in import sign_in

pytestmark = pytest.mark.django_db
LIMIT = 8 * 3600


def test_the_session_cookie_is_a_browser_session_cookie(client, entra):
    response, _ = sign_in(client, "alice@contoso.com")
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert (cookie["max-age"], cookie["expires"]) == ("", "")
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def _signed_in_seconds_ago(client, seconds: int) -> None:
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - seconds
    session.save()


def test_a_session_is_kept_while_younger_than_8_hours_however_used(bob_client):
    _signed_in_seconds_ago(bob_client, LIMIT - 60)
    for _ in range(3):
        assert bob_client.get("/register/").status_code == 200


def test_a_session_8_hours_after_sign_in_is_ended_and_the_person_sent_to_sign_in(bob_client):
    assert bob_client.get("/register/").status_code == 200
    _signed_in_seconds_ago(bob_client, LIMIT)
    response = bob_client.get("/register/?x=1")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/register/%3Fx%3D1"
    assert "_auth_user_id" not in bob_client.session
    assert bob_client.get("/register/")["Location"].startswith("/sign-in/")
    page = bob_client.get("/sign-in/").content.decode()
    assert "a session lasts at most 8 hours" in page


def test_an_old_session_posting_a_form_is_ended_too(bob_client):
    _signed_in_seconds_ago(bob_client, LIMIT + 1)
    response = bob_client.post("/register/", {"email": "licensing@fabrikam.com"})
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    assert "_auth_user_id" not in bob_client.session


def test_a_signed_in_session_without_a_sign_in_time_is_ended(bob_client):
    session = bob_client.session
    del session[SIGNED_IN_AT]
    session.save()
    assert bob_client.get("/register/")["Location"].startswith("/sign-in/")


def test_a_sign_in_records_the_portals_backend_which_loads_the_user_each_request(client, entra):
    from django.contrib.auth import BACKEND_SESSION_KEY

    response, _ = sign_in(client, "alice@contoso.com")
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "accounts.backends.AuthenticationBackend"
    assert client.get("/register/").status_code == 200


def test_a_deactivated_person_is_signed_out_at_their_next_request(bob_client, bob):
    assert bob_client.get("/register/").status_code == 200
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert bob_client.get("/register/")["Location"].startswith("/sign-in/")


def test_a_deleted_person_is_signed_out_at_their_next_request(bob_client, bob):
    assert bob_client.get("/register/").status_code == 200
    bob.delete()
    assert bob_client.get("/register/")["Location"].startswith("/sign-in/")


def test_a_session_from_before_the_portals_backend_still_loads_its_user(bob_client):
    from django.contrib.auth import BACKEND_SESSION_KEY

    session = bob_client.session
    session[BACKEND_SESSION_KEY] = "allauth.account.auth_backends.AuthenticationBackend"
    session.save()
    assert bob_client.get("/register/").status_code == 200
