"""The API's reference page (rendered on the server from the OpenAPI document) renders under
the portal's Content-Security-Policy in Chromium, loading nothing from another origin, and meets
WCAG 2.1 AA (axe-core) at 1280 and 390 pixels without being wider than the window."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_agreements import fits_the_viewport
from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.browser_context_args(bypass_csp=False)  # the portal's policy enforced
def test_the_api_reference_page_renders_from_local_assets_without_violations(
    live_server, page: Page
):
    watch = PolicyWatch(page, live_server.url)
    origins: set[str] = set()
    page.on("request", lambda request: origins.add(request.url.split("/")[2]))
    page.goto(live_server.url + "/api/docs/")
    expect(page.get_by_role("heading", name="VLSC Portal provisioning API")).to_be_visible()
    expect(page.get_by_text("/api/v1/agreements/{number}/permissions").first).to_be_visible()
    assert origins == {live_server.url.split("/")[2]}, origins
    assert not watch.violations, "\n".join(watch.violations)


def test_the_api_reference_page_meets_wcag_at_desktop_and_390_pixels(live_server, page: Page, axe):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server.url + "/api/docs/")
        expect(page.get_by_text("/api/v1/agreements/{number}/permissions").first).to_be_visible()
        fits_the_viewport(page, width)
        axe(page)
