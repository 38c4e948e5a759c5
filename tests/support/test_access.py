"""Every support page and action: support staff and superusers only; 403 for everyone else."""

from __future__ import annotations

import pytest

from accounts.models import Registration, User
from support import services
from support.models import SupportAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_ref(db) -> str:
    return services.open_support_request(
        name="Bob", email="bob@fabrikam.com", topic="sign_in", message="I cannot sign in."
    ).reference


def pages(pending, ref):
    return [
        ("get", "/support/", {}),
        ("get", "/support/?q=bob@fabrikam.com", {}),
        ("get", f"/support/person/?user={pending.user_id}", {}),
        ("get", "/support/queue/", {}),
        ("get", "/support/overview/", {}),
        ("get", f"/support/requests/{ref}/", {}),
        ("post", f"/support/requests/{ref}/assign/", {}),
        ("post", f"/support/requests/{ref}/answer/", {"answer": "Here you are."}),
        ("post", f"/support/requests/{ref}/close/", {"close-reason": "done"}),
        (
            "post",
            f"/support/registrations/{pending.pk}/resend/",
            {f"resend-{pending.pk}-reason": "x"},
        ),
        (
            "post",
            f"/support/registrations/{pending.pk}/cancel/",
            {f"cancel-{pending.pk}-reason": "x"},
        ),
    ]


def test_it_refuses_every_page_and_action_to_a_signed_in_outsider(
    client, outsider, pending, request_ref
):
    client.force_login(outsider)
    for method, url, data in pages(pending, request_ref):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, url
    assert not SupportAction.objects.exists()
    assert Registration.objects.get().state == Registration.State.PENDING


def test_it_refuses_a_staff_user_of_the_admin_who_is_not_support(client, pending, request_ref):
    admin = User.objects.create(username="ad", email="admin@contoso.com", is_staff=True)
    client.force_login(admin)
    for method, url, data in pages(pending, request_ref):
        assert getattr(client, method)(url, data).status_code == 403, url


def test_it_sends_signed_out_visitors_to_sign_in(client, pending, request_ref):
    for method, url, data in pages(pending, request_ref):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/sign-in/"), url
    assert not SupportAction.objects.exists()


def test_it_lets_support_staff_and_superusers_in(client, support_user, pending, request_ref):
    superuser = User.objects.create(username="root", email="root@vlsc.example", is_superuser=True)
    for user in (support_user, superuser):
        client.force_login(user)
        for url in (
            "/support/",
            "/support/queue/",
            "/support/overview/",
            f"/support/requests/{request_ref}/",
        ):
            assert client.get(url).status_code == 200, url


def test_it_accepts_only_post_for_actions(support_client, pending, request_ref):
    for url in (
        f"/support/requests/{request_ref}/assign/",
        f"/support/requests/{request_ref}/answer/",
        f"/support/requests/{request_ref}/close/",
        f"/support/registrations/{pending.pk}/resend/",
        f"/support/registrations/{pending.pk}/cancel/",
    ):
        assert support_client.get(url).status_code == 405, url


def test_it_needs_a_csrf_token_for_actions(support_user, pending, request_ref):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    response = client.post(f"/support/requests/{request_ref}/assign/")
    assert response.status_code == 403
    assert not SupportAction.objects.exists()


def test_the_contact_form_is_open_to_everyone(client, outsider):
    assert client.get("/support/contact/").status_code == 200
    client.force_login(outsider)
    assert client.get("/support/contact/").status_code == 200


def test_the_admin_shows_support_records_read_only_to_support_only(
    client, support_user, outsider, request_ref
):
    support_user.is_staff = True
    support_user.save()
    client.force_login(support_user)
    assert client.get("/admin/support/supportrequest/").status_code == 200
    page = client.get("/admin/support/supportrequest/").content.decode()
    assert request_ref in page
    assert client.get("/admin/support/supportrequest/add/").status_code == 403
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    assert client.get("/admin/support/supportrequest/").status_code == 403


def test_the_permission_not_the_group_name_opens_the_support_pages(client, pending, request_ref):
    """A group that is merely called "Support staff" gives nothing; the permission, however
    held, gives the pages."""
    from django.contrib.auth.models import Group, Permission

    impostors = Group.objects.create(name="Support staff (copy)")
    member = User.objects.create(username="m", email="m@contoso.com")
    member.groups.add(impostors)
    client.force_login(member)
    assert client.get("/support/").status_code == 403
    member.user_permissions.add(Permission.objects.get(codename="use_support_console"))
    assert client.get("/support/").status_code == 200


def test_the_support_staff_group_is_made_by_the_migrations_with_the_permission():
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Support staff")
    assert [p.codename for p in group.permissions.all()] == ["use_support_console"]
