"""Support's entry points take addresses in their one canonical form: the lookup, the person
page and the Contact support form. Bad forms get a 400 with the reason; any spelling of an
address finds that address."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Registration
from support.models import SupportRequest
from tests.support.conftest import make_user
from tests.support.test_contact import VALID

pytestmark = pytest.mark.django_db

BAD_FORMS = [
    pytest.param('"licensing"@fabrikam.com', "quotation marks", id="quoted local part"),
    pytest.param("lïcensing@fabrikam.com", "not accented", id="non-ASCII local part"),
    pytest.param("licensing@fabrikam.com.", "not a valid domain name", id="trailing dot"),
]


@pytest.fixture
def jane():
    user = make_user("jane@xn--bcher-kva.example")
    now = timezone.now()
    Registration.objects.create(
        user=user,
        sign_in_address="jane@xn--bcher-kva.example",
        invitation_address="licensing@xn--bcher-kva.example",
        created_at=now,
        expires_at=now + timedelta(hours=48),
        nonce="j" * 32,
    )
    return user


@pytest.mark.parametrize(
    "spelling",
    [
        "Licensing@Bücher.Example",
        "ｌｉｃｅｎｓｉｎｇ@bücher.example",
        "licensing@XN--BCHER-KVA.example",
    ],
)
def test_the_lookup_finds_a_person_by_any_spelling_of_the_address(support_client, jane, spelling):
    response = support_client.get(f"/support/?q={quote(spelling)}")
    assert response.status_code == 302
    assert response["Location"] == f"/support/person/?user={jane.pk}"


@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_the_lookup_refuses_an_address_with_no_canonical_form(support_client, jane, address, words):
    response = support_client.get(f"/support/?q={quote(address)}")
    assert response.status_code == 400
    assert words in response.content.decode()


@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_the_person_page_refuses_an_address_with_no_canonical_form(support_client, address, words):
    response = support_client.get(f"/support/person/?email={quote(address)}")
    assert response.status_code == 400
    assert words in response.content.decode()


def test_the_person_page_of_an_address_shows_its_canonical_form(support_client, jane):
    response = support_client.get(f"/support/person/?email={quote('LICENSING@bücher.example')}")
    assert response.status_code == 200
    assert "licensing@xn--bcher-kva.example" in response.content.decode()


@pytest.mark.parametrize(
    ("address", "words"),
    [
        pytest.param("bob@fabrikam.com\u200b", "invisible characters", id="zero-width space"),
        *BAD_FORMS,
    ],
)
def test_the_contact_form_refuses_an_address_with_no_canonical_form(client, address, words):
    response = client.post("/support/contact/", {**VALID, "email": address})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_the_contact_form_stores_and_answers_the_canonical_form(
    client, django_capture_on_commit_callbacks, eager_celery
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/support/contact/", {**VALID, "email": "Jane@Bücher.Example"})
    assert response.status_code == 302
    assert SupportRequest.objects.get().email == "jane@xn--bcher-kva.example"
    assert mail.outbox[0].to == ["jane@xn--bcher-kva.example"]


def test_the_contact_forms_limit_per_address_counts_every_spelling(client):
    spellings = ["bob@fabrikam.com", "BOB@Fabrikam.com", "ｂｏｂ@fabrikam.com"]
    for spelling in spellings:
        assert client.post("/support/contact/", {**VALID, "email": spelling}).status_code == 302
    response = client.post("/support/contact/", {**VALID, "email": "Bob@FABRIKAM.com"})
    assert response.status_code == 429
