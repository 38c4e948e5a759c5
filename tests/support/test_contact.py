"""Contact support: prefilled, limited sizes, rate limits, 24-hour due time, acknowledgement."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from support.models import SupportRequest

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Bob Fabrikam",
    "email": "Bob@Fabrikam.com",
    "topic": "sign_in",
    "message": "I see an error page when I sign in.",
    "agreement_number": "",
    "error_code": "E03",
    "reference_id": "ABCDEFGHJKLM",
}


def test_it_prefills_from_the_error_page_and_the_signed_in_user(client, bob):
    client.force_login(bob)
    page = client.get("/support/contact/?code=e03&ref=abcdefghjklm").content.decode()
    assert 'value="E03"' in page and 'value="ABCDEFGHJKLM"' in page
    assert 'value="bob@fabrikam.com"' in page and 'value="Bob Fabrikam"' in page


def test_it_opens_a_request_due_in_24_hours_and_acknowledges_it(
    client, bob, django_capture_on_commit_callbacks, eager_celery
):
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/support/contact/", VALID)
    assert response["Location"] == "/support/contact/sent/"
    request = SupportRequest.objects.get()
    assert request.due_at - request.created_at == timedelta(hours=24)
    assert request.email == "bob@fabrikam.com" and request.user == bob
    assert request.error_reference == "ABCDEFGHJKLM" and request.error_code == "E03"
    assert mail.outbox[0].subject == f"We received your request {request.reference}"
    assert request.message not in mail.outbox[0].body  # no free text to arbitrary addresses
    page = client.get("/support/contact/sent/").content.decode()
    assert request.reference in page and "+1 555" in page


def test_it_works_signed_out(client):
    assert client.post("/support/contact/", VALID).status_code == 302
    assert SupportRequest.objects.get().user is None


def test_the_confirmation_is_only_for_the_browser_that_sent_it(client):
    assert client.get("/support/contact/sent/")["Location"] == "/support/contact/"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x" * 101),
        ("name", ""),
        ("email", "not-an-address"),
        ("email", "a" * 250 + "@x.com"),
        ("message", "x" * 2001),
        ("message", "short"),
        ("topic", "bogus"),
        ("agreement_number", "!!"),
        ("error_code", "X99"),
        ("error_code", "E\u0661\u0662"),  # Arabic-Indic digits: \d would take them
        ("reference_id", "short"),
    ],
)
def test_it_refuses_out_of_bounds_input_with_400(client, field, value):
    response = client.post("/support/contact/", {**VALID, field: value})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page and 'aria-invalid="true"' in page
    assert not SupportRequest.objects.exists()


def test_it_limits_requests_per_address(client):
    for _ in range(3):
        assert client.post("/support/contact/", VALID).status_code == 302
    refused = client.post("/support/contact/", VALID)
    assert refused.status_code == 429
    page = refused.content.decode()
    # The date is there too when the hour ends tomorrow.
    when = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d UTC"
    assert re.search(rf"Try again after {when} \(in about (60|59) minutes\)", page)
    assert 3590 <= int(refused["Retry-After"]) <= 3600
    assert "Support by phone" in page  # the other way to reach us
    assert (
        client.post("/support/contact/", {**VALID, "email": "ann@fabrikam.com"}).status_code == 302
    )
    assert SupportRequest.objects.count() == 4


def test_it_limits_requests_per_ip(client):
    for i in range(10):
        response = client.post("/support/contact/", {**VALID, "email": f"p{i}@fabrikam.com"})
        assert response.status_code == 302
    assert client.post("/support/contact/", {**VALID, "email": "q@fabrikam.com"}).status_code == 429
