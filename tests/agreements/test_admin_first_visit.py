"""The admin's first visit: a signed-in person who will be an administrator once registered is
led through registration and back to the admin; anyone else gets a 403 that says what to do."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.next_page import MAX_LENGTH
from agreements import selectors
from agreements.models import PermissionGrant
from tests.accounts.conftest import make_user, proven

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind


@pytest.fixture
def admin_to_be(contoso):
    """admin@contoso.com holds Administrator but has only signed in, not registered."""
    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind=Kind.ADMINISTRATOR
    )
    return proven(make_user("admin@contoso.com", username="contoso"))


def next_of(location: str) -> str:
    [value] = parse_qs(urlsplit(location).query)["next"]
    return value


def test_it_sends_an_administrator_to_be_to_registration_then_to_the_admin(client, admin_to_be):
    client.force_login(admin_to_be)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/register/?next=%2Fadmin%2F"
    page = response.content.decode()
    assert "Register your address to open the administration" in page
    response = client.post("/register/", {"email": "admin@contoso.com"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    admin_to_be.refresh_from_db()
    assert admin_to_be.is_staff


def test_it_keeps_next_through_a_registration_confirmed_by_email(
    client, contoso, eager_celery, django_capture_on_commit_callbacks
):
    """The Administrator permission is on a pending registration's address: confirming it from
    the emailed link offers the way on to the admin."""
    PermissionGrant.objects.create(
        agreement=contoso, email="licensing@contoso.com", kind=Kind.ADMINISTRATOR
    )
    user = make_user("alice@contoso.com")
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/?next=/admin/").status_code == 403  # nothing known yet
    assert client.get("/register/?next=/admin/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/", {"email": "licensing@contoso.com"})
    assert selectors.may_become_administrator(user=user)
    # While it is pending, /admin/ leads back to registration (its status page), not a 403.
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/register/?next=%2Fadmin%2F"
    assert client.get(response["Location"])["Location"] == "/register/status/"
    link = re.search(r"http://testserver(/register/confirm/\S+/)", mail.outbox[-1].body)[1]
    page = client.post(link).content.decode()
    assert "Registration complete" in page
    assert 'href="/admin/">Continue where you were going' in page
    assert client.get("/admin/").status_code == 200


def test_it_refuses_someone_with_no_prospect_and_shows_the_way_forward(client, contoso):
    user = make_user("harry@woodgrove.com")
    client.force_login(user)
    response = client.get("/admin/login/?next=/admin/agreements/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You do not administer an agreement" in page
    assert 'href="/register/?next=%2Fadmin%2Fagreements%2F"' in page
    assert 'href="/dashboard/"' in page
    assert not selectors.may_become_administrator(user=user)


def test_it_refuses_an_inactive_administrator_to_be(client, admin_to_be):
    admin_to_be.is_active = False
    admin_to_be.save()
    assert not selectors.may_become_administrator(user=admin_to_be)


def test_a_verified_address_without_administrator_is_no_prospect(contoso):
    user = proven(make_user("alice@contoso.com"))
    EmailAddress.objects.create(user=user, email="alice@contoso.com", verified=True)
    PermissionGrant.objects.create(
        agreement=contoso, email="alice@contoso.com", kind=Kind.DOWNLOADS
    )
    assert not selectors.may_become_administrator(user=user)


@pytest.mark.parametrize(
    "payload",
    ["//evil.example/", "https://evil.example/admin/", "/%5Cevil.example", "/" + "a" * MAX_LENGTH],
)
def test_a_bad_next_is_dropped_on_the_way_to_registration(client, admin_to_be, payload):
    client.force_login(admin_to_be)
    response = client.get(f"/admin/login/?next={payload}")
    assert next_of(response["Location"]) == "/admin/"
    # Given to registration directly, it is not kept: the dashboard follows registration.
    client.get(f"/register/?next={payload}")
    response = client.post("/register/", {"email": "admin@contoso.com"})
    assert response["Location"] == "/dashboard/"


def test_a_next_to_another_host_is_ignored_at_sign_in(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    response = client.get("/admin/login/?next=http://other.example/admin/")
    assert next_of(response["Location"]) == "/admin/"
