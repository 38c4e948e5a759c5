"""After signing in a person goes where they were going, greeted by name; signing out says so."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from accounts.models import User, display_name
from tests.accounts.standin_driver import sign_in_at_standin

pytestmark = pytest.mark.django_db


def messages_on(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_returns_to_a_protected_page_opened_while_signed_out_greeting_by_name(client, entra):
    response = client.get("/agreements/request-access/")
    assert response["Location"] == "/sign-in/?next=/agreements/request-access/"
    response = client.post(response["Location"], {"email": "alice@contoso.com"})
    response = client.get(sign_in_at_standin(response["Location"]))
    assert response["Location"] == "/agreements/request-access/"
    user = User.objects.get(email="alice@contoso.com")
    assert user.username not in display_name(user)
    page = client.get("/agreements/request-access/").content.decode()
    assert f"Signed in as {display_name(user)}." in page
    assert f"Signed in as {user.username}" not in page
    assert "Successfully" not in page


@pytest.mark.parametrize(
    ("first", "last", "email", "expected"),
    [
        ("Alice", "Contoso", "alice@contoso.com", "Alice Contoso"),
        ("", "", "alice@contoso.com", "alice@contoso.com"),
        ("  ", "", "", "alice-internal"),
    ],
)
def test_the_display_name_is_the_name_else_the_address_never_the_username_first(
    first, last, email, expected
):
    user = User(username="alice-internal", first_name=first, last_name=last, email=email)
    assert display_name(user) == expected


def test_signing_out_says_so_on_the_landing_page(client):
    user = User.objects.create(username="alice", email="alice@contoso.com", first_name="Alice")
    client.force_login(user)
    response = client.post("/sign-out/", follow=True)
    assert "_auth_user_id" not in client.session
    # The stand-in's end-session endpoint is not running here: straight back to the landing page.
    assert response.redirect_chain[-1][0] == "/"
    assert "You have signed out." in response.content.decode()


def test_signing_out_is_post_only(client):
    assert client.get("/sign-out/").status_code == 405
