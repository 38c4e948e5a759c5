"""The verification email's delivery on the status page, and the fragment the page polls while
it is queued (``/register/status/email/``): the person’s own registration only, GET or HEAD only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Registration
from notifications.models import OutboundEmail
from tests.accounts.conftest import make_user

pytestmark = pytest.mark.django_db
FRAGMENT = "/register/status/email/"


def register(client, address: str) -> Registration:
    """A pending registration whose email is still queued (its on-commit send never runs)."""
    assert client.post("/register/", {"email": address}).status_code == 302
    registration = Registration.objects.filter(invitation_address=address).get()
    assert registration.verification_email.state == OutboundEmail.State.QUEUED
    return registration


def test_the_status_page_polls_while_the_email_is_queued_and_offers_check_again(bob_client):
    register(bob_client, "licensing@fabrikam.com")
    page = bob_client.get("/register/status/").content.decode()
    assert f'aria-live="polite" data-poll-url="{FRAGMENT}"' in page
    assert "Queued</strong> It usually goes out within a minute." in page
    assert '<a href="/register/status/">Check again</a>' in page


def test_the_fragment_says_queued_then_sent_and_final(bob_client):
    registration = register(bob_client, "licensing@fabrikam.com")
    queued = bob_client.get(FRAGMENT)
    assert queued.status_code == 200
    assert "no-cache" in queued["Cache-Control"] or "no-store" in queued["Cache-Control"]
    html = queued.content.decode()
    assert "Queued" in html and "data-final" not in html and "<html" not in html
    OutboundEmail.objects.filter(pk=registration.verification_email_id).update(
        state=OutboundEmail.State.SENT, sent_at=timezone.now()
    )
    sent = bob_client.get(FRAGMENT).content.decode()
    assert 'data-final="true"' in sent and "Sent</strong> It was sent on" in sent
    assert "Check again" not in sent
    page = bob_client.get("/register/status/").content.decode()
    assert "data-poll-url" not in page  # nothing left to wait for


def test_a_failed_email_is_final_too(bob_client):
    registration = register(bob_client, "licensing@fabrikam.com")
    OutboundEmail.objects.filter(pk=registration.verification_email_id).update(
        state=OutboundEmail.State.FAILED
    )
    html = bob_client.get(FRAGMENT).content.decode()
    assert 'data-final="true"' in html and "Not sent</strong> We could not send it." in html


def test_another_persons_registration_never_shows(bob_client, bob):
    alice = make_user("alice@contoso.com")
    alice_client = Client()
    alice_client.force_login(alice)
    theirs = register(alice_client, "licensing@contoso.com")
    OutboundEmail.objects.filter(pk=theirs.verification_email_id).update(
        state=OutboundEmail.State.FAILED
    )
    # bob has no registration: nothing, whatever id he names
    for query in ["", f"?id={theirs.pk}", f"?registration={theirs.pk}", f"?user={alice.pk}"]:
        response = bob_client.get(FRAGMENT + query)
        assert response.status_code == 404 and response.content == b""
    register(bob_client, "licensing@fabrikam.com")  # his own, queued; hers failed
    for query in ["", f"?id={theirs.pk}", f"?user={alice.pk}"]:
        html = bob_client.get(FRAGMENT + query).content.decode()
        assert "Queued" in html and "could not send" not in html and "contoso" not in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(FRAGMENT)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_is_allowed(bob_client, method):
    register(bob_client, "licensing@fabrikam.com")
    assert getattr(bob_client, method)(FRAGMENT).status_code == 405


def test_an_oversized_query_is_ignored(bob_client):
    register(bob_client, "licensing@fabrikam.com")
    response = bob_client.get(FRAGMENT + "?x=" + "a" * 5000)
    assert response.status_code == 200 and "Queued" in response.content.decode()


@pytest.mark.parametrize("state", ["queued", "sent", "failed"])
def test_the_state_word_is_said_once(bob_client, state):
    """The tag says the state; the sentence after it does not say it again ("Sent sent on")."""
    registration = register(bob_client, "licensing@fabrikam.com")
    OutboundEmail.objects.filter(pk=registration.verification_email_id).update(
        state=state, sent_at=timezone.now() if state == "sent" else None
    )
    text = re.sub(r"<[^>]+>|\s+", " ", bob_client.get(FRAGMENT).content.decode()).lower().split()
    assert all(a.strip(".;") != b.strip(".;") for a, b in zip(text, text[1:], strict=False)), text
