"""Personas: the invited user, the VLSC administrator, an outsider, a superuser."""

from __future__ import annotations

from datetime import date

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from agreements.models import Agreement, AgreementContact, PermissionGrant
from tests.cache_util import clear_portal_cache

Kind = PermissionGrant.Kind
Role = AgreementContact.Role


def make_user(email: str, *, verified: bool = True, **extra) -> User:
    user = User.objects.create(
        username=email.split("@")[0] + email.split("@")[1][:3], email=email, **extra
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_agreement(number: str, customer: str = "Contoso Ltd", **extra) -> Agreement:
    defaults = {
        "program": Agreement.Program.VOLUME_LICENSE_AGREEMENT,
        "customer": customer,
        "reseller": "Reseller",
        "start_date": date(2024, 1, 1),
    }
    defaults.update(extra)
    return Agreement.objects.create(number=number, **defaults)


@pytest.fixture(autouse=True)
def _clear_cache():
    clear_portal_cache()
    yield
    clear_portal_cache()


@pytest.fixture
def contoso(db) -> Agreement:
    return make_agreement("V1234567", "Contoso Ltd")


@pytest.fixture
def fabrikam(db) -> Agreement:
    return make_agreement(
        "O8880202", "Fabrikam, Inc.", program=Agreement.Program.OPEN_LICENSE_ORDER
    )


@pytest.fixture
def administrator(contoso) -> User:
    """admin@contoso.com, holding Administrator on Contoso's agreement, synced to staff."""
    from agreements.services import sync_staff_access

    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind=Kind.ADMINISTRATOR
    )
    user = make_user("admin@contoso.com")
    sync_staff_access(user=user)
    user.refresh_from_db()
    return user


@pytest.fixture
def vlsc_admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def outsider(db) -> User:
    return make_user("harry@woodgrove.com")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create(
        username="root", email="root@vlsc.example", is_superuser=True, is_staff=True
    )
