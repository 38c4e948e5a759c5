"""The access change email in Chromium: admin@contoso.com gives alice a permission in the admin;
once the quiet period has passed (none here) the task queues one email, the worker delivers it,
and alice's email in the dev mailbox says what changed and who changed it; the agreement's audit
trail shows the email."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.demo import seed_demo_users
from agreements.demo import seed_demo_agreements
from agreements.models import Agreement, AuditEvent, PermissionGrant
from agreements.tasks import send_access_change_emails
from tests.browser.test_agreements import add_permission_in_admin, sign_in
from tests.waiting import reload_until

pytestmark = pytest.mark.django_db(transaction=True)
SUBJECT = "Your access to agreement V1234567 in the VLSC has changed"


def test_alice_is_told_of_the_permission_admin_gave_her(
    live_server, entra, celery_worker, page, axe, settings
):
    settings.ACCESS_CHANGE_EMAIL_DELAY = 0
    seed_demo_users()
    seed_demo_agreements()
    contoso = Agreement.objects.get(number="V1234567")

    sign_in(page, live_server, axe, "admin@contoso.com")
    add_permission_in_admin(
        page,
        live_server,
        axe,
        contoso,
        "alice@contoso.com",
        "Software Assurance Manager",
        "software_assurance_manager",
    )

    assert send_access_change_emails() == 1  # beat's task, run now: the delay is 0 here
    assert send_access_change_emails() == 0  # and again: nothing more

    page.goto(entra.http_url + "/mailbox/")
    reload_until(page, lambda: page.get_by_text(SUBJECT).count() > 0, what="the access email")
    expect(page.get_by_text(SUBJECT)).to_have_count(1)
    page.get_by_role("link", name=SUBJECT).click()
    body = page.locator("body")
    expect(body).to_contain_text("alice@contoso.com")
    expect(body).to_contain_text(
        "Given: Software Assurance Manager (permission), by Contoso Administrator"
    )
    expect(body).to_contain_text("Manage Software Assurance benefits")
    expect(body).to_contain_text(live_server.url + "/agreements/V1234567/")

    event = AuditEvent.objects.get(action="access_email_queued", subject_email="alice@contoso.com")
    page.goto(live_server.url + "/admin/agreements/auditevent/?action__exact=access_email_queued")
    expect(page.get_by_role("link", name="Access change email queued")).to_be_visible()
    axe(page)
    page.goto(live_server.url + f"/admin/agreements/auditevent/{event.pk}/change/")
    expect(page.locator("body")).to_contain_text(
        "Access change email queued to alice@contoso.com (changes: +Software Assurance Manager"
    )
    axe(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_is_told_before_confirming_that_his_own_administrator_would_go(
    live_server, entra, page, axe, width
):
    """The issue's case: "Remove the selected rows" took admin@contoso.com's own Administrator
    on E5550101 at once. The confirmation page now lists what goes and says so first; on
    V1234567, where he is the last one, it says the removal will be refused, and it is."""
    seed_demo_users()
    seed_demo_agreements()
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live_server, axe, "admin@contoso.com")
    own = PermissionGrant.objects.get(
        agreement__number="V1234567", email="admin@contoso.com", kind="administrator"
    )
    page.goto(live_server.url + "/admin/agreements/permissiongrant/?q=E5550101")
    page.get_by_role("row").filter(has_text="admin@contoso.com").get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option("delete_selected")
    page.get_by_role("button", name="Go").click()
    warning = page.get_by_role("region", name="Administrator access would go")
    expect(warning).to_contain_text(
        "This removes your own Administrator permission on agreement E5550101"
    )
    axe(page)
    page.get_by_role("link", name="No, take me back").click()

    page.goto(live_server.url + "/admin/agreements/permissiongrant/?q=V1234567")
    page.get_by_role("row").filter(has_text="admin@contoso.com").get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option("delete_selected")
    page.get_by_role("button", name="Go").click()
    expect(warning).to_contain_text(
        "This would remove the last Administrator of agreement V1234567: yours. The removal "
        "will be refused"
    )
    expect(page.get_by_text("Are you sure you want to delete the selected")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    axe(page)
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_contain_text("You are the last administrator")
    assert PermissionGrant.objects.filter(pk=own.pk).exists()
    axe(page)
