"""Flow B in Chromium: bob's invitation went to licensing@fabrikam.com; he verifies it through
the dev mailbox. Emails are sent by a real Celery worker (Redis in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Registration
from accounts.tasks import expire_pending_registrations
from tests.waiting import RESULT_TIMEOUT, reload_until

pytestmark = pytest.mark.django_db(transaction=True)
INVITATION_LABEL = "Business email address where you received the invitation to register"
SUBJECT = "Thank you for Registering with the Volume Licensing Service Center"


def sign_in_as_bob_and_register(page: Page, live_server, axe) -> None:
    page.goto(live_server.url + "/sign-in/")
    page.get_by_label("Business email address").fill("bob@fabrikam.com")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill("Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label(INVITATION_LABEL)).to_have_value("bob@fabrikam.com")
    page.get_by_label(INVITATION_LABEL).fill("licensing@fabrikam.com")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your registration")
    expect(page.locator(".registration-state")).to_contain_text("Waiting for verification")
    expect(page.get_by_text("l•••@fabrikam.com").first).to_be_visible()
    axe(page)


def test_bob_verifies_his_invitation_address_from_the_mailbox(
    live_server, entra, celery_worker, page, axe
):
    sign_in_as_bob_and_register(page, live_server, axe)
    # The worker sends it: the status page says so once it has gone.
    reload_until(page, lambda: page.get_by_text("sent on").count() > 0, what="the email sent")
    expect(page.get_by_text("sent on")).to_be_visible()

    page.goto(entra.http_url + "/mailbox/")
    axe(page)
    page.get_by_role("link", name=SUBJECT).first.click()
    expect(page.get_by_text("licensing@fabrikam.com").first).to_be_visible()
    axe(page)
    page.get_by_role("link", name="/register/confirm/").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm that this address is yours")
    axe(page)
    assert Registration.objects.get().state == Registration.State.PENDING  # GET changed nothing
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration complete")
    axe(page)
    page.get_by_role("link", name="Go to your dashboard").click()
    expect(page.get_by_role("listitem").filter(has_text="licensing@fabrikam.com")).to_be_visible()
    assert Registration.objects.get().state == Registration.State.COMPLETED


def test_when_the_48_hours_pass_the_registration_expires_and_can_be_made_again(
    live_server, entra, celery_worker, page, axe
):
    sign_in_as_bob_and_register(page, live_server, axe)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="No permissions are associated with your account"))
    axe(page)
    # Time travel: the registration was made 49 hours ago; beat's task runs on the worker.
    past = timezone.now() - timedelta(hours=49)
    Registration.objects.update(created_at=past, expires_at=past + timedelta(hours=48))
    assert expire_pending_registrations.delay().get(timeout=RESULT_TIMEOUT) == 1
    page.goto(live_server.url + "/register/status/")
    expect(page.locator(".registration-state")).to_contain_text("Expired")
    axe(page)
    page.get_by_role("link", name="Register again").click()
    expect(page.get_by_label(INVITATION_LABEL)).to_be_visible()
    page.get_by_label(INVITATION_LABEL).fill("licensing@fabrikam.com")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".registration-state")).to_contain_text("Waiting for verification")


def test_someone_else_who_follows_bobs_link_is_told_it_is_bobs_and_nothing_changes(
    live_server, entra, celery_worker, page, new_context, axe
):
    """The shared-mailbox case: whoever reads licensing@'s mail opens bob's link in their own
    browser, signs in from the link page as themselves (harry), and comes back to a page saying
    the request is bob's; only bob can confirm it."""
    sign_in_as_bob_and_register(page, live_server, axe)
    reload_until(page, lambda: page.get_by_text("sent on").count() > 0, what="the email sent")

    context = new_context()  # the suite's context arguments (axe needs bypass_csp)
    other = context.new_page()
    try:
        other.goto(entra.http_url + "/mailbox/")
        other.get_by_role("link", name=SUBJECT).first.click()
        other.get_by_role("link", name="/register/confirm/").first.click()
        expect(other.get_by_role("heading", level=1)).to_have_text(
            "Confirm that this address is yours"
        )
        expect(other.locator(".requester")).to_contain_text("(bob@fabrikam.com)")
        expect(other.get_by_role("button", name="Confirm")).to_have_count(0)
        axe(other)
        link = other.url
        other.get_by_role("link", name="Sign in to confirm").click()
        expect(other.get_by_label("Business email address")).to_have_value("bob@fabrikam.com")
        other.get_by_label("Business email address").fill("harry@woodgrove.com")
        other.get_by_role("button", name="Continue").click()
        other.get_by_label("Password").fill("Passw0rd!")
        other.get_by_role("button", name="Sign in").click()
        expect(other.get_by_role("heading", level=1)).to_have_text(
            "Only the person who asked can confirm this address"
        )
        assert other.url == link
        expect(other.get_by_text("You are signed in as harry@woodgrove.com.")).to_be_visible()
        axe(other)
    finally:
        context.close()
    assert Registration.objects.get().state == Registration.State.PENDING


def fits_390(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_bob_cancels_his_registration_only_after_confirming(
    live_server, entra, celery_worker, page, axe
):
    """The cancel link leads to a page that says what goes; "No, keep it" keeps it; the
    destructive button cancels; going back to the page later says it is already cancelled."""
    sign_in_as_bob_and_register(page, live_server, axe)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        page.goto(live_server.url + "/register/status/")
        page.get_by_role("link", name="Cancel this registration").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
        expect(page.get_by_text("The link in the verification email stops working")).to_be_visible()
        expect(page.get_by_text("l•••@fabrikam.com")).to_be_visible()
        axe(page)
        if width == 390:
            fits_390(page)
        page.get_by_role("link", name="No, keep it").click()
        expect(page.locator(".registration-state")).to_contain_text("Waiting for verification")
    assert Registration.objects.get().state == Registration.State.PENDING

    page.get_by_role("link", name="Cancel this registration").click()
    confirmation = page.url
    page.get_by_role("button", name="Yes, cancel this registration").click()
    expect(page.get_by_text("Your registration was cancelled. You can register again now."))
    expect(page.get_by_label(INVITATION_LABEL)).to_be_visible()
    axe(page)
    fits_390(page)
    assert Registration.objects.get().state == Registration.State.CANCELLED

    response = page.goto(confirmation)
    assert response.status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This registration is already cancelled"
    )
    axe(page)
    fits_390(page)
