"""Support's demo data: support@vlsc.example, a member of "Support staff".

The portal never imports the stand-in, so the identity's GUIDs are repeated from
``entra_standin/demo.py``.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.entra.provider import PROVIDER_ID
from accounts.models import User
from support.selectors import SUPPORT_GROUP

VLSC_TID = "cbb9270b-b82a-575c-8792-3a2f5171aa95"
SUPPORT_OID = "54919386-5fc0-5c0e-b8d1-a39f08ce8f09"
SUPPORT_EMAIL = "support@vlsc.example"


@transaction.atomic
def seed_support_staff() -> User:
    """Idempotent: the group, the user with its work-account identity and verified address."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    user, _ = User.objects.get_or_create(
        username="support",
        defaults={"email": SUPPORT_EMAIL, "first_name": "VLSC", "last_name": "Support"},
    )
    user.set_unusable_password()
    user.save()
    user.groups.add(group)
    SocialAccount.objects.update_or_create(
        provider=PROVIDER_ID,
        uid=f"{SUPPORT_OID}.{VLSC_TID}",
        defaults={
            "user": user,
            "extra_data": {
                "oid": SUPPORT_OID,
                "tid": VLSC_TID,
                "preferred_username": SUPPORT_EMAIL,
                "name": "VLSC Support",
            },
        },
    )
    EmailAddress.objects.get_or_create(
        user=user, email=SUPPORT_EMAIL, defaults={"verified": True, "primary": True}
    )
    return user
