"""Step-up before anyone is made an Administrator or loses it (issue 13, part 5): the rule in the
services, the admin's forms, delete pages and bulk action, and the round trip through the
stand-in with the form coming back filled in."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts.demo import seed_demo_users
from accounts.models import SignInEvent
from accounts.services import step_up
from agreements import services
from agreements.demo import seed_demo_agreements
from agreements.models import (
    AccessRequest,
    Agreement,
    AgreementContact,
    AuditEvent,
    PermissionGrant,
)
from notifications.models import OutboundEmail
from tests.accounts.standin_driver import sign_in_at_standin
from tests.agreements.conftest import make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role
STALE = timezone.now() - timedelta(minutes=11)


def signed_in_minutes_ago(client: Client, minutes: float) -> None:
    """The session's sign-in at the identity provider (its id_token's auth_time)."""
    session = client.session
    session[step_up.AUTH_TIME] = int(time.time() - minutes * 60)
    session.save()


def nothing_written() -> bool:
    return not AuditEvent.objects.exists() and not OutboundEmail.objects.exists()


# --- the rule, in the service ----------------------------------------------------------------


def test_a_sign_in_within_ten_minutes_counts_and_an_older_or_missing_one_does_not():
    now = timezone.now()
    recent = now - timedelta(minutes=9, seconds=59)
    assert step_up.require_recent_sign_in(step_up_at=recent, now=now) == recent
    for stale in [None, now - timedelta(minutes=10, seconds=1), now + timedelta(minutes=5)]:
        with pytest.raises(step_up.StepUpRequired):
            step_up.require_recent_sign_in(step_up_at=stale, now=now)


@pytest.mark.parametrize(
    ("auth_time", "usable"),
    [
        (lambda now: now - 30, True),
        (lambda now: now + 30, True),  # a clock a little ahead
        (lambda now: now + 600, False),
        (lambda now: None, False),
        (lambda now: str(now), False),
        (lambda now: float(now), False),
        (lambda now: True, False),
    ],
)
def test_only_an_integer_auth_time_not_in_the_future_is_used(auth_time, usable):
    now = int(time.time())
    claims = {"auth_time": auth_time(now)} if auth_time(now) is not None else {}
    assert (step_up.auth_time_from(claims, now=now) is not None) is usable


def test_granting_administrator_needs_a_recent_sign_in_and_records_it(contoso, administrator):
    for step_up_at in [None, STALE]:
        with pytest.raises(services.StepUpRequired):
            services.permission_grant(
                agreement=contoso,
                email="new.admin@contoso.com",
                kind=Kind.ADMINISTRATOR,
                actor=administrator,
                step_up_at=step_up_at,
            )
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    assert nothing_written()

    at = timezone.now() - timedelta(minutes=3)
    services.permission_grant(
        agreement=contoso,
        email="new.admin@contoso.com",
        kind=Kind.ADMINISTRATOR,
        actor=administrator,
        step_up_at=at,
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_GRANTED)
    assert event.step_up_at == at
    assert f"recent sign-in at {at:%Y-%m-%d %H:%M} UTC" in event.detail


def test_other_permissions_need_no_recent_sign_in(contoso, administrator):
    grant = services.permission_grant(
        agreement=contoso, email="keys@contoso.com", kind=Kind.PRODUCT_KEYS, actor=administrator
    )
    grant.kind = Kind.DOWNLOADS
    services.permission_save(grant=grant, actor=administrator)
    services.permission_revoke(grant=grant, actor=administrator)
    assert list(AuditEvent.objects.values_list("step_up_at", flat=True)) == [None] * 3


def test_changing_to_or_from_administrator_or_removing_it_needs_a_recent_sign_in(
    contoso, fabrikam, administrator
):
    downloads = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.DOWNLOADS
    )
    other_admin = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    changes = [
        lambda: services.permission_save(
            grant=PermissionGrant(
                pk=downloads.pk, agreement=contoso, email="d@contoso.com", kind=Kind.ADMINISTRATOR
            ),
            actor=administrator,
            step_up_at=STALE,
        ),
        lambda: services.permission_save(
            grant=PermissionGrant(
                pk=other_admin.pk,
                agreement=contoso,
                email="second@contoso.com",
                kind=Kind.DOWNLOADS,
            ),
            actor=administrator,
            step_up_at=STALE,
        ),
        lambda: services.permission_save(
            grant=PermissionGrant(
                pk=other_admin.pk,
                agreement=fabrikam,
                email="second@contoso.com",
                kind=Kind.ADMINISTRATOR,
            ),
            actor=administrator,
            step_up_at=STALE,
        ),
        lambda: services.permission_revoke(grant=other_admin, actor=administrator),
    ]
    for change in changes:
        with pytest.raises(services.StepUpRequired):
            change()
    assert set(PermissionGrant.objects.values_list("email", "kind", "agreement")) == {
        ("admin@contoso.com", Kind.ADMINISTRATOR, contoso.pk),
        ("d@contoso.com", Kind.DOWNLOADS, contoso.pk),
        ("second@contoso.com", Kind.ADMINISTRATOR, contoso.pk),
    }
    assert nothing_written()
    # Saved again unchanged, an Administrator grant gives nothing and needs nothing.
    services.permission_save(grant=other_admin, actor=administrator)


def test_the_last_administrator_is_told_that_first_not_sent_to_sign_in(contoso, administrator):
    own = PermissionGrant.objects.get(email="admin@contoso.com")
    with pytest.raises(services.LastAdministrator):
        services.permission_revoke(grant=own, actor=administrator)


def test_online_administrator_contacts_need_a_recent_sign_in(contoso, administrator):
    with pytest.raises(services.StepUpRequired):
        services.contact_save(
            contact=AgreementContact(
                agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="it@contoso.com"
            ),
            actor=administrator,
        )
    assert not AgreementContact.objects.exists() and nothing_written()

    named = AgreementContact.objects.create(
        agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="it@contoso.com", name="IT"
    )
    named.name = "Contoso IT"  # a name gives nothing: no sign-in needed
    services.contact_save(contact=named, actor=administrator)
    named.role = Role.PRIMARY_CONTACT
    with pytest.raises(services.StepUpRequired):
        services.contact_save(contact=named, actor=administrator, step_up_at=STALE)
    named.refresh_from_db()
    with pytest.raises(services.StepUpRequired):
        services.contact_remove(contact=named, actor=administrator)
    assert AgreementContact.objects.get().role == Role.ONLINE_ADMINISTRATOR

    primary = services.contact_save(
        contact=AgreementContact(
            agreement=contoso, role=Role.PRIMARY_CONTACT, email="p@contoso.com"
        ),
        actor=administrator,
    )
    services.contact_remove(contact=primary, actor=administrator)

    at = timezone.now()
    services.contact_remove(contact=named, actor=administrator, step_up_at=at)
    assert (
        AuditEvent.objects.get(
            action=AuditEvent.Action.CONTACT_REMOVED, subject_email="it@contoso.com"
        ).step_up_at
        == at
    )


def test_accepting_a_request_for_administrator_needs_a_recent_sign_in(contoso, administrator):
    requester = make_user("harry@woodgrove.com")
    access_request = services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="V1234567",
        kind=Kind.ADMINISTRATOR,
    )
    with pytest.raises(services.StepUpRequired):
        services.access_request_decide(
            access_request=access_request, actor=administrator, accept=True
        )
    access_request.refresh_from_db()
    assert access_request.state == AccessRequest.State.PENDING
    assert not PermissionGrant.objects.filter(email="harry@woodgrove.com").exists()
    # Denying gives nothing: no sign-in needed.
    services.access_request_decide(access_request=access_request, actor=administrator, accept=False)


# --- the admin ---------------------------------------------------------------------------------

ADD_GRANT = "/admin/agreements/permissiongrant/add/"


def step_up_token(response) -> str:
    assert response.status_code == 303, response
    match = re.fullmatch(r"/sign-in/again/([^/]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def test_a_stale_sign_in_sends_the_admin_to_sign_in_again_and_grants_nothing(
    vlsc_admin_client, contoso
):
    signed_in_minutes_ago(vlsc_admin_client, 11)
    response = vlsc_admin_client.post(
        ADD_GRANT,
        {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    token = step_up_token(response)
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    assert nothing_written()
    page = vlsc_admin_client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sign in again to make this change" in body
    assert "the last 10 minutes" in body and "admin@contoso.com" in body
    assert f'href="{ADD_GRANT}"' in body  # cancel: back to the form
    assert token in vlsc_admin_client.session[step_up.PENDING]


def test_a_session_without_a_sign_in_time_needs_it_too(vlsc_admin_client, contoso):
    response = vlsc_admin_client.post(
        ADD_GRANT,
        {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    step_up_token(response)
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()


def test_a_recent_sign_in_grants_at_once_and_the_audit_says_when(
    vlsc_admin_client, contoso, administrator
):
    signed_in_minutes_ago(vlsc_admin_client, 4)
    response = vlsc_admin_client.post(
        ADD_GRANT,
        {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    assert response.status_code == 302
    assert PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_GRANTED)
    assert event.step_up_at == step_up.signed_in_at(vlsc_admin_client.session)


def test_other_permissions_in_the_admin_need_no_step_up(vlsc_admin_client, contoso):
    signed_in_minutes_ago(vlsc_admin_client, 60)
    response = vlsc_admin_client.post(
        ADD_GRANT, {"agreement": contoso.pk, "email": "k@contoso.com", "kind": Kind.PRODUCT_KEYS}
    )
    assert response.status_code == 302
    assert PermissionGrant.objects.filter(email="k@contoso.com").exists()


def test_an_invalid_form_shows_its_errors_before_any_step_up(vlsc_admin_client, fabrikam):
    response = vlsc_admin_client.post(
        ADD_GRANT,
        {"agreement": fabrikam.pk, "email": "mallory@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_coming_back_shows_the_form_with_what_was_typed_once_and_saves_nothing(
    vlsc_admin_client, contoso, administrator
):
    signed_in_minutes_ago(vlsc_admin_client, 11)
    token = step_up_token(
        vlsc_admin_client.post(
            ADD_GRANT,
            {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
        )
    )
    # Another form's path, or nobody's key, prefills nothing.
    other = vlsc_admin_client.get("/admin/agreements/agreementcontact/add/", {"step_up": token})
    assert "new.admin@contoso.com" not in other.content.decode()
    back = vlsc_admin_client.get(ADD_GRANT, {"step_up": token})
    body = back.content.decode()
    assert back.status_code == 200
    assert 'value="new.admin@contoso.com"' in body
    assert re.search(r'<option value="administrator" selected>', body)
    assert re.search(rf'<option value="{contoso.pk}" selected>', body)
    assert "Nothing has been changed yet" in body
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    # One time only.
    again = vlsc_admin_client.get(ADD_GRANT, {"step_up": token}).content.decode()
    assert 'value="new.admin@contoso.com"' not in again


def test_another_user_cannot_use_the_kept_form(client, vlsc_admin_client, contoso):
    signed_in_minutes_ago(vlsc_admin_client, 11)
    token = step_up_token(
        vlsc_admin_client.post(
            ADD_GRANT,
            {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
        )
    )
    pending = vlsc_admin_client.session[step_up.PENDING]
    other = make_user("second@contoso.com")
    PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    services.sync_staff_access(user=other)
    other_client = Client()
    other_client.force_login(other)
    session = other_client.session
    session[step_up.PENDING] = pending  # even with the record copied into the session
    session.save()
    body = other_client.get(ADD_GRANT, {"step_up": token}).content.decode()
    assert "new.admin@contoso.com" not in body
    assert other_client.get(f"/sign-in/again/{token}/")["Location"] == "/dashboard/"


def test_changing_and_deleting_an_administrator_grant_in_the_admin_need_it(
    vlsc_admin_client, contoso
):
    second = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    signed_in_minutes_ago(vlsc_admin_client, 11)
    change = f"/admin/agreements/permissiongrant/{second.pk}/change/"
    token = step_up_token(
        vlsc_admin_client.post(
            change, {"agreement": contoso.pk, "email": "second@contoso.com", "kind": Kind.DOWNLOADS}
        )
    )
    body = vlsc_admin_client.get(change, {"step_up": token}).content.decode()
    assert re.search(r'<option value="downloads" selected>', body)
    delete = f"/admin/agreements/permissiongrant/{second.pk}/delete/"
    token = step_up_token(vlsc_admin_client.post(delete, {"post": "yes"}))
    page = vlsc_admin_client.get(delete, {"step_up": token}).content.decode()
    assert "Are you sure" in page and "Nothing has been changed yet" in page
    second.refresh_from_db()
    assert second.kind == Kind.ADMINISTRATOR
    assert nothing_written()

    signed_in_minutes_ago(vlsc_admin_client, 1)
    vlsc_admin_client.post(delete, {"post": "yes"})
    assert not PermissionGrant.objects.filter(pk=second.pk).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_REMOVED).step_up_at


def test_the_bulk_removal_removes_nothing_without_it_then_confirms_the_same_rows(
    vlsc_admin_client, contoso
):
    downloads = PermissionGrant.objects.create(
        agreement=contoso, email="d@contoso.com", kind=Kind.DOWNLOADS
    )
    second = PermissionGrant.objects.create(
        agreement=contoso, email="second@contoso.com", kind=Kind.ADMINISTRATOR
    )
    changelist = "/admin/agreements/permissiongrant/"
    signed_in_minutes_ago(vlsc_admin_client, 11)
    response = vlsc_admin_client.post(
        changelist,
        {
            "action": "delete_selected",
            "post": "yes",
            "index": 0,
            "_selected_action": [downloads.pk, second.pk],
        },
    )
    token = step_up_token(response)
    assert PermissionGrant.objects.filter(pk__in=[downloads.pk, second.pk]).count() == 2
    assert nothing_written()

    signed_in_minutes_ago(vlsc_admin_client, 0)
    confirm = vlsc_admin_client.get(changelist, {"step_up": token})
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete them?" in body
    assert "d@contoso.com" in body and "second@contoso.com" in body
    assert PermissionGrant.objects.filter(pk__in=[downloads.pk, second.pk]).count() == 2
    ids = re.findall(r'name="_selected_action" value="(\d+)"', body)
    assert 'name="post" value="yes"' in body and 'value="delete_selected"' in body
    vlsc_admin_client.post(
        changelist, {"action": "delete_selected", "post": "yes", "_selected_action": ids}
    )
    assert not PermissionGrant.objects.filter(pk__in=[downloads.pk, second.pk]).exists()
    # An unknown or used key shows the plain list.
    assert vlsc_admin_client.get(changelist, {"step_up": token})["Location"] == changelist


def test_online_administrator_contacts_in_the_admin_need_it(vlsc_admin_client, contoso):
    signed_in_minutes_ago(vlsc_admin_client, 11)
    add = "/admin/agreements/agreementcontact/add/"
    data = {
        "agreement": contoso.pk,
        "role": Role.ONLINE_ADMINISTRATOR,
        "name": "Contoso IT",
        "email": "it@contoso.com",
    }
    token = step_up_token(vlsc_admin_client.post(add, data))
    assert not AgreementContact.objects.exists()
    body = vlsc_admin_client.get(add, {"step_up": token}).content.decode()
    assert 'value="Contoso IT"' in body and 'value="it@contoso.com"' in body
    primary = {**data, "role": Role.PRIMARY_CONTACT}
    assert vlsc_admin_client.post(add, primary).status_code == 302  # no Administrator: at once
    contact = AgreementContact.objects.create(
        agreement=contoso, role=Role.ONLINE_ADMINISTRATOR, email="it2@contoso.com"
    )
    change = f"/admin/agreements/agreementcontact/{contact.pk}/change/"
    step_up_token(
        vlsc_admin_client.post(
            change, {**data, "email": "it2@contoso.com", "role": Role.PRIMARY_CONTACT}
        )
    )
    step_up_token(
        vlsc_admin_client.post(
            f"/admin/agreements/agreementcontact/{contact.pk}/delete/", {"post": "yes"}
        )
    )
    step_up_token(
        vlsc_admin_client.post(
            "/admin/agreements/agreementcontact/",
            {
                "action": "delete_selected",
                "post": "yes",
                "index": 0,
                "_selected_action": [contact.pk],
            },
        )
    )
    contact.refresh_from_db()
    assert contact.role == Role.ONLINE_ADMINISTRATOR


def test_accepting_an_administrator_request_in_the_admin_needs_it(vlsc_admin_client, contoso):
    requester = make_user("harry@woodgrove.com")
    access_request = services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="V1234567",
        kind=Kind.ADMINISTRATOR,
    )
    change = f"/admin/agreements/accessrequest/{access_request.pk}/change/"
    signed_in_minutes_ago(vlsc_admin_client, 11)
    token = step_up_token(
        vlsc_admin_client.post(change, {"decision": "accept", "decision_message": "Welcome"})
    )
    access_request.refresh_from_db()
    assert access_request.state == AccessRequest.State.PENDING
    body = vlsc_admin_client.get(change, {"step_up": token}).content.decode()
    assert re.search(r'value="accept"[^>]*checked', body) and "Welcome</textarea>" in body


# --- the round trip through the stand-in ----------------------------------------------------------


def sign_in_as_admin(client: Client) -> None:
    """admin@contoso.com signs in at the stand-in and registers (proven at once)."""
    seed_demo_users()
    seed_demo_agreements()
    start = client.post("/sign-in/", {"email": "admin@contoso.com"})["Location"]
    callback = sign_in_at_standin(start)
    assert isinstance(callback, str), callback
    client.get(callback)
    client.post("/register/", {"email": "admin@contoso.com"})
    assert client.get("/admin/").status_code == 200


def start_step_up(client: Client, contoso: Agreement) -> tuple[str, str]:
    """A stale sign-in, the grant submitted, the page, its button: (token, authorize URL)."""
    signed_in_minutes_ago(client, 11)
    response = client.post(
        ADD_GRANT,
        {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    token = step_up_token(response)
    authorize = client.post(response["Location"])
    assert authorize.status_code == 302
    return token, authorize["Location"]


def test_signing_in_again_at_the_identity_provider_brings_the_form_back(client, entra):
    sign_in_as_admin(client)
    contoso = Agreement.objects.get(number="V1234567")
    token, auth_uri = start_step_up(client, contoso)
    query = parse_qs(urlsplit(auth_uri).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["600"]
    assert query["login_hint"] == ["admin@contoso.com"]
    old_session = client.session.session_key

    callback = sign_in_at_standin(auth_uri)
    assert isinstance(callback, str), callback
    back = client.get(callback)
    assert back["Location"] == f"{ADD_GRANT}?step_up={token}"
    assert client.session.session_key != old_session
    assert step_up.is_recent(client.session[step_up.AUTH_TIME])
    form = client.get(back["Location"]).content.decode()
    assert 'value="new.admin@contoso.com"' in form
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()

    saved = client.post(
        ADD_GRANT,
        {"agreement": contoso.pk, "email": "new.admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    assert saved.status_code == 302
    assert PermissionGrant.objects.filter(
        agreement=contoso, email="new.admin@contoso.com", kind=Kind.ADMINISTRATOR
    ).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION_GRANTED)
    assert event.step_up_at == step_up.signed_in_at(client.session)
    assert SignInEvent.objects.filter(detail__contains="step-up").exists()


def test_signing_in_again_as_someone_else_is_refused_and_signs_out(client, entra):
    sign_in_as_admin(client)
    contoso = Agreement.objects.get(number="V1234567")
    _, auth_uri = start_step_up(client, contoso)
    # The browser is free to change the authorize request: here, drop the login_hint.
    parts = urlsplit(auth_uri)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "login_hint"]
    auth_uri = parts._replace(query=urlencode(query)).geturl()
    callback = sign_in_at_standin(auth_uri, email="alice@contoso.com")
    assert isinstance(callback, str), callback
    response = client.get(callback)
    assert response.status_code == 403
    assert "You signed in as someone else" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    event = SignInEvent.objects.filter(outcome=SignInEvent.Outcome.REFUSED).latest("created_at")
    assert "another identity" in event.detail and event.address == "alice@contoso.com"
