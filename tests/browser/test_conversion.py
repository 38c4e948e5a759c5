"""Flow C in Chromium: grace converts her personal account to grace@litware.com, reading the
signup code in the dev mailbox; later her personal account gets E06."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, live_server, email: str, password: str = "Passw0rd!") -> None:
    page.goto(live_server.url + "/sign-in/")
    page.get_by_label("Business email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_grace_converts_to_her_work_account_then_her_personal_one_gets_e06(
    live_server, entra, celery_worker, page, axe
):
    seed_demo_users()
    sign_in(page, live_server, "grace@outlook.com")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Convert your user ID to a work account"
    )
    axe(page)
    page.get_by_label("Work email address").fill("grace@gmail.com")
    page.get_by_role("button", name="Send me a signup code").click()
    expect(page.get_by_role("alert")).to_contain_text("personal email address")
    axe(page)
    page.get_by_label("Your name").fill("Grace Litware")
    page.get_by_label("Work email address").fill("grace@litware.com")
    page.get_by_role("button", name="Send me a signup code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your signup code")
    axe(page)

    portal_code_page = page.url
    page.goto(entra.http_url + "/mailbox/")
    link = page.get_by_role("link", name="Your VLSC signup code").first
    reload_until(page, lambda: link.count() > 0, what="the signup code email in the mailbox")
    link.click()
    code = re.search(r"signup code is: (\d{6})", page.content()).group(1)

    page.goto(portal_code_page)
    page.get_by_label("Signup code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You cannot change this after you finish the signup process.").first)
    axe(page)
    # Nothing preselected from the browser's language (Chromium sends en-US): the prompt shows.
    country = page.get_by_label("Country or region of your organisation")
    expect(country).to_have_value("")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose your country or region.")
    axe(page)
    country.select_option("NL")
    page.get_by_role("button", name="Continue").click()
    # The confirmation screen: the choice and its permanence; "Change" keeps the choice.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the country or region of your organisation"
    )
    expect(page.locator(".chosen-country")).to_have_text("Netherlands")
    expect(page.get_by_text("You cannot change this later.")).to_be_visible()
    axe(page)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe(page)
    page.get_by_role("link", name="Change the country or region").click()
    expect(country).to_have_value("NL")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm country or region").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Last step: sign in with your work account"
    )
    axe(page)
    page.get_by_role("button", name="Sign in with your Work Account").click()

    # At the stand-in: grace@litware.com has no account yet; Litware allows self-service sign-up,
    # which emails a code to the address (the dev mailbox) before it creates the account.
    expect(page.get_by_label("Email")).to_have_value("grace@litware.com")
    page.get_by_label("Password").fill("Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Name").fill("Grace Litware")
    page.get_by_label("Password", exact=True).fill("Passw0rd!")
    page.get_by_label("Confirm password").fill("Passw0rd!")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify your email address")
    standin_code_page = page.url
    page.goto(entra.http_url + "/mailbox/")
    link = (
        page.get_by_role("row")
        .filter(has_text="grace@litware.com")
        .get_by_role("link", name="Verify your email address")
        .first
    )
    reload_until(page, lambda: link.count() > 0, what="the stand-in's sign-up code email")
    link.click()
    code = re.search(r"verification code is: (\d{6})", page.content()).group(1)
    page.goto(standin_code_page)
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("grace@litware.com")
    expect(page.get_by_role("listitem").filter(has_text="grace@outlook.com")).to_be_visible()
    axe(page)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "grace@outlook.com")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "We are unable to complete your action"
    )
    expect(page.locator(".work-account")).to_have_text("grace@litware.com")
    axe(page)
