"""Flow B: registration, ownership verification and the 48-hour window."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.models import Registration, User
from accounts.services import expiry
from accounts.services import registration as registrations
from accounts.signals import address_verified
from notifications.models import OutboundEmail
from tests.accounts.conftest import cancel_pending, make_user, proven
from vlsc_portal.timezones import local_text

State = Registration.State
SUBJECT = "Thank you for Registering with the Volume Licensing Service Center"
pytestmark = pytest.mark.django_db


def register(client, address="licensing@fabrikam.com", capture=None):
    if capture is None:
        return client.post("/register/", {"email": address})
    with capture(execute=True):
        return client.post("/register/", {"email": address})


def link_from_mailbox() -> str:
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/register/confirm/[^\s]+/)", body).group(1)


def test_first_sign_in_asks_for_the_invitation_address_prefilled(bob_client):
    response = bob_client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/register/"
    page = bob_client.get("/register/").content.decode()
    assert "Business email address where you received the invitation to register" in page
    assert 'value="bob@fabrikam.com"' in page


def test_the_proven_sign_in_address_registers_at_once_case_insensitively(bob_client, bob):
    proven(bob)
    received = []
    address_verified.connect(
        lambda **kw: received.append(kw["email"]), weak=False, dispatch_uid="t1"
    )
    response = register(bob_client, "Bob@Fabrikam.COM")
    assert response["Location"] == "/dashboard/"
    reg = Registration.objects.get()
    assert reg.state == State.COMPLETED
    assert EmailAddress.objects.get(user=bob).verified
    assert received == ["bob@fabrikam.com"]
    assert not OutboundEmail.objects.exists()
    address_verified.disconnect(dispatch_uid="t1")


def test_another_address_is_pending_for_48_hours_and_emailed(
    bob_client, bob, django_capture_on_commit_callbacks
):
    response = register(bob_client, capture=django_capture_on_commit_callbacks)
    assert response["Location"] == "/register/status/"
    reg = Registration.objects.get()
    assert reg.state == State.PENDING
    assert reg.expires_at - reg.created_at == timedelta(hours=48)
    assert not EmailAddress.objects.get(email="licensing@fabrikam.com").verified
    [message] = mail.outbox
    assert message.subject == SUBJECT
    assert message.to == ["licensing@fabrikam.com"]
    assert "bob@fabrikam.com" in message.body and "48 hours" in message.body
    status = bob_client.get("/register/status/").content.decode()
    assert "l•••@fabrikam.com" in status
    assert "sent on" in status
    assert "licensing@fabrikam.com" not in status


def test_the_link_get_confirms_nothing_and_post_confirms_once(
    bob_client, bob, client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    from django.test import Client

    scanner = Client()
    for _ in range(3):
        assert scanner.get(link).status_code == 200
        assert bob_client.get(link).status_code == 200
    assert Registration.objects.get().state == State.PENDING
    response = bob_client.post(link)
    assert response.status_code == 200
    assert "Registration complete" in response.content.decode()
    assert Registration.objects.get().state == State.COMPLETED
    assert EmailAddress.objects.get(email="licensing@fabrikam.com").verified
    replay = bob_client.post(link)
    assert replay.status_code == 409
    assert "already used" in replay.content.decode()
    assert scanner.get(link).status_code == 409


def signed_in(user: User):
    from django.test import Client

    other = Client()
    other.force_login(user)
    return other


def test_the_link_page_names_the_requester_and_the_agreements_the_address_unlocks(
    bob_client, bob, django_capture_on_commit_callbacks
):
    from django.test import Client

    from agreements.demo import seed_demo_agreements

    seed_demo_agreements()
    User.objects.filter(pk=bob.pk).update(first_name="Bob", last_name="Kelly")
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    for visitor in (Client(), bob_client):
        page = visitor.get(link).content.decode()
        assert "Bob Kelly (bob@fabrikam.com)" in page
        assert "licensing@fabrikam.com" in page
        assert "O8880202" in page and "Fabrikam, Inc." in page
        assert "V1234567" not in page  # Contoso's: not on this address
    assert 'type="submit" class="button">Confirm<' in bob_client.get(link).content.decode()
    anonymous = Client().get(link).content.decode()
    assert ">Confirm<" not in anonymous
    sign_in = re.search(r'href="(/sign-in/\?[^"]+)"', anonymous)[1].replace("&amp;", "&")
    assert parse_qs(urlsplit(sign_in).query) == {
        "next": [link],
        "email": ["bob@fabrikam.com"],
    }


def test_only_the_signed_in_requester_can_confirm_and_others_are_told_whose_it_is(
    bob_client, bob, django_capture_on_commit_callbacks
):
    from django.test import Client

    User.objects.filter(pk=bob.pk).update(first_name="Bob", last_name="Kelly")
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    mailbox_owner = signed_in(make_user("licensing@fabrikam.com", username="licensing"))
    for visitor, method in [(mailbox_owner, "post"), (mailbox_owner, "get"), (Client(), "post")]:
        response = getattr(visitor, method)(link)
        page = response.content.decode()
        assert response.status_code == 403, (visitor, method)
        assert "Only the person who asked can confirm this address" in page
        assert "Bob Kelly (bob@fabrikam.com)" in page
        assert "sign in as bob@fabrikam.com" in page
    assert "You are signed in as licensing@fabrikam.com" in mailbox_owner.get(link).content.decode()
    assert Registration.objects.get().state == State.PENDING
    assert not EmailAddress.objects.filter(verified=True).exists()
    assert bob_client.post(link).status_code == 200
    assert Registration.objects.get().state == State.COMPLETED
    assert EmailAddress.objects.get(email="licensing@fabrikam.com", verified=True).user == bob


def test_a_second_user_cannot_open_a_pending_registration_of_the_same_address(
    bob_client, django_capture_on_commit_callbacks
):
    harry = make_user("harry@woodgrove.com")
    first = registrations.start_registration(
        user=harry,
        invitation_address="licensing@fabrikam.com",
        confirm_url="http://testserver/register/confirm/",
    )
    response = register(bob_client, "Licensing@Fabrikam.com")
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else has asked to register this address" in page
    assert f"ends on {local_text(first.expires_at)};" in page  # e.g. "Dec. 2, 2026, 2:03 p.m. UTC"
    assert Registration.objects.count() == 1
    # When harry's window has closed (before beat got to it), the address is free again.
    Registration.objects.update(
        created_at=timezone.now() - timedelta(hours=49),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    assert register(bob_client, capture=django_capture_on_commit_callbacks).status_code == 302
    assert Registration.objects.get(pk=first.pk).state == State.EXPIRED
    assert Registration.objects.get(state=State.PENDING).user.email == "bob@fabrikam.com"


def test_the_database_allows_one_pending_registration_per_address(bob):
    from django.db import IntegrityError, transaction

    harry = make_user("harry@woodgrove.com")
    now = timezone.now()

    def pending(user, address, state=State.PENDING):
        return Registration.objects.create(
            user=user,
            state=state,
            sign_in_address=user.email,
            invitation_address=address,
            created_at=now,
            expires_at=now + timedelta(hours=48),
            nonce="n",
        )

    pending(bob, "licensing@fabrikam.com")
    pending(harry, "licensing@fabrikam.com", state=State.CANCELLED)  # ended rows do not count
    with pytest.raises(IntegrityError), transaction.atomic():
        pending(harry, "Licensing@Fabrikam.com")


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "..."])
def test_a_tampered_link_gets_a_clear_400(bob_client, django_capture_on_commit_callbacks, mangle):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    token = link_from_mailbox().split("/")[-2]
    from django.test import Client

    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/register/confirm/{mangle(token)}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert Registration.objects.get().state == State.PENDING


def test_an_oversized_or_cut_link_gets_a_400(client):
    assert client.get("/register/confirm/" + "a" * 5000 + "/").status_code == 400
    assert client.get("/register/confirm/").status_code == 400


def test_an_expired_link_gets_a_clear_410(bob_client, django_capture_on_commit_callbacks):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    Registration.objects.update(
        created_at=timezone.now() - timedelta(hours=49),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    response = bob_client.post(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert Registration.objects.get().state == State.PENDING  # beat expires it, not the link


def test_a_second_registration_while_pending_is_refused_with_the_time(
    bob_client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    response = register(bob_client, "other@fabrikam.com")
    assert response.status_code == 409
    assert "Do not re-register until you have waited 48 hours" in response.content.decode()
    assert Registration.objects.count() == 1


def test_the_database_allows_one_pending_registration_per_user(bob):
    from django.db import IntegrityError, transaction

    now = timezone.now()
    fields = dict(
        user=bob,
        sign_in_address="b@x.com",
        invitation_address="i@x.com",
        created_at=now,
        expires_at=now + timedelta(hours=48),
        nonce="n",
    )
    Registration.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(**fields)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submits_make_one_pending_registration():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    user = make_user("racer@fabrikam.com")
    errors, done = [], []

    def submit(address):
        try:
            registrations.start_registration(
                user=user,
                invitation_address=address,
                confirm_url="http://testserver/register/confirm/",
            )
            done.append(address)
        except registrations.RegistrationPending:
            errors.append(address)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(f"a{i}@fabrikam.com",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Registration.objects.filter(state=State.PENDING).count() == 1
    assert len(done) == 1 and len(errors) == 3


@pytest.mark.django_db(transaction=True)
def test_two_users_registering_one_address_at_once_make_one_pending_registration():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    users = [make_user(f"racer{i}@fabrikam.com") for i in range(4)]
    errors, done = [], []
    barrier = threading.Barrier(len(users))

    def submit(user):
        try:
            barrier.wait()
            registrations.start_registration(
                user=user,
                invitation_address="licensing@fabrikam.com",
                confirm_url="http://testserver/register/confirm/",
            )
            done.append(user)
        except registrations.AddressPendingElsewhere:
            errors.append(user)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Registration.objects.filter(state=State.PENDING).count() == 1
    assert len(done) == 1 and len(errors) == 3


def test_resend_sends_again_until_the_rate_limit_and_says_the_limit(
    bob_client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        first = bob_client.post("/register/resend/")
    assert first.status_code == 302
    assert len(mail.outbox) == 2
    assert (
        "We sent the verification email again" in bob_client.get(first["Location"]).content.decode()
    )
    limited = bob_client.post("/register/resend/")
    assert limited.status_code == 429
    assert "once a minute and at most five times a day" in limited.content.decode()
    # an error notice (announced at once), not the success box of a resend
    assert re.search(
        r'<div class="notice notice--error" role="alert">\s*<p class="notice__title">Error:</p>'
        r"\s*<p>The verification email was sent too recently",
        limited.content.decode(),
    )
    assert 'role="status"' not in limited.content.decode()
    assert len(mail.outbox) == 2
    # both links work: the first email's link too
    from django.test import Client

    assert (
        Client().get(re.search(r"(/register/confirm/\S+/)", mail.outbox[0].body)[1]).status_code
        == 200
    )


def test_cancel_lets_the_user_register_again_at_once(
    bob_client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    response = cancel_pending(bob_client)
    assert response["Location"] == "/register/"
    assert Registration.objects.get().state == State.CANCELLED
    assert bob_client.post(link).status_code == 410
    assert register(bob_client, "other@fabrikam.com").status_code == 302
    assert cancel_pending(bob_client).status_code == 302
    nothing = bob_client.get("/register/cancel/", follow=True)  # nothing pending: a message
    assert "There is no pending registration to cancel." in nothing.content.decode()


def test_beat_expires_pending_registrations_in_bulk_and_registration_opens_again(
    bob_client, bob, django_capture_on_commit_callbacks, django_assert_num_queries
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(hours=48, seconds=1)
    with django_assert_num_queries(2):  # the overdue key range, then one UPDATE
        assert expiry.expire_pending_registrations(now=later) == 1
    assert expiry.expire_pending_registrations(now=later) == 0  # safe to run twice
    reg = Registration.objects.get()
    assert (reg.state, reg.expired_at) == (State.EXPIRED, later)
    assert bob_client.get("/register/").status_code == 200
    assert "expired" in bob_client.get("/register/status/").content.decode().lower()


def test_an_address_another_user_verified_is_refused(bob_client):
    alice = make_user("alice@contoso.com")
    EmailAddress.objects.create(user=alice, email="licensing@fabrikam.com", verified=True)
    response = register(bob_client)
    assert response.status_code == 409
    assert "already registered to another account" in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.parametrize("proved", [False, True])
def test_an_address_already_verified_on_ones_own_account_is_not_registered_again(
    bob_client, bob, django_capture_on_commit_callbacks, proved
):
    """Registering it again used to replace the completed registration with a pending one and
    send the email again; the status page went back to "Waiting for verification"."""
    if proved:
        proven(bob, "licensing@fabrikam.com")
    register(bob_client, capture=django_capture_on_commit_callbacks)
    if not proved:
        bob_client.post(link_from_mailbox())
    assert Registration.objects.get().state == State.COMPLETED
    sent = len(mail.outbox)
    response = register(bob_client, "Licensing@Fabrikam.com")
    assert response.status_code == 409
    page = response.content.decode()
    assert "This address is already verified on your account" in page
    assert 'aria-invalid="true"' in page and 'href="#id_email"' in page
    assert list(Registration.objects.values_list("state", flat=True)) == [State.COMPLETED]
    assert len(mail.outbox) == sent
    assert EmailAddress.objects.get(user=bob, email="licensing@fabrikam.com").verified
    status = bob_client.get("/register/status/").content.decode()
    assert f">{State.COMPLETED.label}</strong>" in status and "Waiting for you" not in status


def test_a_person_with_verified_addresses_and_no_registration_sees_them_on_the_status_page(
    bob_client, bob
):
    """A converted account's addresses were verified by the conversion, not a registration: the
    status page said "Register your invitation address"."""
    EmailAddress.objects.create(user=bob, email="bob@fabrikam.com", verified=True, primary=True)
    EmailAddress.objects.create(user=bob, email="b.alt@fabrikam.com", verified=False)
    response = bob_client.get("/register/status/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<li>bob@fabrikam.com</li>" in page and "b.alt@fabrikam.com" not in page
    assert "Go to your dashboard" in page and "Register your invitation address" not in page


def test_a_person_with_nothing_verified_and_no_registration_is_sent_to_register(bob_client):
    assert bob_client.get("/register/status/")["Location"] == "/register/"


def test_confirming_an_address_someone_verified_meanwhile_changes_nothing(
    bob_client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    link = link_from_mailbox()
    alice = make_user("alice@contoso.com")
    EmailAddress.objects.create(user=alice, email="licensing@fabrikam.com", verified=True)
    assert bob_client.post(link).status_code == 409
    assert Registration.objects.get().state == State.PENDING


def test_a_malformed_or_oversized_address_gets_a_form_error(bob_client):
    for bad in ["not-an-address", "a" * 300 + "@x.com", ""]:
        response = register(bob_client, bad)
        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()
    assert not Registration.objects.exists()


def test_registration_pages_need_sign_in(client):
    for url in ["/register/", "/register/status/", "/dashboard/"]:
        assert client.get(url).status_code == 302
    for url in ["/register/resend/", "/register/cancel/1/"]:
        assert client.post(url).status_code == 302
    assert client.get("/register/cancel/1/").status_code == 302


def test_the_dashboard_shows_no_permissions_with_next_steps(
    bob_client, django_capture_on_commit_callbacks
):
    register(bob_client, capture=django_capture_on_commit_callbacks)
    page = bob_client.get("/dashboard/").content.decode()
    assert "No permissions are associated with your account" in page
    assert "do not re-register until you have waited 48 hours" in page


def test_the_dashboard_lists_the_agreements_of_a_verified_address(bob_client, bob):
    from agreements.demo import seed_demo_agreements

    seed_demo_agreements()
    EmailAddress.objects.create(user=bob, email="licensing@fabrikam.com", verified=True)
    page = bob_client.get("/dashboard/").content.decode()
    assert "O8880202" in page
    assert "No permissions are associated with your account" not in page


def _overdue_registrations(count: int) -> list[Registration]:
    now = timezone.now()
    rows = []
    for n in range(count):
        user = User.objects.create(username=f"overdue{n}", email=f"overdue{n}@contoso.com")
        rows.append(
            Registration.objects.create(
                user=user,
                sign_in_address=user.email,
                invitation_address=f"invited{n}@fabrikam.com",
                created_at=now - timedelta(hours=50),
                expires_at=now - timedelta(hours=2),
                nonce=f"{n:032d}",
            )
        )
    return rows


def test_a_large_backlog_is_expired_in_key_ranges(monkeypatch):
    monkeypatch.setattr(expiry, "EXPIRY_CHUNK", 2)
    rows = _overdue_registrations(5)
    fresh = rows[2]
    Registration.objects.filter(pk=fresh.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    assert expiry.expire_pending_registrations(parallel=1) == 4
    assert Registration.objects.get(pk=fresh.pk).state == State.PENDING
    assert Registration.objects.filter(state=State.EXPIRED).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_large_backlog_is_expired_over_parallel_connections(monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer: the expiry runs its ranges one after another there")
    monkeypatch.setattr(expiry, "EXPIRY_CHUNK", 3)
    _overdue_registrations(10)
    assert expiry.expire_pending_registrations(parallel=2) == 10
    assert expiry.expire_pending_registrations(parallel=2) == 0
