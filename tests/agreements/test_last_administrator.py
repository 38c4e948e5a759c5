"""The last administrator's own Administrator permission cannot be deleted through the admin:
the delete page (``delete_model``) and "Delete selected" (``delete_queryset``) refuse it with a
message and delete nothing, whatever else was selected, and two administrators stepping down
at the same moment leave one."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client

from agreements.models import AgreementContact, AuditEvent, PermissionGrant
from agreements.services import permissions as permission_services
from tests.agreements.conftest import make_user
from tests.agreements.test_step_up import signed_in_minutes_ago

Kind = PermissionGrant.Kind
CHANGELIST = "/admin/agreements/permissiongrant/"
REFUSED = "You are the last administrator of this agreement"


def delete_page(grant: PermissionGrant) -> str:
    return f"{CHANGELIST}{grant.pk}/delete/"


def nothing_deleted(*grants: PermissionGrant) -> bool:
    return (
        PermissionGrant.objects.filter(pk__in=[g.pk for g in grants]).count() == len(grants)
        and not AuditEvent.objects.exists()
        and not LogEntry.objects.exists()
    )


@pytest.fixture
def own(administrator):
    return PermissionGrant.objects.get(email="admin@contoso.com", kind=Kind.ADMINISTRATOR)


@pytest.mark.django_db
def test_the_delete_page_refuses_the_last_administrators_own_and_says_why(vlsc_admin_client, own):
    signed_in_minutes_ago(vlsc_admin_client, 0)
    response = vlsc_admin_client.post(delete_page(own), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert response.redirect_chain[-1][0] == f"{CHANGELIST}{own.pk}/change/"
    assert nothing_deleted(own)


@pytest.mark.django_db
def test_delete_selected_refuses_it_and_deletes_nothing_else_selected(
    vlsc_admin_client, own, contoso
):
    signed_in_minutes_ago(vlsc_admin_client, 0)
    downloads = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.DOWNLOADS
    )
    response = vlsc_admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "post": "yes", "_selected_action": [downloads.pk, own.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert REFUSED in body and "Successfully deleted" not in body
    assert nothing_deleted(own, downloads)


@pytest.mark.django_db
def test_deleting_ones_own_with_every_other_administrator_is_refused_in_either_order(
    vlsc_admin_client, own, contoso
):
    """Selecting one's own and the other administrator's: the other's alone would be allowed,
    and one's own alone too, but not both."""
    signed_in_minutes_ago(vlsc_admin_client, 0)
    second = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    for selected in ([own.pk, second.pk], [second.pk, own.pk]):
        response = vlsc_admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "post": "yes", "_selected_action": selected},
            follow=True,
        )
        assert REFUSED in response.content.decode()
        assert nothing_deleted(own, second)


@pytest.mark.django_db
def test_with_another_administrator_both_paths_delete(vlsc_admin_client, own, contoso):
    signed_in_minutes_ago(vlsc_admin_client, 0)
    second = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    downloads = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.DOWNLOADS
    )
    response = vlsc_admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "post": "yes", "_selected_action": [downloads.pk, own.pk]},
        follow=True,
    )
    assert "Successfully deleted 2 permissions" in response.content.decode()
    assert not PermissionGrant.objects.filter(pk__in=[own.pk, downloads.pk]).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_REMOVED).count() == 2
    assert LogEntry.objects.count() == 2
    # The remaining administrator, through the delete page, as a superuser would.
    root = make_user("root@vlsc.example", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)
    signed_in_minutes_ago(client, 0)
    client.post(delete_page(second), {"post": "yes"})
    assert not PermissionGrant.objects.filter(pk=second.pk).exists()


@pytest.mark.django_db
def test_the_last_online_administrator_contacts_own_is_refused_too(vlsc_admin_client, contoso):
    PermissionGrant.objects.filter(email="admin@contoso.com").delete()
    contact = AgreementContact.objects.create(
        agreement=contoso,
        role=AgreementContact.Role.ONLINE_ADMINISTRATOR,
        email="admin@contoso.com",
    )
    signed_in_minutes_ago(vlsc_admin_client, 0)
    for url, data in [
        (f"/admin/agreements/agreementcontact/{contact.pk}/delete/", {"post": "yes"}),
        (
            "/admin/agreements/agreementcontact/",
            {"action": "delete_selected", "post": "yes", "_selected_action": [contact.pk]},
        ),
    ]:
        response = vlsc_admin_client.post(url, data, follow=True)
        assert REFUSED in response.content.decode()
    assert AgreementContact.objects.filter(pk=contact.pk).exists()
    assert not LogEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_administrators_stepping_down_at_once_leave_one(contoso, monkeypatch):
    """Each may step down while the other is there; at the same moment, one of them must be
    refused. The check is held open until both have made it (or two seconds have passed, which
    is what happens when the first removal holds the agreement's lock)."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    from agreements.services import sync_staff_access

    people = ["admin@contoso.com", "second@contoso.com"]
    clients = []
    for email in people:
        PermissionGrant.objects.create(agreement=contoso, email=email, kind=Kind.ADMINISTRATOR)
        user = make_user(email)
        sync_staff_access(user=user)
        client = Client()
        client.force_login(user)
        signed_in_minutes_ago(client, 0)
        clients.append(client)
    grants = {g.email: g for g in PermissionGrant.objects.all()}
    both_checked = threading.Barrier(2)
    check = permission_services.refuse_last_administrator

    def slow_check(**kwargs):
        check(**kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)

    monkeypatch.setattr(permission_services, "refuse_last_administrator", slow_check)
    pages: list[str] = []

    def step_down(client: Client, email: str) -> None:
        try:
            response = client.post(delete_page(grants[email]), {"post": "yes"}, follow=True)
            pages.append(response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=step_down, args=pair) for pair in zip(clients, people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert PermissionGrant.objects.filter(kind=Kind.ADMINISTRATOR).count() == 1
    assert sum(REFUSED in page for page in pages) == 1
