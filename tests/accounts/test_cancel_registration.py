"""Cancelling a registration is confirmed: GET shows what goes and changes nothing, POST with
CSRF cancels; replayed, late, forged or someone else's requests are refused with a clear 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Registration
from tests.accounts.conftest import make_user

State = Registration.State
pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(bob_client, django_capture_on_commit_callbacks) -> Registration:
    with django_capture_on_commit_callbacks(execute=True):
        assert bob_client.post("/register/", {"email": "licensing@fabrikam.com"}).status_code == 302
    return Registration.objects.get()


def test_the_status_page_links_to_a_confirmation_page_not_a_one_click_form(bob_client, pending):
    page = bob_client.get("/register/status/").content.decode()
    assert f'href="/register/cancel/{pending.pk}/"' in page
    assert 'action="/register/cancel/' not in page


def test_the_confirmation_page_says_what_goes_and_changes_nothing(bob_client, pending):
    response = bob_client.get(f"/register/cancel/{pending.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cancel your registration?" in page
    assert "l•••@fabrikam.com" in page
    assert "The link in the verification email stops working" in page
    assert "Yes, cancel this registration" in page
    assert 'href="/register/status/"' in page  # "No, keep it"
    pending.refresh_from_db()
    assert pending.state == State.PENDING


def test_the_old_address_leads_to_the_confirmation_page(bob_client, pending):
    response = bob_client.get("/register/cancel/")
    assert response["Location"] == f"/register/cancel/{pending.pk}/"
    assert bob_client.post("/register/cancel/").status_code == 405  # no more one-click cancel
    pending.refresh_from_db()
    assert pending.state == State.PENDING


def test_posting_the_confirmation_cancels(bob_client, pending):
    response = bob_client.post(f"/register/cancel/{pending.pk}/")
    assert response["Location"] == "/register/"
    pending.refresh_from_db()
    assert (pending.state, pending.cancel_reason) == (State.CANCELLED, "cancelled by the user")


def test_a_replayed_post_is_a_409_that_says_it_was_already_cancelled(bob_client, pending):
    bob_client.post(f"/register/cancel/{pending.pk}/")
    cancelled_at = Registration.objects.get().cancelled_at
    for method in (bob_client.post, bob_client.get):
        response = method(f"/register/cancel/{pending.pk}/")
        assert response.status_code == 409
        assert "This registration is already cancelled" in response.content.decode()
    assert Registration.objects.get().cancelled_at == cancelled_at


def test_an_expired_registration_is_a_409_even_before_beat_marks_it(bob_client, pending):
    past = timezone.now() - timedelta(hours=49)
    Registration.objects.update(created_at=past, expires_at=past + timedelta(hours=48))
    response = bob_client.post(f"/register/cancel/{pending.pk}/")
    assert response.status_code == 409
    assert "This registration has expired" in response.content.decode()
    assert Registration.objects.get().state == State.PENDING  # beat expires it, not this


def test_a_completed_registration_cannot_be_cancelled(bob_client, pending):
    Registration.objects.update(state=State.COMPLETED, completed_at=timezone.now())
    response = bob_client.post(f"/register/cancel/{pending.pk}/")
    assert response.status_code == 409
    assert "This registration is complete" in response.content.decode()
    assert Registration.objects.get().state == State.COMPLETED


def test_another_persons_registration_id_is_a_404_and_changes_nothing(pending):
    harry = Client()
    harry.force_login(make_user("harry@woodgrove.com"))
    for method in (harry.get, harry.post):
        response = method(f"/register/cancel/{pending.pk}/")
        assert response.status_code == 404
        assert "Registration not found" in response.content.decode()
        assert "bob" not in response.content.decode()
    assert harry.get(f"/register/cancel/{pending.pk + 1000}/").status_code == 404
    assert harry.get("/register/cancel/not-a-number/").status_code == 404
    pending.refresh_from_db()
    assert pending.state == State.PENDING


def test_a_forged_post_without_the_csrf_token_is_refused(bob, pending):
    forger = Client(enforce_csrf_checks=True)
    forger.force_login(bob)
    assert forger.post(f"/register/cancel/{pending.pk}/").status_code == 403
    pending.refresh_from_db()
    assert pending.state == State.PENDING
    page = forger.get(f"/register/cancel/{pending.pk}/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page  # the real form carries it


def test_nobody_signed_in_is_sent_to_sign_in(pending):
    assert Client().post(f"/register/cancel/{pending.pk}/")["Location"].startswith("/sign-in/")
    pending.refresh_from_db()
    assert pending.state == State.PENDING
