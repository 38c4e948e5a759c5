"""The admin's first visit in Chromium, at 1280 and 390 px: an administrator-to-be who opens
``/admin/`` signed out is signed in, led through registration and lands in the admin, never on a
403. admin@contoso.com's sign-in address is his Administrator address and registers at once;
bob's Administrator address is a shared mailbox he verifies through the dev mailbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users
from agreements.demo import seed_demo_agreements
from agreements.models import Agreement, PermissionGrant
from tests.browser.test_sign_in import sign_in_at_standin
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)
INVITATION_LABEL = "Business email address where you received the invitation to register"
SUBJECT = "Thank you for Registering with the Volume Licensing Service Center"


def checked(page: Page, axe) -> None:
    """axe-core finds nothing, and the page fits the window (390 px included)."""
    axe(page)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def sign_in_from_the_admin(page: Page, live_server, axe, email: str) -> None:
    page.goto(live_server.url + "/admin/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=%2Fadmin%2F$"))
    checked(page, axe)
    page.get_by_label("Business email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    sign_in_at_standin(page, axe)


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_opens_the_admin_first_and_is_led_through_registration(
    live_server, entra, page, axe, width
):
    seed_demo_users()
    seed_demo_agreements()
    page.set_viewport_size({"width": width, "height": 844})
    sign_in_from_the_admin(page, live_server, axe, "admin@contoso.com")

    expect(page).to_have_url(re.compile(r"/register/\?next=%2Fadmin%2F$"))
    expect(page.get_by_text("Register your address to open the administration")).to_be_visible()
    expect(page.get_by_label(INVITATION_LABEL)).to_have_value("admin@contoso.com")
    checked(page, axe)
    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(live_server.url + "/admin/")
    expect(page.get_by_role("link", name="Permissions", exact=True)).to_be_visible()
    checked(page, axe)

    # The agreement's invited addresses: a table in a read-only field, which the admin's form
    # row would cut off at 390 px; it scrolls in its own region inside the window.
    agreement = Agreement.objects.get(number="E5550101")
    page.goto(f"{live_server.url}/admin/agreements/agreement/{agreement.pk}/change/")
    invited = page.get_by_role(
        "region", name="Each address with access to this agreement and its invitation state"
    )
    expect(invited).to_be_visible()
    box = invited.bounding_box()
    assert box["x"] + box["width"] <= width, box
    assert invited.evaluate("r => getComputedStyle(r).overflowX") == "auto"
    checked(page, axe)


def test_bob_verifies_a_shared_administrator_mailbox_and_comes_back_to_the_admin(
    live_server, entra, celery_worker, page, axe
):
    seed_demo_users()
    seed_demo_agreements()
    PermissionGrant.objects.create(
        agreement=Agreement.objects.get(number="O8880202"),
        email="licensing@fabrikam.com",
        kind=PermissionGrant.Kind.ADMINISTRATOR,
    )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_from_the_admin(page, live_server, axe, "bob@fabrikam.com")

    # The portal cannot know the mailbox is bob's yet: a refusal that says what to do.
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not administer an agreement")
    checked(page, axe)
    page.get_by_role("link", name="Register another address").click()
    page.get_by_label(INVITATION_LABEL).fill("licensing@fabrikam.com")
    checked(page, axe)
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".registration-state")).to_contain_text("Waiting for verification")
    reload_until(page, lambda: page.get_by_text("sent on").count() > 0, what="the email sent")
    checked(page, axe)

    page.goto(entra.http_url + "/mailbox/")
    page.get_by_role("link", name=SUBJECT).first.click()
    page.get_by_role("link", name="/register/confirm/").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm that this address is yours")
    checked(page, axe)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration complete")
    checked(page, axe)
    page.get_by_role("link", name="Continue where you were going").click()
    expect(page).to_have_url(live_server.url + "/admin/")
    expect(page.get_by_role("link", name="Permissions", exact=True)).to_be_visible()
    checked(page, axe)
