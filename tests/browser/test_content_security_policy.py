"""The portal's pages run under their Content-Security-Policy in Chromium without a violation.

The other browser tests bypass the policy (axe-core is injected as an inline script, see
``browser_context_args`` in tests/conftest.py), so they cannot see a violation; this one enforces
it and walks the landing page, sign-in (whose form is redirected to the identity provider on
another origin: Chrome applies form-action to that redirect), registration, the dashboard, an
agreement, support's contact form, the admin's pages, an error page and sign-out.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import seed_demo_users
from agreements.demo import seed_demo_agreements
from agreements.models import Agreement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(bypass_csp=False),
]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${document.URL}`
  );
});
"""


class PolicyWatch:
    """Collects, across navigations, what Chromium reports against the page's policies: the
    ``securitypolicyviolation`` events and the console's CSP and Permissions-Policy errors, and
    which portal documents came without the header."""

    def __init__(self, page: Page, portal: str) -> None:
        self.violations: list[str] = []
        self.documents: list[str] = []
        self.unprotected: list[str] = []
        page.expose_binding("reportViolation", lambda _source, text: self.violations.append(text))
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("response", lambda response: self._response(response, portal))

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Permissions-Policy" in text:
            self.violations.append(f"console {message.type}: {text}")

    def _response(self, response, portal: str) -> None:
        if response.request.resource_type == "document" and response.url.startswith(portal):
            self.documents.append(response.url)
            if "content-security-policy" not in response.headers:
                self.unprotected.append(response.url)


def test_the_portals_pages_cause_no_policy_violation(live_server, entra, page: Page):
    seed_demo_users()
    seed_demo_agreements()
    contoso = Agreement.objects.get(number="V1234567")
    watch = PolicyWatch(page, live_server.url)

    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Manage your volume-licensing agreements"
    )
    page.get_by_role("link", name="Sign in with your Work Account").click()
    page.get_by_role("button", name="Continue").click()  # the error summary gets focus (script)
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    page.get_by_label("Business email address").fill("admin@contoso.com")
    page.get_by_role("button", name="Continue").click()
    # The stand-in's sign-in page, on its own origin: the form's redirect was allowed.
    page.get_by_label("Password").fill("Passw0rd!")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Register your invitation address")).to_be_visible()
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your dashboard")

    for path, heading in [
        ("/agreements/V1234567/", "Agreement V1234567"),
        ("/register/status/", None),
        ("/agreements/request-access/", None),
        ("/support/contact/", None),
        ("/no-such-page/", None),
        ("/admin/", None),
        ("/admin/agreements/agreement/", None),
        (f"/admin/agreements/agreement/{contoso.pk}/change/", None),
        ("/admin/agreements/permissiongrant/", None),
        ("/admin/agreements/permissiongrant/add/", None),
        ("/admin/agreements/agreementcontact/add/", None),
        ("/admin/agreements/invitation/", None),
        ("/admin/agreements/auditevent/", None),
    ]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    # The admin's own scripts run: the action bar counts selected rows.
    page.goto(live_server.url + "/admin/agreements/permissiongrant/")
    page.locator("input.action-select").first.check()
    expect(page.locator(".action-counter")).to_contain_text("1 of")

    # Sign-out: the form is redirected to the identity provider's end-session endpoint and back.
    page.goto(live_server.url + "/dashboard/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in with your Work Account")).to_be_visible()
    assert page.url == live_server.url + "/"

    assert len(watch.documents) > 15
    assert not watch.unprotected, watch.unprotected
    assert not watch.violations, "\n".join(watch.violations)
