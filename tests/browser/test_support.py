"""Support in Chromium: bob hits an error page, contacts support from it, gets the
acknowledgement; support@vlsc.example finds him by the reference id, sees the error, the request
and his pending registration on one timeline, resends his verification email and answers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from notifications.models import OutboundEmail
from support.demo import seed_support_staff
from support.models import SupportAction, SupportRequest
from tests.browser.test_registration import sign_in_as_bob_and_register
from tests.cache_util import clear_portal_cache
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_mail(page: Page, mailbox_url: str, subject: str) -> None:
    page.goto(mailbox_url)
    link = page.get_by_role("link", name=subject)
    reload_until(page, lambda: link.count() > 0, what=f"the email {subject!r} in the dev mailbox")


def test_bob_contacts_support_from_an_error_page_and_support_helps_him(
    live_server, entra, celery_worker, page, axe
):

    clear_portal_cache()  # rate limits from earlier runs
    seed_support_staff()
    sign_in_as_bob_and_register(page, live_server, axe)

    # A forged callback: the "start again" page, 400, with a reference id.
    response = page.goto(live_server.url + "/accounts/entra/login/callback/?state=x&code=y")
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Please start signing in again")
    reference_id = page.locator(".reference strong").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{12}", reference_id)
    axe(page)

    page.get_by_role("link", name="Contact support about this").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact support")
    expect(page.get_by_label("Your email address")).to_have_value("bob@fabrikam.com")
    expect(page.get_by_label("Reference id from the error page (optional)")).to_have_value(
        reference_id
    )
    axe(page)
    page.get_by_label("What is it about?").select_option(label="Signing in")
    page.get_by_label("Your message").fill("Signing in showed 'Please start signing in again'.")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We received your request")
    reference = page.locator(".support-reference").inner_text()
    assert re.fullmatch(r"SR-[A-Z2-9]{8}", reference)
    expect(page.get_by_role("table", name="Support by phone (demo numbers)")).to_be_visible()
    axe(page)

    wait_for_mail(page, entra.http_url + "/mailbox/", f"We received your request {reference}")
    axe(page)

    # Support signs in through the ordinary work-account sign-in.
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Sign out").click()
    page.goto(live_server.url + "/sign-in/")
    page.get_by_label("Business email address").fill("support@vlsc.example")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill("Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("support@vlsc.example")

    page.goto(live_server.url + "/support/")
    axe(page)
    page.get_by_label("Email address, agreement number or reference id").fill(reference_id)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("bob@fabrikam.com")
    timeline = page.get_by_role("table", name="What happened, newest first")
    expect(timeline.get_by_role("row").filter(has_text=reference_id)).to_contain_text(
        "Forged, replayed or stale callback"
    )
    expect(timeline.locator("tr.entry-support_request")).to_contain_text(reference)
    expect(timeline.locator("tr.entry-support_request")).to_contain_text("Open")
    expect(
        timeline.get_by_role("row").filter(has_text="Registration of licensing@fabrikam.com")
    ).to_contain_text("Waiting for verification")
    registrations = page.get_by_role("region", name="Registrations")
    expect(registrations).to_contain_text("Waiting for verification")
    axe(page)

    sent_before = OutboundEmail.objects.filter(kind="verification").count()
    resend = page.locator("form[action$='/resend/']")
    resend.get_by_label("Why resend it (kept in the audit record)").fill(
        f"bob asked in {reference}"
    )
    resend.get_by_role("button", name="Resend verification email").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The verification email was sent again to licensing@fabrikam.com"
    )
    expect(page.get_by_role("table", name="What happened, newest first")).to_contain_text(
        "Verification email resent by support"
    )
    axe(page)
    assert OutboundEmail.objects.filter(kind="verification").count() == sent_before + 1

    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Support request {reference}")
    axe(page)
    page.get_by_label("Answer", exact=True).fill(
        "The sign-in link was stale. Sign in again; we resent your verification email."
    )
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("status")).to_contain_text("Your answer was sent to bob@fabrikam.com")
    axe(page)
    assert SupportRequest.objects.get().state == SupportRequest.State.ANSWERED
    assert set(SupportAction.objects.values_list("action", flat=True)) == {
        "verification_resent",
        "request_answered",
    }
    wait_for_mail(page, entra.http_url + "/mailbox/", f"Answer to your request {reference}")

    page.goto(live_server.url + "/support/queue/")
    expect(page.get_by_role("table", name="Open and answered support requests by due time"))
    axe(page)
