"""Accounts entry points take addresses in their one canonical form: registration, the sign-in
form and the sign-in's claims (conversion: in ``test_conversion.py``). Bad forms get a form
error (4xx, never a 500); any spelling of an address is that address."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail

from accounts.entra import client as entra_client
from accounts.models import Registration, SignInEvent, User
from accounts.selectors import proven_sign_in_address
from accounts.services import signin
from tests.accounts.conftest import make_user, proven
from tests.accounts.test_sign_in import sign_in

pytestmark = pytest.mark.django_db
State = Registration.State

ZERO_WIDTH = "licensing@fabrikam.com\u200b"
QUOTED = '"licensing"@fabrikam.com'
BAD_FORMS = [
    pytest.param(ZERO_WIDTH, "invisible characters", id="zero-width space"),
    pytest.param("licensing@fabri\u00adkam.com", "invisible characters", id="soft hyphen"),
    pytest.param(QUOTED, "quotation marks", id="quoted local part"),
    pytest.param("lïcensing@fabrikam.com", "not accented", id="non-ASCII local part"),
    pytest.param("licensing@fabrikam.com.", "not a valid domain name", id="trailing dot"),
]


@pytest.fixture
def alice_owns_licensing(db):
    alice = make_user("alice@fabrikam.com", username="alice")
    EmailAddress.objects.create(user=alice, email="licensing@fabrikam.com", verified=True)
    return alice


# --- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_registration_refuses_an_address_with_no_canonical_form(bob_client, address, words):
    response = bob_client.post("/register/", {"email": address})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Registration.objects.exists() and not EmailAddress.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    "spelling",
    [
        "LICENSING@Fabrikam.com",
        "ｌｉｃｅｎｓｉｎｇ@ｆａｂｒｉｋａｍ.ｃｏｍ",
        "licen\u017fing@fabrikam.com",
    ],
    ids=["upper case", "fullwidth", "long s"],
)
def test_another_spelling_of_an_owned_address_is_the_owned_address(
    bob_client, alice_owns_licensing, spelling
):
    response = bob_client.post("/register/", {"email": spelling})
    assert response.status_code == 409
    assert "already registered to another account" in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.parametrize("bypass", [ZERO_WIDTH, QUOTED], ids=["zero-width space", "quoted"])
def test_the_one_owner_per_address_bypass_is_closed(bob_client, alice_owns_licensing, bypass):
    """The attack: register the owned mailbox in a spelling the portal took for another address."""
    response = bob_client.post("/register/", {"email": bypass})
    assert response.status_code == 400
    assert not Registration.objects.exists()
    assert list(EmailAddress.objects.values_list("email", flat=True)) == ["licensing@fabrikam.com"]


def test_registration_stores_and_mails_the_canonical_form(
    bob_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post("/register/", {"email": "Jane@Bücher.Example"})
    assert response["Location"] == "/register/status/"
    registration = Registration.objects.get()
    assert registration.invitation_address == "jane@xn--bcher-kva.example"
    assert EmailAddress.objects.get().email == "jane@xn--bcher-kva.example"
    assert mail.outbox[0].to == ["jane@xn--bcher-kva.example"]


def test_a_pending_registration_blocks_every_spelling_of_its_address(
    client, bob, django_capture_on_commit_callbacks
):
    client.force_login(bob)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/", {"email": "licensing@fabrikam.com"})
    harry = make_user("harry@woodgrove.com", username="harry")
    client.force_login(harry)
    response = client.post("/register/", {"email": "ｌｉｃｅｎｓｉｎｇ@fabrikam.com"})
    assert response.status_code == 409
    assert "Someone else has asked to register this address" in response.content.decode()


# --- the sign-in's claims -------------------------------------------------------------------


@pytest.mark.parametrize(
    "claim",
    [ZERO_WIDTH, QUOTED, "licensing@[192.0.2.1]", "x" * 300 + "@fabrikam.com", 42],
    ids=["zero-width space", "quoted", "address literal", "oversized", "not text"],
)
def test_a_claim_with_no_canonical_form_is_no_address(claim):
    claims = {"tid": "t", "preferred_username": claim, "email": claim, "xms_edov": True}
    assert signin.sign_in_address(claims) == ""
    assert signin.proven_address(claims) == ""


def test_a_proven_claim_is_kept_and_compared_in_canonical_form(bob_client, bob):
    proven(bob, "Bob@Bücher.Example")
    identity = SocialAccount.objects.get(user=bob)
    assert identity.extra_data["email"] == "bob@xn--bcher-kva.example"
    assert proven_sign_in_address(user=bob) == "bob@xn--bcher-kva.example"
    response = bob_client.post("/register/", {"email": "BOB@bücher.example"})
    assert response["Location"] == "/dashboard/"  # registered at once, no email
    assert Registration.objects.get().state == State.COMPLETED


def test_a_proven_claim_with_an_invisible_character_proves_nothing(bob_client, bob):
    proven(bob, "bob@fabrikam.com\u200b")
    assert proven_sign_in_address(user=bob) == ""
    response = bob_client.post("/register/", {"email": "bob@fabrikam.com\u200b"})
    assert response.status_code == 400
    assert not EmailAddress.objects.filter(verified=True).exists()


@pytest.mark.parametrize("claim", [ZERO_WIDTH, QUOTED], ids=["zero-width space", "quoted"])
def test_a_sign_in_whose_claims_name_no_address_signs_in_without_one(
    client, entra, monkeypatch, claim
):
    validate = entra_client.validate_id_token

    def with_bad_addresses(token):
        return {**validate(token), "preferred_username": claim, "email": claim, "xms_edov": True}

    monkeypatch.setattr(entra_client, "validate_id_token", with_bad_addresses)
    response, _ = sign_in(client, "alice@contoso.com")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = User.objects.get()
    assert user.email == ""
    assert proven_sign_in_address(user=user) == ""
    assert SignInEvent.objects.get(outcome=SignInEvent.Outcome.SIGNED_IN).address == ""
    assert client.get("/register/").status_code == 200


def test_a_sign_in_stores_its_addresses_in_canonical_form(client, entra, monkeypatch):
    validate = entra_client.validate_id_token

    def mixed_case(token):
        claims = validate(token)
        return {**claims, "email": claims["email"].upper(), "xms_edov": True}

    monkeypatch.setattr(entra_client, "validate_id_token", mixed_case)
    sign_in(client, "Alice@Contoso.com")
    user = User.objects.get()
    assert user.email == "alice@contoso.com"
    assert SocialAccount.objects.get().extra_data["email"] == "alice@contoso.com"
    assert proven_sign_in_address(user=user) == "alice@contoso.com"


@pytest.mark.parametrize(("address", "words"), BAD_FORMS)
def test_the_sign_in_form_refuses_an_address_with_no_canonical_form(client, address, words):
    response = client.post("/sign-in/", {"email": address})
    assert response.status_code == 400
    assert words in response.content.decode()
