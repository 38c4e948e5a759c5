"""What a person does between two screenshots: the same clicks, labels and waits as the browser
tests in ``tests/browser/`` (whose helpers these follow), so a label the tests change is changed
here too. Each action takes the page and the :class:`Run` and leaves the page on what the next
screenshot shows."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from playwright.sync_api import Page, expect

from tests.waiting import reload_until

PASSWORD = "Passw0rd!"
INVITATION_LABEL = "Business email address where you received the invitation to register"
VERIFICATION_SUBJECT = "Thank you for Registering with the Volume Licensing Service Center"


@dataclass
class Run:
    """The running portal's addresses and what one journey leaves for a later one (bob's support
    request for the support console)."""

    url: str
    standin_url: str
    plain_url: str  # the same portal with DEBUG off
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def mailbox(self) -> str:
        return self.standin_url + "/mailbox/"


def h1(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1)).to_contain_text(text)


def fresh(page: Page) -> None:
    """Sign out of everything: the portal's and the stand-in's cookies go (a new browser)."""
    page.context.clear_cookies()


# Sign-in: the portal's page, then the stand-in's.


def sign_in_page(page: Page, run: Run, email: str) -> None:
    """The portal's sign-in page, with the address typed in."""
    page.goto(run.url + "/sign-in/")
    page.get_by_label("Business email address").fill(email)


def to_standin(page: Page, run: Run, email: str) -> None:
    """Continue from the portal's sign-in page: the stand-in asks for the password."""
    sign_in_page(page, run, email)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Password")).to_be_visible()


def enter_password(page: Page) -> None:
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, run: Run, email: str) -> None:
    """Sign in as ``email``, whatever page the portal shows next."""
    fresh(page)
    to_standin(page, run, email)
    enter_password(page)
    page.wait_for_load_state("load")


def sign_in_and_register(page: Page, run: Run, email: str) -> None:
    """A first sign-in whose own address registers at once (the demo tenants verified their
    domains), ending on the dashboard."""
    sign_in(page, run, email)
    expect(page.get_by_label(INVITATION_LABEL)).to_have_value(email)
    page.get_by_role("button", name="Register").click()
    h1(page, "Your dashboard")


def refused(page: Page, run: Run, email: str, code: str) -> None:
    """A sign-in the identity provider or the portal refuses: the error page with its code."""
    fresh(page)
    sign_in_page(page, run, email)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    if page.get_by_label("Password").is_visible():  # an account exists: it asks first
        enter_password(page)
    h1(page, code)


# The dev mailbox (the stand-in's pages).


def open_email(page: Page, run: Run, subject: str, *, row: str = "") -> None:
    """The newest email with ``subject`` (to ``row``'s address), once it has arrived."""
    page.goto(run.mailbox)
    rows = page.get_by_role("row").filter(has_text=row) if row else page
    link = rows.get_by_role("link", name=subject).first
    reload_until(page, lambda: link.count() > 0, what=f"the email {subject!r}")
    link.click()
    page.wait_for_load_state("load")


def code_in_email(page: Page, pattern: str) -> str:
    match = re.search(pattern, page.content())
    assert match, f"no code matching {pattern!r} in {page.url}"
    return match.group(1)


# The admin's recent sign-in (the step-up page).


def sign_in_long_ago(page: Page, minutes: int) -> None:
    """Make the browser's portal session's sign-in ``minutes`` old, as
    ``tests/browser/test_agreements.py`` does (the gallery's process has Django set up on the
    portal's database)."""
    from django.conf import settings

    from accounts.services import step_up

    [cookie] = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[step_up.AUTH_TIME] = int(time.time()) - minutes * 60
    session.save()
