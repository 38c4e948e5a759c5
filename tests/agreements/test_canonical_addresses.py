"""Agreement entry points take addresses in their one canonical form: contacts and permissions
in the admin, access requests. Bad forms get a form error; any spelling is the address."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from agreements import selectors, services
from agreements.models import AccessRequest, AgreementContact, AuditEvent, PermissionGrant
from notifications.models import OutboundEmail
from tests.agreements.conftest import make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role

BAD_FORMS = [
    pytest.param("licensing@fabrikam.com\u200b", "invisible characters", id="zero-width space"),
    pytest.param('"licensing"@fabrikam.com', "quotation marks", id="quoted local part"),
    pytest.param("lïcensing@fabrikam.com", "not accented", id="non-ASCII local part"),
    pytest.param("licensing@fabrikam.com.", "not a valid domain name", id="trailing dot"),
]


def add_contact(client, agreement, email):
    return client.post(
        "/admin/agreements/agreementcontact/add/",
        {"agreement": agreement.pk, "role": Role.PRIMARY_CONTACT, "name": "Pat", "email": email},
    )


def add_grant(client, agreement, email, kind=Kind.DOWNLOADS):
    return client.post(
        "/admin/agreements/permissiongrant/add/",
        {"agreement": agreement.pk, "email": email, "kind": kind},
    )


@pytest.mark.parametrize("add", [add_contact, add_grant], ids=["contact", "permission"])
@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_the_admin_refuses_an_address_with_no_canonical_form(
    vlsc_admin_client, contoso, add, address, words
):
    response = add(vlsc_admin_client, contoso, address)
    assert response.status_code == 200  # the admin's form page again, with the error
    page = response.content.decode()
    assert 'class="errornote"' in page and words in page
    assert not AgreementContact.objects.exists()
    assert list(PermissionGrant.objects.values_list("email", flat=True)) == ["admin@contoso.com"]
    assert not OutboundEmail.objects.exists()


def test_the_admin_stores_contacts_and_grants_in_canonical_form(vlsc_admin_client, contoso):
    assert add_contact(vlsc_admin_client, contoso, "Pat@Bücher.Example").status_code == 302
    assert add_grant(vlsc_admin_client, contoso, "ＰＡＴ@bücher.example").status_code == 302
    address = "pat@xn--bcher-kva.example"
    assert AgreementContact.objects.get().email == address
    assert PermissionGrant.objects.get(kind=Kind.DOWNLOADS).email == address
    assert set(OutboundEmail.objects.values_list("to", flat=True)) == {address}
    assert set(AuditEvent.objects.values_list("subject_email", flat=True)) == {address}
    assert [row.email for row in selectors.invited_addresses(agreement=contoso)] == [
        "admin@contoso.com",
        address,
    ]


def test_another_spelling_of_a_granted_address_is_the_same_grant(vlsc_admin_client, contoso):
    response = add_grant(vlsc_admin_client, contoso, "ADMIN@Contoso.com", Kind.ADMINISTRATOR)
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert PermissionGrant.objects.count() == 1
    grant = services.permission_grant(
        agreement=contoso, email="ａｄｍｉｎ@contoso.com", kind=Kind.ADMINISTRATOR, actor=None
    )
    assert PermissionGrant.objects.get() == grant


def test_a_look_alike_domain_does_not_reach_the_real_address(contoso):
    services.permission_grant(
        agreement=contoso, email="admin@fabr\u0131kam.com", kind=Kind.DOWNLOADS, actor=None
    )
    assert PermissionGrant.objects.get().email == "admin@xn--fabrkam-ufb.com"
    user = make_user("admin@fabrikam.com")
    assert selectors.user_access(user=user) == []


# --- access requests ------------------------------------------------------------------------


@pytest.fixture
def requester(client):
    user = make_user("harry@woodgrove.com")
    client.force_login(user)
    return user


def ask(client, email):
    return client.post(
        "/agreements/request-access/",
        {"agreement_number": "V1234567", "kind": Kind.LICENSING_INFO_VIEWER, "email": email},
    )


@pytest.mark.parametrize("spelling", ["HARRY@Woodgrove.com", "ｈａｒｒｙ@woodgrove.com"])
def test_an_access_request_takes_any_spelling_of_a_verified_address(
    client, requester, contoso, spelling
):
    assert ask(client, spelling).status_code == 302
    assert AccessRequest.objects.get().email == "harry@woodgrove.com"


@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_an_access_request_refuses_an_address_with_no_canonical_form(
    client, requester, contoso, address, words
):
    EmailAddress.objects.create(user=requester, email=address, verified=True)  # legacy row
    response = ask(client, address)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_legacy_request_for_an_address_with_no_canonical_form_cannot_be_accepted(
    requester, contoso, vlsc_admin_client
):
    """A row from before canonical addresses (the migration reported it): accepting it would
    grant the permission to the look-alike spelling."""
    legacy = AccessRequest.objects.create(
        requester=requester,
        email="licensing@fabrikam.com\u200b",
        agreement_number=contoso.number,
        agreement=contoso,
        kind=Kind.DOWNLOADS,
    )
    response = vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{legacy.pk}/change/",
        {"decision": "accept", "decision_message": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot be accepted. Deny it." in response.content.decode()
    legacy.refresh_from_db()
    assert legacy.state == AccessRequest.State.PENDING
    assert not PermissionGrant.objects.filter(kind=Kind.DOWNLOADS).exists()
