"""The Django admin scoped for VLSC administrators, staff sync, sole-admin protection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Conversion, Registration, User
from accounts.signals import address_verified
from agreements import selectors, services
from agreements.models import AgreementContact, AuditEvent, Invitation, PermissionGrant
from notifications.models import OutboundEmail
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role


# --- staff access -------------------------------------------------------------------------


def test_address_verified_makes_an_administrator_staff(contoso):
    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind=Kind.ADMINISTRATOR
    )
    user = make_user("admin@contoso.com")
    assert not user.is_staff
    address_verified.send(sender=None, user=user, email="admin@contoso.com")
    user.refresh_from_db()
    assert user.is_staff
    assert user.groups.filter(name=services.ADMINISTRATORS_GROUP).exists()
    assert user.has_perm("agreements.add_permissiongrant")
    assert not user.has_perm("agreements.change_agreement")


def test_losing_administrator_withdraws_staff_but_never_demotes_a_superuser(
    contoso, administrator, superuser
):
    grant = PermissionGrant.objects.get(email="admin@contoso.com")
    services.permission_revoke(grant=grant, actor=superuser, step_up_at=timezone.now())
    administrator.refresh_from_db()
    assert not administrator.is_staff
    assert not administrator.groups.exists()
    services.sync_staff_access(user=superuser)
    user_logged_in.send(sender=type(superuser), request=RequestFactory().get("/"), user=superuser)
    superuser.refresh_from_db()
    assert superuser.is_staff and superuser.is_superuser


def test_a_grant_added_later_promotes_at_once(contoso, superuser):
    user = make_user("later@contoso.com")
    services.permission_grant(
        agreement=contoso,
        email="later@contoso.com",
        kind=Kind.ADMINISTRATOR,
        actor=superuser,
        step_up_at=timezone.now(),
    )
    user.refresh_from_db()
    assert user.is_staff


def test_the_admin_login_goes_through_the_work_account_sign_in(client, outsider):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=%2Fadmin%2F"
    client.force_login(outsider)
    assert client.get("/admin/login/?next=/admin/").status_code == 403
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403


def test_a_signed_in_administrator_passes_the_admin_login(vlsc_admin_client):
    response = vlsc_admin_client.get("/admin/login/?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


# --- scoping ----------------------------------------------------------------------------


@pytest.fixture
def both(contoso, fabrikam, administrator):
    AgreementContact.objects.create(
        agreement=contoso, role=Role.PRIMARY_CONTACT, email="alice@contoso.com"
    )
    AgreementContact.objects.create(
        agreement=fabrikam, role=Role.PRIMARY_CONTACT, email="licensing@fabrikam.com"
    )
    fab_grant = PermissionGrant.objects.create(
        agreement=fabrikam, email="fab@fabrikam.com", kind=Kind.DOWNLOADS
    )
    return contoso, fabrikam, fab_grant


def test_changelists_show_only_administered_agreements(vlsc_admin_client, both):
    contoso, fabrikam, _ = both
    body = vlsc_admin_client.get("/admin/agreements/agreement/").content.decode()
    assert "V1234567" in body and "O8880202" not in body
    body = vlsc_admin_client.get("/admin/agreements/agreementcontact/").content.decode()
    assert "alice@contoso.com" in body and "licensing@fabrikam.com" not in body
    body = vlsc_admin_client.get("/admin/agreements/permissiongrant/").content.decode()
    assert "fab@fabrikam.com" not in body


def test_search_by_number_customer_or_address_stays_in_scope(vlsc_admin_client, both):
    for term in ["O8880202", "Fabrikam", "licensing@fabrikam.com"]:
        body = vlsc_admin_client.get("/admin/agreements/agreement/", {"q": term}).content.decode()
        assert "0 results" in body and "Fabrikam, Inc." not in body, term
    body = vlsc_admin_client.get(
        "/admin/agreements/agreement/", {"q": "alice@contoso.com"}
    ).content.decode()
    assert "V1234567" in body


def test_another_agreements_pages_are_not_reachable_by_url(vlsc_admin_client, both):
    _, fabrikam, fab_grant = both
    for url in [
        f"/admin/agreements/agreement/{fabrikam.pk}/change/",
        f"/admin/agreements/permissiongrant/{fab_grant.pk}/change/",
        f"/admin/agreements/permissiongrant/{fab_grant.pk}/delete/",
    ]:
        response = vlsc_admin_client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url
    assert vlsc_admin_client.get("/admin/agreements/agreement/add/").status_code == 403


def test_a_forged_post_for_another_agreement_is_refused(vlsc_admin_client, both):
    contoso, fabrikam, fab_grant = both
    response = vlsc_admin_client.post(
        "/admin/agreements/permissiongrant/add/",
        {"agreement": fabrikam.pk, "email": "mallory@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PermissionGrant.objects.filter(email="mallory@contoso.com").exists()
    # Changing one's own grant to point at the other agreement.
    own = PermissionGrant.objects.get(email="admin@contoso.com")
    response = vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{own.pk}/change/",
        {"agreement": fabrikam.pk, "email": "admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    own.refresh_from_db()
    assert own.agreement == contoso
    # A bulk action with another agreement's row selected.
    vlsc_admin_client.post(
        "/admin/agreements/permissiongrant/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [fab_grant.pk]},
    )
    assert PermissionGrant.objects.filter(pk=fab_grant.pk).exists()
    # A forged delete.
    vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{fab_grant.pk}/delete/", {"post": "yes"}
    )
    assert PermissionGrant.objects.filter(pk=fab_grant.pk).exists()


def test_adding_a_grant_in_the_admin_queues_the_welcome_and_audits(
    vlsc_admin_client, administrator, contoso
):
    response = vlsc_admin_client.post(
        "/admin/agreements/permissiongrant/add/",
        {"agreement": contoso.pk, "email": "New@Contoso.com", "kind": Kind.PRODUCT_KEYS},
    )
    assert response.status_code == 302
    grant = PermissionGrant.objects.get(email="new@contoso.com")
    assert grant.granted_by == administrator
    assert OutboundEmail.objects.filter(to="new@contoso.com", kind="agreement_welcome").count() == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_GRANTED)
    assert (event.actor, event.agreement, event.subject_email) == (
        administrator,
        contoso,
        "new@contoso.com",
    )
    # Saving it again unchanged sends nothing more.
    vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{grant.pk}/change/",
        {"agreement": contoso.pk, "email": "new@contoso.com", "kind": Kind.PRODUCT_KEYS},
    )
    assert OutboundEmail.objects.filter(to="new@contoso.com").count() == 1


def test_superusers_see_everything(client, superuser, both):
    client.force_login(superuser)
    body = client.get("/admin/agreements/agreement/").content.decode()
    assert "V1234567" in body and "O8880202" in body


def test_audit_events_are_read_only(vlsc_admin_client, contoso, administrator):
    services.permission_grant(
        agreement=contoso, email="x@contoso.com", kind=Kind.DOWNLOADS, actor=administrator
    )
    event = AuditEvent.objects.get()
    response = vlsc_admin_client.get(f"/admin/agreements/auditevent/{event.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert vlsc_admin_client.get("/admin/agreements/auditevent/add/").status_code == 403
    vlsc_admin_client.post(f"/admin/agreements/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- sole administrator -----------------------------------------------------------------


def test_the_last_administrator_cannot_remove_their_own_administrator(
    vlsc_admin_client, administrator, contoso
):
    own = PermissionGrant.objects.get(email="admin@contoso.com")
    with pytest.raises(services.LastAdministrator):
        services.permission_revoke(grant=own, actor=administrator)
    response = vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{own.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "last administrator" in response.content.decode()
    response = vlsc_admin_client.post(
        "/admin/agreements/permissiongrant/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [own.pk]},
        follow=True,
    )
    assert "last administrator" in response.content.decode()
    response = vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{own.pk}/change/",
        {"agreement": contoso.pk, "email": "admin@contoso.com", "kind": Kind.DOWNLOADS},
    )
    assert response.status_code == 200 and "last administrator" in response.content.decode()
    own.refresh_from_db()
    assert own.kind == Kind.ADMINISTRATOR


def test_with_a_second_administrator_one_may_step_down(vlsc_admin_client, administrator, contoso):
    PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    own = PermissionGrant.objects.get(email="admin@contoso.com")
    services.permission_revoke(grant=own, actor=administrator, step_up_at=timezone.now())
    assert not PermissionGrant.objects.filter(pk=own.pk).exists()


# --- invitations ------------------------------------------------------------------------


def _registered(email: str, *, at, user=None):
    """A registration of ``email`` confirmed at ``at`` (by a user of its own unless given)."""
    user = user or make_user(email)
    return Registration.objects.create(
        user=user,
        state=Registration.State.COMPLETED,
        sign_in_address=user.email,
        invitation_address=email,
        created_at=at - timedelta(minutes=5),
        expires_at=at + timedelta(hours=48),
        completed_at=at,
        nonce="n",
    )


def test_invited_addresses_show_the_invitations_state_not_the_persons(
    vlsc_admin_client, administrator, contoso
):
    """Sent, expired or accepted (the address registered while the invitation was open); never
    whether the owner of an address, perhaps of another organisation, registered before the
    invitation or signs in."""
    now = timezone.now()
    addresses = [
        "sent@contoso.com",
        "old@contoso.com",
        "accepted@contoso.com",
        "converted@contoso.com",
        "already@woodgrove.com",
        "late@contoso.com",
    ]
    for email in addresses:
        services.permission_grant(
            agreement=contoso, email=email, kind=Kind.DOWNLOADS, actor=administrator
        )
    long_ago = now - timedelta(days=40)
    Invitation.objects.filter(email__in=["old@contoso.com", "late@contoso.com"]).update(
        first_sent_at=long_ago, last_sent_at=long_ago
    )
    _registered("accepted@contoso.com", at=now + timedelta(minutes=1))
    legacy = User.objects.create(username="legacy", email="legacy@outlook.com")
    Conversion.objects.create(
        user=legacy,
        personal_uid="p.t",
        personal_address="legacy@outlook.com",
        name="Legacy",
        work_email="converted@contoso.com",
        state=Conversion.State.COMPLETED,
        expires_at=now + timedelta(days=1),
        completed_at=now + timedelta(minutes=1),
    )
    # harry registered his address a year ago and signs in every day: an administrator of
    # Contoso adding it learns nothing of that.
    harry = make_user("already@woodgrove.com", last_login=now + timedelta(minutes=2))
    _registered("already@woodgrove.com", at=now - timedelta(days=365), user=harry)
    # Registered only after the invitation had expired: not an answer to it.
    _registered("late@contoso.com", at=now - timedelta(days=5))

    states = {row.email: row.state for row in selectors.invited_addresses(agreement=contoso)}
    assert states == {
        "admin@contoso.com": "Not invited",
        "sent@contoso.com": "Invitation sent",
        "old@contoso.com": "Invitation expired",
        "accepted@contoso.com": "Invitation accepted",
        "converted@contoso.com": "Invitation accepted",
        "already@woodgrove.com": "Invitation sent",
        "late@contoso.com": "Invitation expired",
    }
    pages = [
        "/admin/agreements/invitation/",
        f"/admin/agreements/agreement/{contoso.pk}/change/",
        "/agreements/V1234567/",
    ]
    for url in pages:
        body = vlsc_admin_client.get(url).content.decode()
        for state in ["Invitation sent", "Invitation expired", "Invitation accepted"]:
            assert state in body, (url, state)
        assert "Registered" not in body, url
    body = vlsc_admin_client.get("/admin/agreements/invitation/").content.decode()
    assert "Active" not in body
    harry_row = vlsc_admin_client.get(
        "/admin/agreements/invitation/", {"q": "already@woodgrove.com"}
    ).content.decode()
    assert "Invitation sent" in harry_row and "Invitation accepted" not in harry_row


def test_invitations_resend_at_most_every_ten_minutes(vlsc_admin_client, administrator, contoso):
    for email in ["sent@contoso.com", "old@contoso.com"]:
        services.permission_grant(
            agreement=contoso, email=email, kind=Kind.DOWNLOADS, actor=administrator
        )
    long_ago = timezone.now() - timedelta(days=40)
    Invitation.objects.filter(email="old@contoso.com").update(
        first_sent_at=long_ago, last_sent_at=long_ago
    )
    old = Invitation.objects.get(email="old@contoso.com")
    fresh = Invitation.objects.get(email="sent@contoso.com")
    response = vlsc_admin_client.post(
        "/admin/agreements/invitation/",
        {"action": "resend", "_selected_action": [old.pk, fresh.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "Resent 1 invitation" in body and "less than 10 minutes ago" in body
    assert OutboundEmail.objects.filter(to="old@contoso.com").count() == 2
    assert OutboundEmail.objects.filter(to="sent@contoso.com").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITATION_RESENT).count() == 1


# --- query counts -----------------------------------------------------------------------


def _grow(n: int, contoso, fabrikam):
    for i in range(n):
        AgreementContact.objects.create(
            agreement=contoso, role=Role.PRIMARY_CONTACT, email=f"c{i}@contoso.com"
        )
        PermissionGrant.objects.create(
            agreement=contoso, email=f"p{i}@contoso.com", kind=Kind.DOWNLOADS
        )
        Invitation.objects.create(
            agreement=contoso,
            email=f"p{i}@contoso.com",
            first_sent_at=timezone.now(),
            last_sent_at=timezone.now(),
        )
        other = make_agreement(f"X{i:07d}")
        PermissionGrant.objects.create(
            agreement=other, email="admin@contoso.com", kind=Kind.ADMINISTRATOR
        )
        AuditEvent.objects.create(action=AuditEvent.Action.PERMISSION_GRANTED, agreement=other)


@pytest.mark.parametrize("size", [3, 30])
def test_admin_changelists_take_constant_queries(
    vlsc_admin_client, contoso, fabrikam, django_assert_max_num_queries, size
):
    _grow(size, contoso, fabrikam)
    for url in [
        "/admin/agreements/agreement/",
        "/admin/agreements/agreementcontact/",
        "/admin/agreements/permissiongrant/",
        "/admin/agreements/invitation/",
        "/admin/agreements/auditevent/",
        "/admin/agreements/accessrequest/",
        f"/admin/agreements/agreement/{contoso.pk}/change/",
    ]:
        with django_assert_max_num_queries(20):
            response = vlsc_admin_client.get(url)
        assert response.status_code == 200, url


def test_the_administrators_group_is_made_by_the_migrations_with_its_permissions(db):
    """The group is not made or mended at sign-in: migration 0005 makes it, and a change to
    ``ADMINISTRATOR_MODEL_PERMISSIONS`` needs a migration that changes the group."""
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=services.ADMINISTRATORS_GROUP)
    have = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert have == set(services.ADMINISTRATOR_MODEL_PERMISSIONS)
