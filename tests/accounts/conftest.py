import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.entra.provider import EntraProvider
from accounts.models import User


def make_user(email: str, username: str | None = None) -> User:
    """A work-account user whose sign-in proved nothing (no ``xms_edov``)."""
    user = User.objects.create(username=username or email.split("@")[0], email=email)
    SocialAccount.objects.create(
        user=user, provider="entra", uid=f"oid-{user.username}.tid-x", extra_data={}
    )
    return user


def signed_in_with(user: User, **claims) -> User:
    """Store what a sign-in's validated id_token left in the work identity's extra_data (as the
    sign-in callback does, through the provider): a work tenant and the sign-in address, plus
    ``claims``."""
    account = user.socialaccount_set.get(uid__endswith=".tid-x")  # the one make_user made
    account.extra_data = EntraProvider(request=None).extract_extra_data(
        {"oid": f"oid-{user.username}", "tid": "tid-x", "preferred_username": user.email, **claims}
    )
    account.save()
    return user


def proven(user: User, email: str | None = None) -> User:
    """The identity provider proved ``email`` (default: the sign-in address) at sign-in."""
    return signed_in_with(user, email=email or user.email, xms_edov=True)


@pytest.fixture
def bob(db):
    return make_user("bob@fabrikam.com")


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture(autouse=True)
def _eager(eager_celery):
    return eager_celery


def cancel_pending(client):
    """Cancel the signed-in person's pending registration as a person does: the status page's
    link leads to the confirmation page, whose button posts. Returns the POST's response, or the
    redirect when nothing is pending."""
    found = client.get("/register/cancel/")
    if not found["Location"].startswith("/register/cancel/"):
        return found
    assert client.get(found["Location"]).status_code == 200
    return client.post(found["Location"])
