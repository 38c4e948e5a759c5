"""The provisioning API changes access through the same services: the people it concerns get
the batched access change email, naming the person or the application that made the change."""

from __future__ import annotations

import pytest

from agreements import services
from agreements.models import AccessChange, AuditEvent, PermissionGrant
from notifications.models import OutboundEmail

from .conftest import app_token, person_token

pytestmark = pytest.mark.usefixtures("authority")
Kind = PermissionGrant.Kind
PERSON = "ops@contoso.com"


@pytest.fixture
def known(contoso):
    """The person has access to the agreement already."""
    PermissionGrant.objects.create(agreement=contoso, email=PERSON, kind=Kind.LICENSING_INFO_VIEWER)


def access_email():
    return OutboundEmail.objects.get(kind="agreement_access_changed", to=PERSON)


def test_an_applications_grant_and_removal_are_told_naming_the_application(
    api, contoso_app, known, settings
):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    contoso_app.name = "Contoso HR sync"
    contoso_app.save()
    caller = api(app_token())
    created = caller.post(
        "/agreements/V1234567/permissions", {"email": PERSON, "kind": "product_keys"}
    )
    assert created.status_code == 201, created.content
    contact = caller.post(
        "/agreements/V1234567/contacts", {"role": "notices_correspondent", "email": PERSON}
    )
    assert contact.status_code == 201, contact.content
    removed = caller.delete(f"/agreements/V1234567/contacts/{contact.json()['id']}")
    assert removed.status_code == 204, removed.content
    assert services.send_due_access_change_emails() == 1
    body = access_email().body
    assert "Given: Product Keys (permission), by Contoso HR sync" in body
    assert "Notices Correspondent" not in body  # added and removed: nothing changed
    assert (
        AccessChange.objects.filter(actor__isnull=True, actor_name="Contoso HR sync").count() == 3
    )


def test_an_unnamed_application_is_named_by_its_client_id(api, contoso_app, known, settings):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    response = api(app_token()).post(
        "/agreements/V1234567/permissions", {"email": PERSON, "kind": "downloads"}
    )
    assert response.status_code == 201
    services.send_due_access_change_emails()
    assert f"by application {contoso_app.client_id}" in access_email().body


def test_a_delegated_callers_change_names_the_person(api, contoso_admin, known, settings):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    contoso_admin.first_name, contoso_admin.last_name = "Ada", "Admin"
    contoso_admin.save()
    response = api(person_token(contoso_admin)).post(
        "/agreements/V1234567/permissions", {"email": PERSON, "kind": "downloads"}
    )
    assert response.status_code == 201
    services.send_due_access_change_emails()
    assert "Given: Downloads (permission), by Ada Admin" in access_email().body
    event = AuditEvent.objects.get(action="access_email_queued")
    assert event.outbound_email == access_email() and event.subject_email == PERSON


def test_a_refused_api_change_records_nothing(api, contoso_app, known):
    refused = api(app_token()).post(
        "/agreements/V1234567/permissions", {"email": PERSON, "kind": "administrator"}
    )
    assert refused.status_code == 403
    assert not AccessChange.objects.exists()
