"""Flow A in Chromium: the portal, the stand-in's pages, back to the portal; axe on each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users

pytestmark = pytest.mark.django_db(transaction=True)


def start_sign_in(page: Page, live_server, axe, email: str) -> None:
    page.goto(live_server.url + "/")
    axe(page)
    page.get_by_role("link", name="Sign in with your Work Account").click()
    page.get_by_label("Business email address").fill(email)
    axe(page)
    page.get_by_role("button", name="Continue").click()


def sign_in_at_standin(page: Page, axe, password: str = "Passw0rd!") -> None:
    expect(page.get_by_label("Password")).to_be_visible()
    axe(page)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_alice_signs_in_sees_who_she_is_and_signs_out(live_server, entra, page, axe):
    start_sign_in(page, live_server, axe, "alice@contoso.com")
    expect(page.get_by_label("Email")).to_have_value("alice@contoso.com")
    sign_in_at_standin(page, axe, password="wrong-password")
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page)
    sign_in_at_standin(page, axe)
    # First sign-in: the invitation address, prefilled with the sign-in address, registers at once
    # (Contoso verified contoso.com: the id_token's xms_edov is true).
    expect(page.get_by_role("heading", level=1)).to_have_text("Register your invitation address")
    # Greeted by name (the id_token's ``name``), never by the internal user name.
    expect(page.get_by_text("Signed in as Alice Contoso.")).to_be_visible()
    expect(
        page.get_by_label("Business email address where you received the invitation to register")
    ).to_have_value("alice@contoso.com")
    axe(page)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("alice@contoso.com")
    axe(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with your Work Account")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    axe(page)
    assert page.url == live_server.url + "/"
    # The stand-in's session ended too: signing in again asks for the password.
    start_sign_in(page, live_server, axe, "alice@contoso.com")
    expect(page.get_by_label("Password")).to_be_visible()


@pytest.mark.parametrize(
    ("email", "code", "message"),
    [
        ("dave@tailspin.com", "E02", "restricted for automatic sign up"),
        ("carol@northwind.com", "E03", "Your IT Department has turned off signup"),
        ("erin@wingtip.com", "E04", "restricted for automatic sign up"),
        ("frank@adatum.com", "E05", "restricted for automatic sign up"),
    ],
)
def test_each_refusal_shows_its_code_cause_and_next_step(
    live_server, entra, page, axe, email, code, message
):
    start_sign_in(page, live_server, axe, email)
    # No account exists for these addresses: the stand-in asks for one, then refuses sign-up.
    if page.get_by_label("Password").is_visible():
        sign_in_at_standin(page, axe)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(code)
    expect(heading).to_contain_text(message)
    expect(page.get_by_text("What to do next")).to_be_visible()
    expect(page.get_by_text("Who can fix it")).to_be_visible()
    expect(page.locator("dd.code")).to_have_text(re.compile(r"^[A-Z2-9]{12}$"))
    axe(page)


def test_a_personal_account_of_a_work_account_user_gets_e06(live_server, entra, page, axe):
    seed_demo_users()
    start_sign_in(page, live_server, axe, "alice.personal@outlook.com")
    sign_in_at_standin(page, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "We are unable to complete your action"
    )
    expect(page.locator(".work-account")).to_have_text("alice@contoso.com")
    axe(page)
