"""Welcome emails: one per address the first time it is given access to an agreement (later
changes go into the batched access change email, tests/agreements/test_access_change_emails.py);
never a duplicate on re-save."""

from __future__ import annotations

import pytest

from agreements import services
from agreements.demo import seed_demo_agreements
from agreements.models import (
    AccessChange,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role


def welcomes(to: str | None = None):
    qs = OutboundEmail.objects.filter(kind="agreement_welcome")
    return qs.filter(to=to) if to else qs


def test_it_queues_one_welcome_naming_the_agreement_and_access(
    contoso, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.permission_grant(
            agreement=contoso,
            email="New.Person@Contoso.com",
            kind=Kind.PRODUCT_KEYS,
            actor=administrator,
        )
    email = welcomes("new.person@contoso.com").get()
    assert "V1234567" in email.subject
    assert "Product Keys" in email.body and "Contoso Ltd" in email.body
    assert "Sign in with your Work Account" in email.body
    # Handed to Celery once the transaction commits.
    assert len(callbacks) == 1
    assert Invitation.objects.filter(agreement=contoso, email="new.person@contoso.com").exists()
    grant = PermissionGrant.objects.get(email="new.person@contoso.com")
    assert grant.granted_by == administrator
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_GRANTED).count() == 1


def test_re_saving_or_re_granting_sends_nothing_more(contoso, administrator):
    grant = services.permission_grant(
        agreement=contoso, email="new@contoso.com", kind=Kind.DOWNLOADS, actor=administrator
    )
    services.permission_save(grant=grant, actor=administrator)
    services.permission_grant(
        agreement=contoso, email="NEW@contoso.com", kind=Kind.DOWNLOADS, actor=administrator
    )
    contact = services.contact_save(
        contact=AgreementContact(
            agreement=contoso, role=Role.NOTICES_CORRESPONDENT, email="new@contoso.com"
        ),
        actor=administrator,
    )
    services.contact_save(contact=contact, actor=administrator)
    # The grant welcomed the address; the contact role waits for the access change email.
    assert welcomes("new@contoso.com").count() == 1
    assert list(
        AccessChange.objects.filter(email="new@contoso.com").values_list("value", "state")
    ) == [(Kind.DOWNLOADS, "welcomed"), (Role.NOTICES_CORRESPONDENT, "pending")]


def test_a_change_of_kind_is_an_access_change_and_a_new_address_a_welcome(contoso, administrator):
    grant = services.permission_grant(
        agreement=contoso, email="new@contoso.com", kind=Kind.DOWNLOADS, actor=administrator
    )
    grant.kind = Kind.PRODUCT_KEYS
    services.permission_save(grant=grant, actor=administrator)
    grant.email = "other@contoso.com"
    services.permission_save(grant=grant, actor=administrator)
    assert welcomes("new@contoso.com").count() == 1
    assert welcomes("other@contoso.com").count() == 1
    pending = AccessChange.objects.filter(state="pending").order_by("pk")
    assert [(c.email, c.value, c.granted) for c in pending] == [
        ("new@contoso.com", Kind.DOWNLOADS, False),
        ("new@contoso.com", Kind.PRODUCT_KEYS, True),
        ("new@contoso.com", Kind.PRODUCT_KEYS, False),
    ]


def test_the_demo_seed_is_idempotent_and_sends_no_email():
    first = seed_demo_agreements()
    counts = (AgreementContact.objects.count(), PermissionGrant.objects.count())
    second = seed_demo_agreements()
    assert [a.pk for a in first] == [a.pk for a in second]
    assert counts == (AgreementContact.objects.count(), PermissionGrant.objects.count())
    assert not OutboundEmail.objects.exists()
    assert set(AgreementContact.objects.values_list("role", flat=True)) == set(Role.values)
    customers = {a.customer for a in first}
    assert {"Contoso Ltd", "Fabrikam, Inc.", "Litware, Inc."} == customers
    assert AgreementContact.objects.filter(
        email="alice@contoso.com", role=Role.PRIMARY_CONTACT, agreement__customer="Contoso Ltd"
    ).exists()
    assert AgreementContact.objects.filter(
        email="licensing@fabrikam.com", agreement__customer="Fabrikam, Inc."
    ).exists()
    assert AgreementContact.objects.filter(
        email="grace@outlook.com", agreement__customer="Litware, Inc."
    ).exists()
    contoso_numbers = {a.number for a in first if a.customer == "Contoso Ltd"}
    assert contoso_numbers == set(
        PermissionGrant.objects.filter(
            email="admin@contoso.com", kind=Kind.ADMINISTRATOR
        ).values_list("agreement__number", flat=True)
    )
    assert not AgreementContact.objects.filter(email__endswith="@woodgrove.com").exists()
    assert not PermissionGrant.objects.filter(email__endswith="@woodgrove.com").exists()
