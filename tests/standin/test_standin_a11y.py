"""axe-core (WCAG 2.1 A/AA) on the stand-in's own pages, in Chromium through Playwright.

Uses the project's ``axe`` fixture (tests/conftest.py) and pytest-playwright's ``page``.
"""

import email.message
import mailbox
import re
import uuid

import msal
import pytest
import requests
from playwright.sync_api import expect

from .conftest import REDIRECT_URI

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:response_mode:UserWarning"),
]


def auth_uri(standin, login_hint):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(standin.ca_path)
    app = msal.ConfidentialClientApplication(
        standin.client_id,
        client_credential=standin.client_secret,
        authority=standin.authority("common"),
        instance_discovery=False,
        http_client=session,
    )
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=REDIRECT_URI, login_hint=login_hint)
    return flow["auth_uri"]


def submit(page, name: str) -> None:
    """Press a submit button and wait for the answer page, so checks read the new page."""
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_sign_in_and_sign_up_pages(standin, page, axe):
    page.goto(auth_uri(standin, "alice@contoso.com"))
    expect(page.get_by_label("Email")).to_have_value("alice@contoso.com")
    axe(page)
    page.get_by_label("Password").fill("wrong password")
    submit(page, "Sign in")
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page)

    address = f"a11y-{uuid.uuid4().hex[:8]}@litware.com"
    page.goto(auth_uri(standin, address))
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/signup/$"))
    axe(page)
    submit(page, "Next")
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page)
    page.get_by_label("Name").fill("A11y Person")
    page.get_by_label("Password", exact=True).fill("Secret123!")
    page.get_by_label("Confirm password").fill("Secret123!")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r".*/signup/code/$"))
    expect(page.get_by_text(address).first).to_be_visible()
    axe(page)
    submit(page, "Verify")  # no code typed
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page)
    page.get_by_label("Verification code").fill("abc")
    submit(page, "Verify")  # a wrong code
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Verification code")).to_have_attribute("aria-invalid", "true")
    axe(page)
    submit(page, "Send a new code")
    expect(page.get_by_role("status")).to_be_visible()
    axe(page)


def test_other_pages(standin, page, axe):
    box = mailbox.Maildir(standin.mailbox_dir)
    message = email.message.EmailMessage()
    message["From"] = "noreply@vlsc.example"
    message["To"] = "bob@fabrikam.com"
    message["Subject"] = "Your signup code"
    message.set_content("Your code is 123456. Or follow http://localhost:8000/x/")
    message.add_alternative("<p>Your code is <b>123456</b>.</p>", subtype="html")
    key = box.add(message)

    for path in ["/", "/mailbox/", f"/mailbox/{key}/", "/common/oauth2/v2.0/logout"]:
        page.goto(f"{standin.http_url}{path}")
        assert page.title()
        axe(page)
