"""The actions of the journeys' steps (``journeys.py``), one small function per page that needs
more than opening a URL. Each leaves the page on the state the step's screenshot shows."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from screenshots.steps import (
    INVITATION_LABEL,
    VERIFICATION_SUBJECT,
    Run,
    code_in_email,
    enter_password,
    fresh,
    h1,
    open_email,
    refused,
    sign_in,
    sign_in_and_register,
    sign_in_long_ago,
    to_standin,
)

# 01 A visitor


def sign_in_form(page: Page, run: Run) -> None:
    page.goto(run.url + "/")
    page.get_by_role("link", name="Sign in with your Work Account").click()
    expect(page.get_by_label("Business email address")).to_be_visible()


def sign_in_form_empty(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")


# 02 alice: first sign-in, dashboard, agreements


def alice_at_standin(page: Page, run: Run) -> None:
    fresh(page)
    to_standin(page, run, "alice@contoso.com")


def alice_registers(page: Page, run: Run) -> None:
    enter_password(page)
    expect(page.get_by_label(INVITATION_LABEL)).to_have_value("alice@contoso.com")


def alice_dashboard(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Register").click()
    h1(page, "Your dashboard")


def alice_agreement(page: Page, run: Run) -> None:
    page.get_by_role("link", name="V1234567").first.click()
    h1(page, "Agreement V1234567")


def request_access_empty(page: Page, run: Run) -> None:
    page.goto(run.url + "/agreements/request-access/")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")


def request_access_sent(page: Page, run: Run) -> None:
    page.get_by_label("Agreement number").fill("O8880202")
    page.get_by_role("button", name="Send request").click()
    h1(page, "Request received")


def signed_out(page: Page, run: Run) -> None:
    page.goto(run.url + "/dashboard/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with your Work Account")).to_be_visible()


# 03 bob: registration of another address through the dev mailbox, then Contact support


def bob_register_form(page: Page, run: Run) -> None:
    sign_in(page, run, "bob@fabrikam.com")
    page.get_by_label(INVITATION_LABEL).fill("licensing@fabrikam.com")


def bob_status(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Register").click()
    h1(page, "Your registration")
    expect(page.locator(".registration-state")).to_contain_text("Waiting for verification")
    # The worker sends the email; the page says so once it has gone.
    from tests.waiting import reload_until

    reload_until(page, lambda: page.get_by_text("sent on").count() > 0, what="the email sent")


def bob_cancel_confirmation(page: Page, run: Run) -> None:
    page.goto(run.url + "/register/status/")
    page.get_by_role("link", name="Cancel this registration").click()
    h1(page, "Cancel your registration?")


def bob_email(page: Page, run: Run) -> None:
    page.get_by_role("link", name="No, keep it").click()
    open_email(page, run, VERIFICATION_SUBJECT)
    expect(page.get_by_text("licensing@fabrikam.com").first).to_be_visible()


def bob_confirm(page: Page, run: Run) -> None:
    page.get_by_role("link", name="/register/confirm/").first.click()
    h1(page, "Confirm that this address is yours")


def bob_confirmed(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Confirm").click()
    h1(page, "Registration complete")


def bob_dashboard(page: Page, run: Run) -> None:
    page.get_by_role("link", name="Go to your dashboard").click()
    h1(page, "Your dashboard")


def stale_callback(page: Page, run: Run) -> None:
    """A forged or replayed sign-in callback: "start again", with a reference id."""
    page.goto(run.url + "/accounts/entra/login/callback/?state=x&code=y")
    h1(page, "Please start signing in again")
    run.state["reference_id"] = page.locator(".reference strong").inner_text()


def contact_form(page: Page, run: Run) -> None:
    page.get_by_role("link", name="Contact support about this").click()
    h1(page, "Contact support")
    page.get_by_label("What is it about?").select_option(label="Signing in")
    page.get_by_label("Your message").fill("Signing in showed 'Please start signing in again'.")


def contact_sent(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Send request").click()
    h1(page, "We received your request")
    run.state["support_reference"] = page.locator(".support-reference").inner_text()


# 04 grace: converting a personal account


def grace_start(page: Page, run: Run) -> None:
    sign_in(page, run, "grace@outlook.com")
    h1(page, "Convert your user ID to a work account")


def grace_personal_address(page: Page, run: Run) -> None:
    page.get_by_label("Work email address").fill("grace@gmail.com")
    page.get_by_role("button", name="Send me a signup code").click()
    expect(page.get_by_role("alert")).to_contain_text("personal email address")


def grace_code_page(page: Page, run: Run) -> None:
    page.get_by_label("Your name").fill("Grace Litware")
    page.get_by_label("Work email address").fill("grace@litware.com")
    page.get_by_role("button", name="Send me a signup code").click()
    h1(page, "Enter your signup code")
    run.state["code_page"] = page.url


def grace_code_email(page: Page, run: Run) -> None:
    open_email(page, run, "Your VLSC signup code")
    run.state["signup_code"] = code_in_email(page, r"signup code is: (\d{6})")


def grace_country(page: Page, run: Run) -> None:
    page.goto(run.state["code_page"])
    page.get_by_label("Signup code").fill(run.state["signup_code"])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Country or region of your organisation")).to_be_visible()


def grace_country_missing(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose your country or region.")


def grace_country_confirm(page: Page, run: Run) -> None:
    page.get_by_label("Country or region of your organisation").select_option("NL")
    page.get_by_role("button", name="Continue").click()
    h1(page, "Check the country or region of your organisation")


def grace_finish(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Confirm country or region").click()
    h1(page, "Last step: sign in with your work account")


def grace_standin_sign_up(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Sign in with your Work Account").click()
    expect(page.get_by_label("Email")).to_have_value("grace@litware.com")
    enter_password(page)
    page.get_by_label("Name").fill("Grace Litware")
    page.get_by_label("Password", exact=True).fill("Passw0rd!")
    page.get_by_label("Confirm password").fill("Passw0rd!")


def grace_standin_verify(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Next").click()
    h1(page, "Verify your email address")
    run.state["standin_code_page"] = page.url


def grace_dashboard(page: Page, run: Run) -> None:
    open_email(page, run, "Verify your email address", row="grace@litware.com")
    code = code_in_email(page, r"verification code is: (\d{6})")
    page.goto(run.state["standin_code_page"])
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify").click()
    h1(page, "Your dashboard")


# 05 Sign-in refusals (README "Sign-in error codes")


def e02(page: Page, run: Run) -> None:
    refused(page, run, "dave@tailspin.com", "E02")


def e03(page: Page, run: Run) -> None:
    refused(page, run, "carol@northwind.com", "E03")


def e04(page: Page, run: Run) -> None:
    refused(page, run, "erin@wingtip.com", "E04")


def e05(page: Page, run: Run) -> None:
    refused(page, run, "frank@adatum.com", "E05")


def e06(page: Page, run: Run) -> None:
    refused(page, run, "alice.personal@outlook.com", "We are unable to complete your action")


# 06 admin@contoso.com: the admin's first visit


def admin_first_visit(page: Page, run: Run) -> None:
    fresh(page)
    page.goto(run.url + "/admin/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=%2Fadmin%2F$"))
    page.get_by_label("Business email address").fill("admin@contoso.com")


def admin_registers(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Continue").click()
    enter_password(page)
    expect(page.get_by_label(INVITATION_LABEL)).to_have_value("admin@contoso.com")


def admin_index(page: Page, run: Run) -> None:
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("link", name="Permissions", exact=True)).to_be_visible()


def admin_agreement(page: Page, run: Run) -> None:
    page.goto(run.url + "/admin/agreements/agreement/")
    page.locator("#result_list a", has_text="V1234567").first.click()
    expect(page.locator("form")).not_to_have_count(0)


def admin_step_up(page: Page, run: Run) -> None:
    """Making someone an Administrator after a sign-in more than 10 minutes old."""
    sign_in_long_ago(page, 11)
    page.goto(run.url + "/admin/agreements/permissiongrant/add/")
    page.get_by_label("Agreement").select_option(index=1)
    page.get_by_label("Email address").fill("new.admin@contoso.com")
    page.get_by_label("Permission").select_option(label="Administrator")
    page.get_by_role("button", name="Save", exact=True).click()
    h1(page, "Sign in again to make this change")


# 07 support@vlsc.example: the support console


def support_first_page(page: Page, run: Run) -> None:
    sign_in(page, run, "support@vlsc.example")


def support_person(page: Page, run: Run) -> None:
    page.goto(run.url + "/support/")
    query = run.state.get("reference_id", "bob@fabrikam.com")
    page.get_by_label("Email address, agreement number or reference id").fill(query)
    page.get_by_role("button", name="Look up").click()
    h1(page, "bob@fabrikam.com")


def support_request(page: Page, run: Run) -> None:
    page.goto(run.url + "/support/queue/")
    reference = run.state.get("support_reference") or re.compile(r"^SR-")
    page.get_by_role("link", name=reference).first.click()
    h1(page, "Support request")


# 08 harry: no agreements


def harry_dashboard(page: Page, run: Run) -> None:
    sign_in_and_register(page, run, "harry@woodgrove.com")
    expect(page.get_by_text("No permissions are associated with your account")).to_be_visible()
