"""Personas: support staff, an outsider, a superuser; bob with a pending registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Registration, User
from support.selectors import SUPPORT_GROUP
from tests.cache_util import clear_portal_cache


def make_user(email: str, **extra) -> User:
    user = User.objects.create(username=email.replace("@", "_"), email=email, **extra)
    SocialAccount.objects.create(
        user=user, provider="entra", uid=f"oid-{user.username}.tid-x", extra_data={}
    )
    return user


@pytest.fixture(autouse=True)
def _clear_cache():
    clear_portal_cache()
    yield
    clear_portal_cache()


@pytest.fixture
def support_user(db) -> User:
    user = make_user("support@vlsc.example")
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    return user


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def outsider(db) -> User:
    return make_user("harry@woodgrove.com")


@pytest.fixture
def bob(db) -> User:
    user = make_user("bob@fabrikam.com", first_name="Bob", last_name="Fabrikam")
    EmailAddress.objects.create(user=user, email="bob@fabrikam.com", verified=True, primary=True)
    return user


@pytest.fixture
def pending(bob) -> Registration:
    now = timezone.now()
    EmailAddress.objects.create(user=bob, email="licensing@fabrikam.com", verified=False)
    return Registration.objects.create(
        user=bob,
        sign_in_address="bob@fabrikam.com",
        invitation_address="licensing@fabrikam.com",
        created_at=now,
        expires_at=now + timedelta(hours=48),
        nonce="n" * 32,
    )
