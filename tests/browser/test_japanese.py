"""The portal in Japanese (README "Languages and time zones"): a browser that asks for Japanese
(Accept-Language ja-JP) in Tokyo walks sign-in through the stand-in, registration with the
verification email read in the dev mailbox, and the dashboard, at 1280 and 390 px. On every
portal page: ``<html lang="ja">``, Japanese text, no axe-core violation, nothing wider than the
window (CJK text has no spaces to wrap at), and times shown in Tokyo time (JST)."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from accounts.models import Registration, User
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The catalogues compiled (compilemessages skips a .mo newer than its .po)."""
    call_command("compilemessages", ignore_patterns=[".venv", "node_modules", "var"], verbosity=0)
    translation.trans_real._translations = {}
    translation.trans_real._active = translation.trans_real.Local()


def ja(message: str) -> str:
    with translation.override("ja"):
        text = gettext(message)
    assert JAPANESE.search(text), f"no Japanese translation of {message!r}"
    return text


def check_page(page: Page, axe, heading: str) -> None:
    """The portal page in Japanese, accessible, and no wider than the window."""
    expect(page.get_by_role("heading", level=1)).to_have_text(ja(heading))
    assert page.evaluate("document.documentElement.lang") == "ja"
    axe(page)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_bob_signs_in_registers_and_sees_his_dashboard_in_japanese(
    live_server, entra, celery_worker, new_context, axe, viewport
):
    width, height = viewport
    context = new_context(
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": width, "height": height},
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        check_page(page, axe, "Manage your volume-licensing agreements")
        page.get_by_role("link", name=ja("Sign in with your Work Account")).click()
        check_page(page, axe, "Sign in with your Work Account")
        page.get_by_label(ja("Business email address")).fill("bob@fabrikam.com")
        page.get_by_role("button", name=ja("Continue")).click()

        # The Entra ID stand-in plays Microsoft's page: English by design.
        page.get_by_label("Password").fill("Passw0rd!")
        page.get_by_role("button", name="Sign in").click()

        check_page(page, axe, "Register your invitation address")
        label = ja("Business email address where you received the invitation to register")
        page.get_by_label(label).fill("licensing@fabrikam.com")
        page.get_by_role("button", name=ja("Register")).click()
        check_page(page, axe, "Your registration")
        # The language of his first sign-in is his, and the browser's time zone is stored.
        bob = User.objects.get(email="bob@fabrikam.com")
        assert (bob.language, bob.time_zone) == ("ja", "Asia/Tokyo")
        # Times in Tokyo time, with UTC in the tooltip.
        registered = page.locator(".steps time").first
        expect(registered).to_have_text(re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日\d{1,2}:\d\d JST$"))
        expect(registered).to_have_attribute("title", re.compile(r" UTC$"))
        created = Registration.objects.get().created_at
        tokyo = created.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
        expect(registered).to_contain_text(f"{tokyo.hour}:{tokyo:%M} JST")
        reload_until(page, lambda: page.locator(".steps time").count() >= 3, what="the email sent")

        # The verification email is in his language.
        page.goto(entra.http_url + "/mailbox/")
        page.get_by_role(
            "link", name=ja("Thank you for Registering with the Volume Licensing Service Center")
        ).first.click()
        page.get_by_role("link", name="/register/confirm/").first.click()
        check_page(page, axe, "Confirm that this address is yours")
        page.get_by_role("button", name=ja("Confirm")).click()
        check_page(page, axe, "Registration complete")
        page.get_by_role("link", name=ja("Go to your dashboard")).click()
        check_page(page, axe, "Your dashboard")
        assert Registration.objects.get().state == Registration.State.COMPLETED
        footer = page.locator("footer")
        expect(footer.get_by_label(ja("Language"))).to_have_value("ja")

        # Preferences, from the footer: his language and time zone, as stored.
        footer.locator('a[href="/account/preferences/"]').click()
        check_page(page, axe, "Language and time zone")
        expect(page.locator("#id_language")).to_have_value("ja")
        expect(page.locator("#id_time_zone")).to_have_value("Asia/Tokyo")
        # The switcher (no JavaScript needed): back to English, on the same page, remembered.
        footer.get_by_label(ja("Language")).select_option("en")
        footer.get_by_role("button", name=ja("Change language")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Language and time zone")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.url == live_server.url + "/account/preferences/"
        assert User.objects.get(pk=bob.pk).language == "en"
    finally:
        context.close()
