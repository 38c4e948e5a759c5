import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import User


def make_user(email: str, username: str | None = None) -> User:
    user = User.objects.create(username=username or email.split("@")[0], email=email)
    SocialAccount.objects.create(
        user=user, provider="entra", uid=f"oid-{user.username}.tid-x", extra_data={}
    )
    return user


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
