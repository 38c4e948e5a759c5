"""A sign-in address counts as owned only when the identity provider proved it: the id_token's
``email`` with ``xms_edov`` true, not a personal account. Otherwise the portal verifies it by
email, like any other address (issue 13, part 1)."""

from __future__ import annotations

import uuid

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail

from accounts.models import Registration, User
from accounts.services import signin
from notifications.models import OutboundEmail
from tests.accounts.conftest import signed_in_with
from tests.accounts.test_sign_in import sign_in, start

pytestmark = pytest.mark.django_db
State = Registration.State
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
AT_ONCE, BY_EMAIL = True, False


@pytest.mark.parametrize(
    ("claims", "invitation", "at_once"),
    [
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": True},
            "bob@fabrikam.com",
            AT_ONCE,
            id="email equal, xms_edov true",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": "true"},
            "bob@fabrikam.com",
            AT_ONCE,
            id="xms_edov as the string true",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": "1"},
            "bob@fabrikam.com",
            AT_ONCE,
            id="xms_edov as the string 1",
        ),
        pytest.param(
            {"email": "Bob@Fabrikam.com", "xms_edov": True},
            "BOB@fabrikam.COM",
            AT_ONCE,
            id="any case",
        ),
        pytest.param(
            {"email": "b.smith@fabrikam.com", "xms_edov": True},
            "b.smith@fabrikam.com",
            AT_ONCE,
            id="the proven email, not the UPN",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": False},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="xms_edov false",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com"}, "bob@fabrikam.com", BY_EMAIL, id="xms_edov missing"
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": "false"},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="xms_edov as the string false",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": "0"},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="xms_edov as the string 0",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": 1},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="xms_edov as a number",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": "yes"},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="xms_edov as another string",
        ),
        pytest.param(
            {"xms_edov": True}, "bob@fabrikam.com", BY_EMAIL, id="no email claim: the UPN alone"
        ),
        pytest.param(
            {"email": "bob.private@fabrikam.com", "xms_edov": True},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="email differs from the invitation",
        ),
        pytest.param(
            {"email": "bob@fabrikam.com", "xms_edov": True, "tid": CONSUMER},
            "bob@fabrikam.com",
            BY_EMAIL,
            id="personal-account tenant",
        ),
    ],
)
def test_the_invitation_address_registers_at_once_only_where_the_sign_in_proved_it(
    bob_client, bob, django_capture_on_commit_callbacks, claims, invitation, at_once
):
    signed_in_with(bob, **claims)
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post("/register/", {"email": invitation})
    registration = Registration.objects.get()
    address = EmailAddress.objects.get(user=bob, email=invitation.lower())
    if at_once:
        assert response["Location"] == "/dashboard/"
        assert registration.state == State.COMPLETED
        assert address.verified
        assert not mail.outbox
    else:
        assert response["Location"] == "/register/status/"
        assert registration.state == State.PENDING
        assert not address.verified
        [message] = mail.outbox
        assert message.to == [invitation.lower()]
        status = bob_client.get("/register/status/").content.decode()
        assert "vouched for this address" not in status


def test_the_status_page_says_the_directory_vouched_for_an_address_registered_at_once(
    bob_client, bob
):
    signed_in_with(bob, email="bob@fabrikam.com", xms_edov=True)
    bob_client.post("/register/", {"email": "bob@fabrikam.com"})
    status = bob_client.get("/register/status/").content.decode()
    assert "vouched for this address when you signed in, so no email was needed" in status


def test_the_proof_is_the_work_identitys_not_another_identity_of_the_user(bob):
    """A personal identity linked to the same user (after a conversion) proves nothing, even
    with a verified-looking claim set."""
    SocialAccount.objects.create(
        user=bob,
        provider="entra",
        uid=f"msa-oid.{CONSUMER}",
        extra_data={"tid": CONSUMER, "email": "bob@fabrikam.com", "xms_edov": True},
    )
    from accounts.selectors import proven_sign_in_address

    assert proven_sign_in_address(user=bob) == ""
    signed_in_with(bob, email="bob@fabrikam.com", xms_edov=True)
    assert proven_sign_in_address(user=bob) == "bob@fabrikam.com"


@pytest.mark.parametrize(
    ("claims", "address"),
    [
        ({"tid": "t", "email": " Alice@Contoso.com ", "xms_edov": True}, "alice@contoso.com"),
        ({"tid": "t", "email": "alice@contoso.com", "xms_edov": "TRUE"}, "alice@contoso.com"),
        ({"tid": "t", "email": "not an address", "xms_edov": True}, ""),
        ({"tid": "t", "email": ["alice@contoso.com"], "xms_edov": True}, ""),
        ({"tid": "t", "preferred_username": "alice@contoso.com", "xms_edov": True}, ""),
        ({"tid": CONSUMER, "email": "alice@outlook.com", "xms_edov": True}, ""),
    ],
)
def test_proven_address_reads_only_a_verified_email_claim(claims, address):
    assert signin.proven_address(claims) == address


# Through the real sign-in at the stand-in: the proof comes from the validated id_token.


def test_a_verified_domain_registers_at_once_from_the_sign_in(client, entra):
    sign_in(client, "alice@contoso.com")
    account = SocialAccount.objects.get()
    assert account.extra_data["email"] == "alice@contoso.com"
    assert account.extra_data["xms_edov"] is True
    response = client.post("/register/", {"email": "Alice@Contoso.com"})
    assert response["Location"] == "/dashboard/"
    assert Registration.objects.get().state == State.COMPLETED


def test_an_unverified_domain_gets_the_verification_email(client, entra):
    """Proseware has not verified proseware.com: ivan's own address is verified by email."""
    sign_in(client, "ivan@proseware.com")
    assert SocialAccount.objects.get().extra_data["xms_edov"] is False
    response = client.post("/register/", {"email": "ivan@proseware.com"})
    assert response["Location"] == "/register/status/"
    assert Registration.objects.get().state == State.PENDING
    assert OutboundEmail.objects.get().to == "ivan@proseware.com"
    assert not EmailAddress.objects.filter(verified=True).exists()


def test_a_self_service_sign_up_cannot_take_an_invited_address(client, entra):
    """The attack of issue 13: sign up at the identity provider as a Litware address (Litware
    allows self-service sign-up) and register it. The sign-up itself needs the code emailed to
    the address, and even then litware.com is not a verified domain: the portal sends its own
    verification email instead of registering the address."""
    from entra_standin.testing import sign_up

    address = f"subscriptions-{uuid.uuid4().hex[:8]}@litware.com"
    callback = sign_up(
        start(client, address), back_to="http://testserver", mailbox_dir=entra.mailbox_dir
    )
    assert client.get(callback)["Location"] == "/dashboard/"
    user = User.objects.get(email=address)
    assert SocialAccount.objects.get(user=user).extra_data["xms_edov"] is False
    response = client.post("/register/", {"email": address})
    assert response["Location"] == "/register/status/"
    assert Registration.objects.get(user=user).state == State.PENDING
    assert not EmailAddress.objects.filter(email=address, verified=True).exists()
