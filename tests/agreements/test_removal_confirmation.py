"""Removing contacts or permissions in the admin goes through a confirmation page that lists
what goes and says, before the person confirms, when an agreement's last Administrator would
go, and whether the removal will then be refused."""

from __future__ import annotations

import pytest

from agreements import services
from agreements.models import AgreementContact, PermissionGrant
from tests.agreements.conftest import make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role
GRANTS = "/admin/agreements/permissiongrant/"
CONTACTS = "/admin/agreements/agreementcontact/"
REFUSED = "This would remove the last Administrator of agreement V1234567: yours."
NONE_LEFT = "This removes the last Administrator of agreement V1234567: nobody will"
HEADING = "Administrator access would go"
OWN = "This removes your own Administrator permission on agreement V1234567"


@pytest.fixture
def own(administrator):
    return PermissionGrant.objects.get(email="admin@contoso.com", kind=Kind.ADMINISTRATOR)


def page(client, url, data=None) -> str:
    response = client.post(url, data) if data else client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_delete_page_says_the_last_administrators_own_removal_will_be_refused(
    vlsc_admin_client, own
):
    html = page(vlsc_admin_client, f"{GRANTS}{own.pk}/delete/")
    assert HEADING in html and REFUSED in html
    assert "Are you sure you want to delete the permission" in html  # Django's list of what goes
    assert html.index(REFUSED) < html.index("Are you sure")
    assert PermissionGrant.objects.filter(pk=own.pk).exists()  # a GET removes nothing


def test_delete_selected_says_it_for_a_selection_holding_the_own_and_every_other(
    vlsc_admin_client, own, contoso
):
    other = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    downloads = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.DOWNLOADS
    )
    selection = {"action": "delete_selected", "_selected_action": [own.pk, other.pk, downloads.pk]}
    html = page(vlsc_admin_client, GRANTS, selection)
    assert REFUSED in html
    assert "second@contoso.com" in html and "d@contoso.com" in html  # what goes, listed
    assert PermissionGrant.objects.count() == 3


def test_removing_ones_own_while_another_administrator_stays_says_one_loses_it(
    vlsc_admin_client, own, contoso
):
    """The issue's case: admin@contoso.com removed his own Administrator on E5550101, where
    it@contoso.com is an Online Administrator, and the agreement left his admin unannounced."""
    AgreementContact.objects.create(
        agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="second@contoso.com"
    )
    html = page(vlsc_admin_client, f"{GRANTS}{own.pk}/delete/")
    assert OWN in html and REFUSED not in html
    selection = {"action": "delete_selected", "_selected_action": [own.pk]}
    assert OWN in page(vlsc_admin_client, GRANTS, selection)


def test_nothing_is_said_when_one_keeps_administrator_another_way(vlsc_admin_client, own, contoso):
    AgreementContact.objects.create(
        agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="admin@contoso.com"
    )
    assert HEADING not in page(vlsc_admin_client, f"{GRANTS}{own.pk}/delete/")


def test_removing_someone_elses_permission_says_nothing(vlsc_admin_client, own, contoso):
    grant = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.ADMINISTRATOR
    )
    assert HEADING not in page(vlsc_admin_client, f"{GRANTS}{grant.pk}/delete/")


def test_the_contacts_pages_say_it_too(vlsc_admin_client, administrator, contoso):
    """admin@contoso.com is an Online Administrator contact too: removing that contact alone
    leaves his grant (nothing said); his grant gone, the contact's removal is refused."""
    contact = AgreementContact.objects.create(
        agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="admin@contoso.com"
    )
    assert HEADING not in page(vlsc_admin_client, f"{CONTACTS}{contact.pk}/delete/")
    PermissionGrant.objects.filter(email="admin@contoso.com").delete()
    assert REFUSED in page(vlsc_admin_client, f"{CONTACTS}{contact.pk}/delete/")
    selection = {"action": "delete_selected", "_selected_action": [contact.pk]}
    assert REFUSED in page(vlsc_admin_client, CONTACTS, selection)


def test_a_superuser_removing_the_last_administrator_is_told_none_will_be_left(
    client, superuser, administrator, own
):
    client.force_login(superuser)
    html = page(client, f"{GRANTS}{own.pk}/delete/")
    assert NONE_LEFT in html and "refused" not in html.split(NONE_LEFT)[1][:200]


def test_the_sentences_follow_the_rule_the_removal_applies(contoso, administrator, own):
    """What the page says is what happens: refused for the own last one, allowed otherwise."""
    warnings = services.last_administrator_warnings(actor=administrator, grants=[own])
    assert warnings == [
        "This would remove the last Administrator of agreement V1234567: yours. The removal "
        "will be refused and nothing will be removed. Give another person Administrator first, "
        "or leave your own out of the selection."
    ]
    with pytest.raises(services.LastAdministrator):
        services.permission_revoke(grant=own, actor=administrator, step_up_at=None)
    someone = make_user("someone@contoso.com")
    assert services.last_administrator_warnings(actor=someone, grants=[own]) == [
        "This removes the last Administrator of agreement V1234567: nobody will be able to "
        "manage its permissions until someone is given Administrator again."
    ]
    assert services.last_administrator_warnings(actor=administrator, grants=[]) == []
