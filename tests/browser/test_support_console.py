"""The support console in Chromium at 1280 and 390 px (issue 15 items 2 and 7):
support@vlsc.example signs in, opens the console home, the trends overview (where a spike of E03
from one organisation shows), a person's page and a request, and takes the request ("Assign to
me" is then gone). axe-core finds nothing and no page is wider than the window."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Registration, SignInEvent, User
from notifications.models import OutboundEmail
from support import services
from support.demo import seed_support_staff
from support.selectors import trends
from tests.browser.test_conversion import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
SPIKING_TENANT = "0c9f2a4e-5b1d-4c3e-9a7f-2d8e6b1c0f35"


def checked(page: Page, axe) -> None:
    """axe-core finds nothing, and the page fits the window (390 px included)."""
    axe(page)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def seed_a_month(now) -> tuple[User, str]:
    """bob with a pending registration and an open request; a month of sign-ins, with a burst
    of E03 from one tenant two days ago."""
    bob = User.objects.create(
        username="bob", email="bob@fabrikam.com", first_name="Bob", last_name="Fabrikam"
    )
    EmailAddress.objects.create(user=bob, email="bob@fabrikam.com", verified=True, primary=True)
    Registration.objects.create(
        user=bob,
        sign_in_address="bob@fabrikam.com",
        invitation_address="licensing-department-of-fabrikam@fabrikam.com",
        created_at=now - timedelta(hours=3),
        expires_at=now + timedelta(hours=45),
        nonce="n" * 32,
    )
    n = 0
    for day in range(30):
        for code, tenant, count in (("", "t-contoso", 3), ("E02", "t-woodgrove", 1)):
            for _ in range(count):
                n += 1
                event = SignInEvent.objects.create(
                    reference_id=f"BROWSER{n:09d}",
                    outcome="signed_in" if not code else "refused",
                    error_code=code,
                    tenant_id=tenant,
                    address="bob@fabrikam.com",
                    user=bob if not code else None,
                )
                SignInEvent.objects.filter(pk=event.pk).update(
                    created_at=now - timedelta(days=day, minutes=n)
                )
    for _ in range(15):
        n += 1
        event = SignInEvent.objects.create(
            reference_id=f"BROWSER{n:09d}",
            outcome="refused",
            error_code="E03",
            tenant_id=SPIKING_TENANT,
            address="ann@litware.com",
        )
        SignInEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(days=2))
    # An email with a long subject: the timeline's "What" wraps rather than widening the table.
    OutboundEmail.objects.create(
        kind="access_accepted",
        to="bob@fabrikam.com",
        subject="You have been given access to agreement V1234567 in the Volume Licensing "
        "Service Center",
        body="",
        queued_at=now - timedelta(hours=2),
    )
    request = services.open_support_request(
        name="Bob Fabrikam",
        email="bob@fabrikam.com",
        topic="sign_in",
        message="I cannot finish registering the licensing address.",
        user=bob,
    )
    return bob, request.reference


@pytest.mark.parametrize("width", [1280, 390])
def test_support_staff_work_from_the_console(live_server, entra, page, axe, width):
    now = timezone.now()
    seed_support_staff()
    bob, reference = seed_a_month(now)
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live_server, "support@vlsc.example")

    page.goto(live_server.url + "/support/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support console")
    expect(page.get_by_role("search")).to_be_visible()
    newest = page.get_by_role("table", name="The newest open requests, newest first")
    expect(newest).to_contain_text(reference)
    checked(page, axe)

    page.get_by_role("link", name="See trends over the last 30 days").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trends over the last 30 days")
    for name in (
        "Registrations per day",
        "Sign-in outcomes per day",
        "Failed sign-ins per day, by organisation",
    ):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    spike_day = (now - timedelta(days=2)).date().isoformat()
    expect(page.locator(".notice--warning")).to_contain_text(f"tenant {SPIKING_TENANT}")
    expect(page.locator(".notice--warning")).to_contain_text(spike_day)
    organisations = page.get_by_role(
        "table",
        name="Failed sign-ins per UTC day by organisation, with E03 refusals in brackets",
    )
    expect(organisations.get_by_role("row").filter(has_text=spike_day)).to_contain_text("E03 spike")
    # The table's total is the database's count (support's own sign-in included; the month's
    # first day starts at midnight UTC, so the oldest seeded events may fall outside).
    signed_in = SignInEvent.objects.filter(
        outcome="signed_in", created_at__gte=trends.window(now=timezone.now())[1]
    ).count()
    outcomes = page.get_by_role("table", name="Sign-in attempts per UTC day by outcome")
    total = outcomes.get_by_role("row", name=re.compile("^Total"))
    expect(total.get_by_role("cell").first).to_have_text(str(signed_in))
    checked(page, axe)

    page.goto(f"{live_server.url}/support/person/?user={bob.pk}")
    expect(page.get_by_role("heading", level=1)).to_have_text("bob@fabrikam.com")
    expect(page.get_by_label("Why resend it (kept in the audit record)")).to_be_visible()
    expect(page.get_by_label("Why cancel it (kept in the audit record)")).to_be_visible()
    timeline = page.get_by_role("table", name="What happened, newest first")
    expect(timeline.locator("time").first).to_have_attribute("datetime", re.compile(r"Z$"))
    summary = page.get_by_role("region", name="Summary").bounding_box()
    table = page.get_by_role("region", name="Timeline table").bounding_box()
    if width >= 1024:  # side by side, and the timeline fits beside the summary unscrolled
        assert table["x"] > summary["x"] + summary["width"] - 1
        region = page.get_by_role("region", name="Timeline table")
        assert region.evaluate("r => r.scrollWidth <= r.clientWidth"), region.evaluate(
            "r => [r.scrollWidth, r.clientWidth]"
        )
    else:  # stacked
        assert table["y"] > summary["y"] + summary["height"] - 1
    checked(page, axe)

    page.get_by_role("link", name="Request queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request queue")
    queue = page.get_by_role("table", name="Open and answered support requests by due time")
    expect(queue).to_contain_text(reference)
    checked(page, axe)  # the table scrolls in its own region at 390 px, not the page

    page.goto(f"{live_server.url}/support/requests/{reference}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Support request {reference}")
    checked(page, axe)
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text("The request is assigned to you.")
    expect(page.get_by_text("Assigned to you", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Assign to me"))).to_have_count(0)
    checked(page, axe)
