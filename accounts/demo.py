"""The portal's side of the demo data: identities of the stand-in's demo directory.

The portal never imports the stand-in, so the GUIDs are repeated here; a test checks that they
match ``entra_standin/demo.py``.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import transaction

from accounts.entra.provider import PROVIDER_ID
from accounts.models import User

CONTOSO_TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
ALICE_OID = "fe5ece7d-69ac-542b-89be-5da567658ebe"
ALICE_MSA_OID = "b557e0b7-6f5b-5a2c-8ee5-b9e61c84a1f3"
GRACE_MSA_OID = "af1c1b10-2acd-508d-ac9b-64fac24bee45"


def _user_with_identity(*, username: str, email: str, name: str, oid: str, tid: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email,
            "first_name": name.partition(" ")[0],
            "last_name": name.partition(" ")[2],
        },
    )
    user.set_unusable_password()
    user.save()
    SocialAccount.objects.update_or_create(
        provider=PROVIDER_ID,
        uid=f"{oid}.{tid}",
        defaults={
            "user": user,
            "extra_data": {"oid": oid, "tid": tid, "preferred_username": email, "name": name},
        },
    )
    return user


@transaction.atomic
def seed_demo_users() -> list[User]:
    """Idempotent. alice uses her Contoso work account and once used a personal account
    (signing in with it gives E06); grace is a legacy user known only by a personal account."""
    consumer = settings.CONSUMER_TENANT_ID
    alice = _user_with_identity(
        username="alice",
        email="alice@contoso.com",
        name="Alice Contoso",
        oid=ALICE_OID,
        tid=CONTOSO_TID,
    )
    SocialAccount.objects.update_or_create(
        provider=PROVIDER_ID,
        uid=f"{ALICE_MSA_OID}.{consumer}",
        defaults={
            "user": alice,
            "extra_data": {
                "oid": ALICE_MSA_OID,
                "tid": consumer,
                "preferred_username": "alice.personal@outlook.com",
            },
        },
    )
    grace = _user_with_identity(
        username="grace", email="grace@outlook.com", name="Grace", oid=GRACE_MSA_OID, tid=consumer
    )
    accounts = SocialAccount.objects.filter(user=grace)
    if not accounts.exclude(uid__endswith=f".{consumer}").exists():
        User.objects.filter(pk=grace.pk).update(is_legacy_personal=True)  # not converted yet
    EmailAddress.objects.get_or_create(
        user=grace, email="grace@outlook.com", defaults={"verified": True, "primary": True}
    )
    return [alice, grace]
