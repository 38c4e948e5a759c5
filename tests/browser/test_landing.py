import pytest
from playwright.sync_api import expect


@pytest.mark.django_db(transaction=True)
def test_a_visitor_reads_what_the_portal_is_for_and_finds_sign_in(live_server, page, axe):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Manage your volume-licensing agreements"
    )
    axe(page)
    page.get_by_role("link", name="Sign in with your Work Account").click()
    expect(page.get_by_label("Business email address")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    axe(page)
