"""Agreements in Chromium: alice sees hers; admin@contoso.com grants a permission in the admin,
the welcome email reaches the dev mailbox, and Fabrikam's agreement stays out of reach; making
someone an Administrator asks for a recent sign-in and brings the form back filled in."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users
from agreements.demo import seed_demo_agreements
from agreements.models import Agreement, AuditEvent, PermissionGrant
from tests.browser.test_sign_in import sign_in_at_standin, start_sign_in
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)


def register(page: Page, axe, email: str) -> None:
    """The first sign-in's registration step: the same address registers at once (the demo
    tenants of these accounts verified their domains)."""
    expect(page.get_by_role("heading", name="Register your invitation address")).to_be_visible()
    field = page.get_by_label(
        "Business email address where you received the invitation to register"
    )
    expect(field).to_have_value(email)
    axe(page)
    page.get_by_role("button", name="Register").click()


def sign_in(page: Page, live_server, axe, email: str) -> None:
    start_sign_in(page, live_server, axe, email)
    sign_in_at_standin(page, axe)
    register(page, axe, email)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def add_permission_in_admin(
    page: Page, live_server, axe, agreement: Agreement, email: str, permission: str, kind: str
) -> None:
    """Give ``email`` a permission on ``agreement`` through the admin's add form, as an
    administrator signed in on ``page`` would, and check it was saved."""
    page.goto(live_server.url + "/admin/agreements/permissiongrant/add/")
    axe(page)
    page.get_by_label("Agreement").select_option(label=str(agreement))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Permission").select_option(label=permission)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert PermissionGrant.objects.filter(agreement=agreement, email=email, kind=kind).exists()


def test_alice_sees_her_agreements_and_what_she_may_do(live_server, entra, page, axe):
    seed_demo_users()
    seed_demo_agreements()
    sign_in(page, live_server, axe, "alice@contoso.com")
    dashboard = page.get_by_role("table", name="Your agreements and what you may do on each")
    expect(dashboard).to_contain_text("V1234567")
    expect(dashboard).to_contain_text("Primary Contact")
    expect(page.get_by_text("No permissions are associated with your account")).to_have_count(0)
    axe(page)
    dashboard.get_by_role("link", name="V1234567").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreement V1234567")
    table = page.get_by_role(
        "table", name="Your permissions on this agreement and what each allows"
    )
    expect(table).to_contain_text("Product Keys")
    expect(page.get_by_text("Primary Contact")).to_be_visible()
    axe(page)
    page.goto(live_server.url + "/agreements/O8880202/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreement not available")
    axe(page)
    page.goto(live_server.url + "/agreements/request-access/")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    axe(page)
    page.get_by_label("Agreement number").fill("O8880202")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    axe(page)


def test_alice_filters_sorts_and_pages_her_agreements_without_javascript(
    live_server, entra, page, axe
):
    """Sixty more agreements than a page holds; the filter, the sort links and the page links
    are a GET form and plain links, so the page works with JavaScript off, at 1280 and 390
    pixels wide."""
    seed_demo_users()
    seed_demo_agreements()
    held = Agreement.objects.bulk_create(
        Agreement(
            number=f"P{n:07d}",
            customer=f"Northwind Traders {n:02d}" if n % 2 else f"Litware {n:02d}",
            program=Agreement.Program.OPEN_VALUE if n % 3 else Agreement.Program.MPSA,
            start_date=date(2024, 1, 1),
        )
        for n in range(60)
    )
    PermissionGrant.objects.bulk_create(
        PermissionGrant(agreement=a, email="alice@contoso.com", kind="downloads") for a in held
    )
    sign_in(page, live_server, axe, "alice@contoso.com")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + "/dashboard/")
        table = page.get_by_role("table", name="Your agreements and what you may do on each")
        expect(page.get_by_text(re.compile(r"of 6\d agreements, page 1 of 2"))).to_be_visible()
        expect(table.get_by_role("row")).to_have_count(51)
        fits_the_viewport(page, width)
        axe(page)

        page.get_by_label("Filter by agreement number, customer or program").fill("northwind")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"\?q=northwind$"))
        expect(page.get_by_text("1–30 of 30 agreements matching “northwind”")).to_be_visible()
        fits_the_viewport(page, width)
        axe(page)

        table.get_by_role("link", name="Customer").click()
        expect(table.locator('th[aria-sort="ascending"]')).to_have_text(re.compile("Customer"))
        table.get_by_role("link", name="Customer").click()
        expect(table.locator('th[aria-sort="descending"]')).to_have_text(re.compile("Customer"))
        expect(table.get_by_role("row").nth(1)).to_contain_text("Northwind Traders 59")
        expect(page.get_by_label("Filter by agreement number, customer or program")).to_have_value(
            "northwind"
        )
        axe(page)

        page.get_by_role("link", name="Clear the filter").click()
        pages = page.get_by_role("navigation", name="Pages of your agreements")
        pages.get_by_role("link", name="Next page").click()
        expect(page).to_have_url(re.compile(r"sort=-customer&page=2"))
        summary = re.compile(r"51–6\d of 6\d agreements, page 2 of 2")
        expect(page.get_by_text(summary)).to_be_visible()
        expect(pages.get_by_text("Page 2 of 2")).to_be_visible()
        fits_the_viewport(page, width)
        axe(page)

        page.goto(live_server.url + "/dashboard/?q=no-such-thing&page=7")
        expect(page.get_by_text("No agreements match “no-such-thing”.")).to_be_visible()
        axe(page)


def fits_the_viewport(page: Page, width: int) -> None:
    """Nothing makes the page wider than the window: the table scrolls inside its region."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    region = page.get_by_role("region", name="Your agreements and what you may do on each")
    if region.count():
        box = region.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width


def test_admin_grants_product_keys_and_cannot_reach_fabrikam(
    live_server, entra, celery_worker, page, axe
):
    seed_demo_users()
    seed_demo_agreements()
    contoso = Agreement.objects.get(number="V1234567")
    fabrikam = Agreement.objects.get(number="O8880202")

    sign_in(page, live_server, axe, "admin@contoso.com")
    page.goto(live_server.url + "/admin/")
    expect(page.get_by_role("link", name="Permissions", exact=True)).to_be_visible()
    axe(page)

    add_permission_in_admin(
        page, live_server, axe, contoso, "keys.new@contoso.com", "Product Keys", "product_keys"
    )

    page.goto(entra.http_url + "/mailbox/")
    subject = "You have been given access to agreement V1234567 in the VLSC"
    reload_until(page, lambda: page.get_by_text(subject).count() > 0, what="the welcome email")
    expect(page.get_by_text(subject).first).to_be_visible()

    # Fabrikam: not by search, not by URL, not by a crafted POST.
    page.goto(live_server.url + "/admin/agreements/agreement/?q=Fabrikam")
    expect(page.get_by_text("0 results")).to_be_visible()
    axe(page)
    page.goto(live_server.url + f"/admin/agreements/agreement/{fabrikam.pk}/change/")
    expect(page).to_have_url(live_server.url + "/admin/")
    page.goto(live_server.url + "/admin/agreements/permissiongrant/add/")
    page.evaluate(
        """(pk) => { const s = document.querySelector('#id_agreement');
                     s.add(new Option('forged', pk)); s.value = String(pk); }""",
        fabrikam.pk,
    )
    page.get_by_label("Email address").fill("mallory@contoso.com")
    page.get_by_label("Permission").select_option(label="Administrator")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("Select a valid choice")
    assert not PermissionGrant.objects.filter(email="mallory@contoso.com").exists()


def sign_in_long_ago(page: Page, minutes: int) -> None:
    """Make the browser's portal session's sign-in at the identity provider ``minutes`` old."""
    from importlib import import_module

    from django.conf import settings

    from accounts.services import step_up

    [cookie] = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[step_up.AUTH_TIME] = int(time.time()) - minutes * 60
    session.save()


def test_admin_signs_in_again_to_grant_administrator_and_keeps_what_they_typed(
    live_server, entra, celery_worker, page, axe
):
    seed_demo_users()
    seed_demo_agreements()
    contoso = Agreement.objects.get(number="V1234567")
    sign_in(page, live_server, axe, "admin@contoso.com")
    sign_in_long_ago(page, 11)

    page.goto(live_server.url + "/admin/agreements/permissiongrant/add/")
    page.get_by_label("Agreement").select_option(label=str(contoso))
    page.get_by_label("Email address").fill("new.admin@contoso.com")
    page.get_by_label("Permission").select_option(label="Administrator")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in again to make this change")
    axe(page)
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    page.get_by_role("button", name="Sign in again").click()
    # The stand-in asks for the password although its own session is a minute old (prompt=login).
    expect(page.get_by_label("Email")).to_have_value("admin@contoso.com")
    sign_in_at_standin(page, axe)

    expect(page).to_have_url(re.compile(r"/admin/agreements/permissiongrant/add/\?step_up="))
    expect(page.locator(".messagelist")).to_contain_text("Nothing has been changed yet")
    expect(page.get_by_label("Email address")).to_have_value("new.admin@contoso.com")
    expect(page.get_by_label("Permission")).to_have_value("administrator")
    expect(page.get_by_label("Agreement")).to_have_value(str(contoso.pk))
    axe(page)
    assert not PermissionGrant.objects.filter(email="new.admin@contoso.com").exists()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert PermissionGrant.objects.filter(
        agreement=contoso, email="new.admin@contoso.com", kind="administrator"
    ).exists()
    event = AuditEvent.objects.get(subject_email="new.admin@contoso.com")
    assert event.step_up_at is not None and "recent sign-in at" in event.detail
    axe(page)
