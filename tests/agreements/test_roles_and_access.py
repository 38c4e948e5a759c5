"""The role table, the union rule, and the one access selector the pages use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agreements import selectors
from agreements.models import AgreementContact, PermissionGrant
from agreements.roles import KIND_ALLOWS, ROLE_PERMISSIONS, kinds_for
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role
README = Path(__file__).resolve().parents[2] / "README.md"


def test_it_has_the_six_faq_roles_and_seven_kinds():
    assert [r.label for r in Role] == [
        "Primary Contact",
        "Notices Correspondent",
        "Online Administrator",
        "Software Assurance Manager",
        "Online Services Manager",
        "Subscriptions Manager",
    ]
    assert [k.label for k in Kind] == [
        "Administrator",
        "Licensing Info Viewer",
        "Downloads",
        "Product Keys",
        "Software Assurance Manager",
        "Online Services Manager",
        "Subscriptions Manager",
    ]
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    assert set(KIND_ALLOWS) == set(Kind.values)


def test_it_documents_the_role_table_in_the_readme():
    text = README.read_text()
    section = text.split("## Agreements and permissions", 1)[1]
    for role, kinds in ROLE_PERMISSIONS.items():
        line = next(li for li in section.splitlines() if li.startswith(f"| {Role(role).label} |"))
        listed = {k.strip() for k in line.split("|")[2].split(",")}
        assert listed == {Kind(k).label for k in kinds}, line
    for kind in Kind:
        assert re.search(rf"^\| {re.escape(str(kind.label))} \|", section, re.M), kind.label


def test_the_union_rule_adds_role_kinds_to_grants():
    kinds = kinds_for(roles={Role.NOTICES_CORRESPONDENT}, grants={Kind.DOWNLOADS})
    assert kinds == [Kind.LICENSING_INFO_VIEWER, Kind.DOWNLOADS]
    assert kinds_for(roles=set(), grants=set()) == []


def test_access_is_contacts_and_grants_on_verified_addresses_only():
    a = make_agreement("A0000001")
    b = make_agreement("B0000002")
    c = make_agreement("C0000003")
    user = make_user("alice@contoso.com")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email="Alice.Old@Contoso.com", verified=True)
    EmailAddress.objects.create(user=user, email="unproved@contoso.com", verified=False)
    AgreementContact.objects.create(
        agreement=a, role=Role.PRIMARY_CONTACT, email="ALICE@contoso.com"
    )
    PermissionGrant.objects.create(agreement=a, email="alice@contoso.com", kind=Kind.ADMINISTRATOR)
    PermissionGrant.objects.create(agreement=b, email="alice.old@contoso.com", kind=Kind.DOWNLOADS)
    PermissionGrant.objects.create(agreement=c, email="unproved@contoso.com", kind=Kind.DOWNLOADS)

    rows = selectors.user_access(user=user)

    assert [r.agreement.number for r in rows] == ["A0000001", "B0000002"]
    assert rows[0].role_labels == ["Primary Contact"]
    assert rows[0].kinds == [
        Kind.ADMINISTRATOR,
        Kind.LICENSING_INFO_VIEWER,
        Kind.DOWNLOADS,
        Kind.PRODUCT_KEYS,
    ]
    assert rows[1].kinds == [Kind.DOWNLOADS]
    assert str(KIND_ALLOWS[Kind.DOWNLOADS]) in rows[1].may


def test_addresses_are_stored_lower_case():
    a = make_agreement("a0000009")
    contact = AgreementContact.objects.create(
        agreement=a, role=Role.PRIMARY_CONTACT, email=" Bob@Fabrikam.COM "
    )
    assert contact.email == "bob@fabrikam.com"
    assert a.number == "A0000009"


def test_an_outsider_has_no_rows(outsider, contoso):
    assert selectors.user_access(user=outsider) == []


def _populate(n: int, email: str) -> None:
    for i in range(n):
        agreement = make_agreement(f"N{len(email)}{i:06d}")
        AgreementContact.objects.create(agreement=agreement, role=Role.PRIMARY_CONTACT, email=email)
        PermissionGrant.objects.create(agreement=agreement, email=email, kind=Kind.DOWNLOADS)
        PermissionGrant.objects.create(
            agreement=agreement, email="other@x.com", kind=Kind.DOWNLOADS
        )


@pytest.mark.parametrize("size", [2, 25])
def test_access_takes_constant_queries(client, django_assert_max_num_queries, size):
    user = make_user("alice@contoso.com")
    _populate(size, "alice@contoso.com")
    with django_assert_max_num_queries(3):
        rows = selectors.user_access(user=user)
    assert len(rows) == size
    client.force_login(user)
    with django_assert_max_num_queries(8):
        response = client.get("/agreements/request-access/")
    assert response.status_code == 200


def test_the_agreement_page_shows_what_each_permission_allows(client, contoso):
    user = make_user("alice@contoso.com")
    AgreementContact.objects.create(agreement=contoso, role=Role.PRIMARY_CONTACT, email=user.email)
    client.force_login(user)
    response = client.get("/agreements/v1234567/")
    assert response.status_code == 200
    body = response.content.decode()
    assert str(KIND_ALLOWS[Kind.PRODUCT_KEYS]) in body
    assert "People with access" not in body  # not an administrator


def test_the_administrator_sees_the_agreements_users_and_states(vlsc_admin_client, contoso):
    AgreementContact.objects.create(
        agreement=contoso, role=Role.PRIMARY_CONTACT, email="alice@contoso.com"
    )
    response = vlsc_admin_client.get("/agreements/V1234567/")
    body = response.content.decode()
    assert "People with access" in body
    assert "alice@contoso.com" in body and "Not invited" in body


def test_another_agreement_or_an_unknown_number_is_the_same_404(client, contoso, fabrikam):
    user = make_user("alice@contoso.com")
    AgreementContact.objects.create(agreement=contoso, role=Role.PRIMARY_CONTACT, email=user.email)
    client.force_login(user)
    other = client.get("/agreements/O8880202/")
    unknown = client.get("/agreements/NOPE%3Cx%3E/")
    assert other.status_code == unknown.status_code == 404
    assert "Agreement not available" in other.content.decode()
    assert "Agreement not available" in unknown.content.decode()
    # a NUL byte is refused before any lookup (PostgreSQL cannot store it): 400, not 500
    assert client.get("/agreements/NOPE%00%3Cx%3E/").status_code == 400


def test_pages_need_sign_in(client, contoso):
    response = client.get("/agreements/V1234567/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
