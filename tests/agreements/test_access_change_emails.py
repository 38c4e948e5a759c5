"""People are told when their access changes: one email per address and agreement for the
changes made within ACCESS_CHANGE_EMAIL_DELAY, through the outbox, at most once; the audit
trail shows it."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agreements import services
from agreements.models import (
    AccessChange,
    AgreementContact,
    AuditEvent,
    PermissionGrant,
)
from agreements.services import access_changes
from agreements.tasks import send_access_change_emails
from notifications.models import OutboundEmail
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role
PERSON = "pat@contoso.com"


def emails(to: str = PERSON):
    return OutboundEmail.objects.filter(kind="agreement_access_changed", to=to)


def later(minutes: int = 4):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def named_admin(administrator):
    administrator.first_name, administrator.last_name = "Ada", "Admin"
    administrator.save()
    return administrator


@pytest.fixture
def known(contoso):
    """Pat already has access to Contoso's agreement: changes are told by the access change
    email."""
    PermissionGrant.objects.create(agreement=contoso, email=PERSON, kind=Kind.LICENSING_INFO_VIEWER)
    return PERSON


def test_two_changes_within_the_window_make_one_email_listing_both(contoso, named_admin, known):
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    viewer = PermissionGrant.objects.get(email=PERSON, kind=Kind.LICENSING_INFO_VIEWER)
    services.permission_revoke(grant=viewer, actor=named_admin)
    assert services.send_due_access_change_emails(now=later()) == 1
    email = emails().get()
    assert "V1234567" in email.subject
    assert "Given: Downloads (permission), by Ada Admin" in email.body
    assert "Removed: Licensing Info Viewer (permission), by Ada Admin" in email.body
    assert "Download the licensed software" in email.body  # what Pat can now do
    assert "View the agreement's licensing information" not in email.body
    assert "/agreements/V1234567/" in email.body
    assert set(AccessChange.objects.values_list("state", flat=True)) == {"emailed"}
    assert AccessChange.objects.filter(outbound_email=email).count() == 2


def test_the_quiet_period_is_respected(contoso, named_admin, known, settings):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 180
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert services.send_due_access_change_emails() == 0  # made just now: wait
    assert services.send_due_access_change_emails(now=later(2)) == 0
    assert not emails().exists()
    # Another change two minutes in starts the quiet period again.
    change = AccessChange.objects.get()
    AccessChange.objects.filter(pk=change.pk).update(at=change.at - timedelta(minutes=2))
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.PRODUCT_KEYS, actor=named_admin
    )
    assert services.send_due_access_change_emails(now=timezone.now() + timedelta(minutes=2)) == 0
    assert services.send_due_access_change_emails(now=later(4)) == 1
    assert "Product Keys" in emails().get().body and "Downloads" in emails().get().body


def test_changes_on_two_agreements_make_two_emails(contoso, named_admin, known):
    other = make_agreement("V7654321")
    PermissionGrant.objects.create(
        agreement=other, email="admin@contoso.com", kind=Kind.ADMINISTRATOR
    )
    PermissionGrant.objects.create(agreement=other, email=PERSON, kind=Kind.LICENSING_INFO_VIEWER)
    for agreement in (contoso, other):
        services.permission_grant(
            agreement=agreement, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
        )
    assert services.send_due_access_change_emails(now=later()) == 2
    assert sorted(e.subject.split()[4] for e in emails()) == ["V1234567", "V7654321"]


def test_a_grant_then_its_removal_sends_nothing(contoso, named_admin, known):
    grant = services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    services.permission_revoke(grant=grant, actor=named_admin)
    assert services.send_due_access_change_emails(now=later()) == 0
    assert not emails().exists()
    assert set(AccessChange.objects.values_list("state", flat=True)) == {"cancelled"}
    assert not AuditEvent.objects.filter(action="access_email_queued").exists()


def test_a_removal_then_a_grant_back_sends_nothing_but_another_change_is_told(
    contoso, named_admin, known
):
    viewer = PermissionGrant.objects.get(email=PERSON)
    services.permission_revoke(grant=viewer, actor=named_admin)
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.LICENSING_INFO_VIEWER, actor=named_admin
    )
    services.contact_save(
        contact=AgreementContact(agreement=contoso, role=Role.PRIMARY_CONTACT, email=PERSON),
        actor=named_admin,
    )
    assert services.send_due_access_change_emails(now=later()) == 1
    body = emails().get().body
    assert "Given: Primary Contact (contact on the agreement)" in body
    assert "Licensing Info Viewer (permission)" not in body


def test_running_the_task_again_sends_nothing_more(contoso, named_admin, known, settings):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert send_access_change_emails() == 1
    assert send_access_change_emails() == 0
    assert emails().count() == 1


def test_the_same_batch_queued_twice_is_one_email(contoso, named_admin, known):
    """The dedupe key is the batch's: a run that queued its email but whose claim was lost
    (e.g. a retried transaction) queues nothing new the second time."""
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert services.send_due_access_change_emails(now=later()) == 1
    AccessChange.objects.update(state="pending", outbound_email=None)  # as if never claimed
    services.send_due_access_change_emails(now=later())
    assert emails().count() == 1


def test_the_audit_trail_says_the_email_was_queued_and_links_it(
    contoso, named_admin, known, vlsc_admin_client
):
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    services.send_due_access_change_emails(now=later())
    event = AuditEvent.objects.get(action="access_email_queued")
    assert event.agreement == contoso and event.outbound_email == emails().get()
    assert event.detail == (
        f"Access change email queued to {PERSON} (changes: +Downloads (permission))"
    )
    page = vlsc_admin_client.get(f"/admin/agreements/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Access change email queued to" in html and "Queued" in html
    listing = vlsc_admin_client.get("/admin/agreements/auditevent/").content.decode()
    assert "Access change email queued" in listing


def test_a_first_grant_is_told_by_the_welcome_not_twice(contoso, named_admin):
    services.permission_grant(
        agreement=contoso, email="new@contoso.com", kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert services.send_due_access_change_emails(now=later()) == 0
    assert OutboundEmail.objects.filter(to="new@contoso.com").count() == 1  # the welcome
    assert AccessChange.objects.get().state == "welcomed"


def test_access_given_again_after_losing_it_all_is_a_new_welcome(contoso, named_admin, known):
    services.permission_revoke(grant=PermissionGrant.objects.get(email=PERSON), actor=named_admin)
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    welcome = OutboundEmail.objects.get(to=PERSON, kind="agreement_welcome")
    assert "Download the licensed software" in welcome.body
    # The welcome says what Pat has now: the removal before it is not told on its own.
    assert services.send_due_access_change_emails(now=later()) == 0
    assert set(AccessChange.objects.values_list("state", flat=True)) == {"welcomed"}


def test_the_administrators_own_change_is_told_too(contoso, named_admin):
    services.permission_grant(
        agreement=contoso, email="admin@contoso.com", kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert services.send_due_access_change_emails(now=later()) == 1
    body = emails("admin@contoso.com").get().body
    assert "by Ada Admin" in body
    assert "Assign, edit and remove other people's permissions" in body


def test_losing_all_access_says_so(contoso, named_admin, known):
    services.permission_revoke(grant=PermissionGrant.objects.get(email=PERSON), actor=named_admin)
    services.send_due_access_change_emails(now=later())
    body = emails().get().body
    assert "You no longer have any access to agreement V1234567" in body
    assert "With it you may" not in body


def test_a_change_rolled_back_records_nothing(contoso, administrator, known):
    """Removing Administrator without a recent sign-in is refused before anything is written."""
    grant = PermissionGrant.objects.create(agreement=contoso, email=PERSON, kind=Kind.ADMINISTRATOR)
    with pytest.raises(services.StepUpRequired):
        services.permission_revoke(grant=grant, actor=administrator)
    assert not AccessChange.objects.exists()


def test_the_admin_path_records_and_emails_the_change(
    contoso, named_admin, known, vlsc_admin_client, settings
):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    response = vlsc_admin_client.post(
        "/admin/agreements/permissiongrant/add/",
        {"agreement": contoso.pk, "email": PERSON, "kind": Kind.PRODUCT_KEYS},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = PermissionGrant.objects.get(email=PERSON, kind=Kind.PRODUCT_KEYS)
    vlsc_admin_client.post(f"/admin/agreements/permissiongrant/{grant.pk}/delete/", {"post": "yes"})
    contact = AgreementContact.objects.create(
        agreement=contoso, role=Role.NOTICES_CORRESPONDENT, email=PERSON
    )
    vlsc_admin_client.post(
        "/admin/agreements/agreementcontact/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [contact.pk]},
    )
    assert not AgreementContact.objects.filter(pk=contact.pk).exists()
    assert send_access_change_emails() == 1
    body = emails().get().body
    # The grant and its removal cancelled out; the contact's removal is told.
    assert "Product Keys" not in body
    assert "Removed: Notices Correspondent (contact on the agreement), by Ada Admin" in body


def test_a_signed_in_person_cannot_read_anothers_change_in_the_audit_trail(
    contoso, named_admin, known, client
):
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    services.send_due_access_change_emails(now=later())
    event = AuditEvent.objects.get(action="access_email_queued")
    client.force_login(make_user(PERSON))
    response = client.get(f"/admin/agreements/auditevent/{event.pk}/change/")
    assert response.status_code in (302, 403, 404)


def test_net_changes_keep_only_what_changed():
    def row(value, granted):
        return AccessChange(subject="permission", value=value, granted=granted)

    rows = [row("a", True), row("b", False), row("a", False), row("c", True), row("c", False)]
    rows.append(row("c", True))
    assert [(r.value, r.granted) for r in access_changes.net_changes(rows)] == [
        ("b", False),
        ("c", True),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_email(contoso, known, settings, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    admin = make_user("ada@contoso.com")
    signed_in = admin  # the services need no recent sign-in for Downloads
    services.permission_grant(agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=signed_in)
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.PRODUCT_KEYS, actor=signed_in
    )
    both_read = threading.Barrier(2)
    net = access_changes.net_changes

    def slow_net(rows):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=2)  # the second run reaches here only if it got rows too
        return net(rows)

    monkeypatch.setattr(access_changes, "net_changes", slow_net)
    results: list[int] = []

    def run() -> None:
        try:
            results.append(services.send_due_access_change_emails())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert emails().count() == 1
    assert AuditEvent.objects.filter(action="access_email_queued").count() == 1


def test_the_email_is_written_in_the_recipients_language_names_of_roles_included(
    contoso, named_admin, known
):
    """Pat chose Japanese: the subject, the text and the names of what changed are Japanese
    (the names are built in the email's language, not the worker's)."""
    from django.core.management import call_command
    from django.utils import translation

    call_command("compilemessages", ignore_patterns=[".venv", "node_modules", "var"], verbosity=0)
    translation.trans_real._translations = {}
    make_user(PERSON, language="ja")
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    assert services.send_due_access_change_emails(now=later()) == 1
    email = emails().get()
    with translation.override("ja"):
        downloads = str(Kind.DOWNLOADS.label)
    assert downloads != "Downloads"
    assert downloads in email.body
    assert "Downloads" not in email.body


def test_a_batch_that_cannot_be_built_does_not_hold_back_the_others(contoso, named_admin, known):
    other = make_agreement("E7654321")
    PermissionGrant.objects.create(agreement=other, email="sam@contoso.com", kind=Kind.PRODUCT_KEYS)
    services.permission_grant(
        agreement=contoso, email=PERSON, kind=Kind.DOWNLOADS, actor=named_admin
    )
    services.permission_grant(
        agreement=other, email="sam@contoso.com", kind=Kind.DOWNLOADS, actor=named_admin
    )
    # A change whose stored value no longer names a role or permission (an old release's).
    AccessChange.objects.filter(agreement=contoso).update(value="retired-kind")
    assert services.send_due_access_change_emails(now=later()) == 1
    assert emails("sam@contoso.com").count() == 1
    assert not emails().exists()
    assert set(AccessChange.objects.filter(agreement=contoso).values_list("state", flat=True)) == {
        "pending"  # rolled back: tried again next run
    }
