"""The app shell in Chromium, at 1280x800 and 390x844, for each role: a newly registered person,
an administrator (Administration in the navigation) and support staff (the support console as
their home page). On every page: axe-core finds nothing, the page is no wider than the window,
the navigation lists exactly the role's items and marks the current page. And the status page
updates the email's delivery by itself while it is queued."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users
from accounts.models import Registration
from agreements.demo import seed_demo_agreements
from notifications.models import OutboundEmail
from support.demo import seed_support_staff
from tests.browser.test_registration import sign_in_as_bob_and_register
from tests.browser.test_sign_in import sign_in_at_standin

pytestmark = pytest.mark.django_db(transaction=True)
SIZES = [pytest.param((1280, 800), id="desktop"), pytest.param((390, 844), id="390px")]
EVERYONE = ["Dashboard", "Registration status", "Contact support"]


def checked(page: Page, axe) -> None:
    """axe-core finds nothing, and the page fits the window (390 px included)."""
    axe(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


# The contrast of each navigation link's text with the navigation's background, as WCAG counts
# it (axe-core leaves some of these undecided, and once passed links drawn white on white).
NAV_CONTRAST = """nav => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => rgb(c)
    .map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const back = getComputedStyle(nav).backgroundColor;
  return [...nav.querySelectorAll("a")].map(a => {
    const [l1, l2] = [lum(getComputedStyle(a).color), lum(back)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  });
}"""


def portal_nav(page: Page, items: list[str], current: str | None) -> None:
    nav = page.get_by_role("navigation", name="Portal")
    expect(nav.get_by_role("link")).to_have_text(items)
    ratios = nav.evaluate(NAV_CONTRAST)
    assert min(ratios) >= 4.5, dict(zip(items, ratios, strict=True))
    for name in items:
        link = nav.get_by_role("link", name=name, exact=True)
        if name == current:
            expect(link).to_have_attribute("aria-current", "page")
        else:
            expect(link).not_to_have_attribute("aria-current", "page")


def sign_in(page: Page, live_server, axe, email: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/sign-in/")
    checked(page, axe)
    page.get_by_label("Business email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    sign_in_at_standin(page, axe)


def walk_everyday_items(page: Page, axe, items: list[str]) -> None:
    nav = page.get_by_role("navigation", name="Portal")
    for name, heading in [
        ("Dashboard", "Your dashboard"),
        ("Registration status", "Your registration"),
        ("Contact support", "Contact support"),
    ]:
        nav.get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        portal_nav(page, items, current=name)
        checked(page, axe)


@pytest.mark.parametrize("size", SIZES)
def test_a_newly_registered_person_finds_the_everyday_items(live_server, entra, page, axe, size):
    seed_demo_users()
    seed_demo_agreements()
    sign_in(page, live_server, axe, "alice@contoso.com", *size)
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your invitation address")
    portal_nav(page, EVERYONE, current=None)
    checked(page, axe)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("You are registered")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(
        "Signed in as Alice Contoso alice@contoso.com"
    )
    portal_nav(page, EVERYONE, current="Dashboard")
    expect(page.get_by_role("region", name="Your agreements and what you may do on each"))
    checked(page, axe)
    walk_everyday_items(page, axe, EVERYONE)

    page.get_by_role("link", name="Volume Licensing Service Center").click()
    expect(page.get_by_role("link", name="Go to your dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    portal_nav(page, EVERYONE, current=None)
    checked(page, axe)


@pytest.mark.parametrize("size", SIZES)
def test_an_administrator_also_finds_the_administration(live_server, entra, page, axe, size):
    seed_demo_users()
    seed_demo_agreements()
    sign_in(page, live_server, axe, "admin@contoso.com", *size)
    page.get_by_role("button", name="Register").click()
    items = ["Dashboard", "Registration status", "Administration", "Contact support"]
    portal_nav(page, items, current="Dashboard")
    checked(page, axe)
    walk_everyday_items(page, axe, items)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Administration").click()
    expect(page).to_have_url(live_server.url + "/admin/")
    # The admin wears the same header: the portal's navigation, Administration current, who is
    # signed in and the portal's sign-out (no "Welcome" or "Log out" of Django's own).
    portal_nav(page, items, current="Administration")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text(
        "Signed in as Contoso Administrator admin@contoso.com"
    )
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    checked(page, axe)
    page.get_by_role("link", name="Contacts", exact=True).first.click()
    link = page.get_by_role("navigation", name="Portal").get_by_role("link", name="Administration")
    expect(link).to_have_attribute("aria-current", "true")  # a page of the admin
    checked(page, axe)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


@pytest.mark.parametrize("size", SIZES)
def test_support_staff_land_on_the_support_console(live_server, entra, page, axe, size):
    seed_support_staff()
    sign_in(page, live_server, axe, "support@vlsc.example", *size)
    expect(page).to_have_url(live_server.url + "/support/")
    expect(page.get_by_role("status")).to_contain_text("Signed in as VLSC Support.")
    items = ["Dashboard", "Registration status", "Support console", "Contact support"]
    portal_nav(page, items, current="Support console")
    checked(page, axe)
    page.goto(live_server.url + "/")  # the start page is the console for them
    expect(page).to_have_url(live_server.url + "/support/")
    portal_nav(page, items, current="Support console")
    page.get_by_role("navigation", name="Portal").get_by_role(
        "link", name="Contact support"
    ).click()
    portal_nav(page, items, current="Contact support")
    checked(page, axe)


def test_support_staff_going_elsewhere_get_there(live_server, entra, page, axe):
    seed_support_staff()
    page.goto(live_server.url + "/support/queue/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=(%2F|/)support(%2F|/)queue(%2F|/)$"))
    page.get_by_label("Business email address").fill("support@vlsc.example")
    page.get_by_role("button", name="Continue").click()
    sign_in_at_standin(page, axe)
    expect(page).to_have_url(live_server.url + "/support/queue/")
    link = page.get_by_role("navigation", name="Portal").get_by_role("link", name="Support console")
    expect(link).to_have_attribute("aria-current", "true")  # a page of the console
    checked(page, axe)


@pytest.mark.parametrize("size", SIZES)
def test_the_status_page_shows_the_email_sent_without_a_reload(
    live_server, entra, page, axe, size, monkeypatch
):
    """The email stays queued until the test marks it sent: it is never handed to the broker
    (as when the broker is down), so no worker (on PostgreSQL and Redis one may be running)
    sends it first."""
    monkeypatch.setattr("notifications.services._hand_over", lambda task, email_id: None)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sign_in_as_bob_and_register(page, live_server, axe)
    checked(page, axe)
    delivery = page.locator(".live-status")
    expect(delivery).to_contain_text("Queued It usually goes out within a minute.")
    expect(delivery.get_by_role("link", name="Check again")).to_be_visible()
    email = Registration.objects.get().verification_email
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=OutboundEmail.State.SENT, sent_at=timezone.now()
    )
    expect(delivery).to_contain_text("sent on", timeout=15_000)
    expect(delivery.get_by_role("link", name="Check again")).to_have_count(0)
    checked(page, axe)
