"""The dashboard's table is cached under the access version: never stale after a change to
agreements, contact roles, grants or verified addresses, and not recomputed when nothing moved."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from agreements import access_version
from agreements.models import Agreement, AgreementContact, PermissionGrant
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind


@pytest.fixture
def alice_client(client):
    user = make_user("alice@contoso.com")
    client.force_login(user)
    return client, user


def page(client) -> str:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_grant_shows_at_once(alice_client, contoso):
    client, _ = alice_client
    assert "No permissions are associated with your account" in page(client)
    PermissionGrant.objects.create(
        agreement=contoso, email="alice@contoso.com", kind=Kind.DOWNLOADS
    )
    html = page(client)
    assert "V1234567" in html and "Download the licensed software" in html


def test_a_removed_grant_and_a_changed_agreement_show_at_once(alice_client, contoso):
    client, _ = alice_client
    grant = PermissionGrant.objects.create(
        agreement=contoso, email="alice@contoso.com", kind=Kind.DOWNLOADS
    )
    other = make_agreement("E5550101", "Contoso Ltd")
    AgreementContact.objects.create(
        agreement=other, email="alice@contoso.com", role=AgreementContact.Role.PRIMARY_CONTACT
    )
    assert "V1234567" in page(client)
    other.status = Agreement.Status.EXPIRED
    other.save()
    assert "Expired" in page(client)
    grant.delete()
    html = page(client)
    assert "V1234567" not in html and "E5550101" in html


def test_an_address_losing_its_verification_loses_its_rows(alice_client, contoso):
    client, user = alice_client
    second = EmailAddress.objects.create(user=user, email="a.smith@contoso.com", verified=True)
    PermissionGrant.objects.create(
        agreement=contoso, email="a.smith@contoso.com", kind=Kind.PRODUCT_KEYS
    )
    assert "V1234567" in page(client)
    second.delete()
    assert "V1234567" not in page(client)


def test_an_unchanged_dashboard_is_not_recomputed(
    alice_client, contoso, django_assert_max_num_queries
):
    client, _ = alice_client
    PermissionGrant.objects.create(
        agreement=contoso, email="alice@contoso.com", kind=Kind.DOWNLOADS
    )
    assert "V1234567" in page(client)
    # Session, user, verified addresses, pending registration: not the access queries.
    with django_assert_max_num_queries(4):
        assert "V1234567" in page(client)


def test_the_version_moves_on_every_write_and_again_at_commit(
    contoso, django_capture_on_commit_callbacks
):
    before = access_version.current()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        PermissionGrant.objects.create(
            agreement=contoso, email="x@contoso.com", kind=Kind.DOWNLOADS
        )
        moved = access_version.current()
    assert moved != before
    assert len(callbacks) >= 1
    assert access_version.current() not in (before, moved)


def test_another_users_table_is_never_served(client, contoso):
    alice = make_user("alice@contoso.com")
    bob = make_user("bob@contoso.com")
    PermissionGrant.objects.create(
        agreement=contoso, email="alice@contoso.com", kind=Kind.DOWNLOADS
    )
    client.force_login(alice)
    assert "V1234567" in page(client)
    client.force_login(bob)
    assert "V1234567" not in page(client)
