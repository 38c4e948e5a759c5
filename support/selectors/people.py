"""Who support is looking at: a user with all their addresses, or an unregistered address."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db.models import Q

from accounts.models import Registration, User
from support.models import SupportRequest
from support.selectors.errors import AmbiguousAddress
from support.selectors.search import canonical_or_bad_query, users_with_address


@dataclass
class Identity:
    uid: str
    object_id: str
    tenant_id: str
    personal: bool
    address: str


@dataclass
class Person:
    user: User | None
    addresses: list[str]
    identities: list[Identity]
    registrations: list[Registration]
    references: list[str]

    @property
    def label(self) -> str:
        return self.user.email if self.user and self.user.email else self.addresses[0]


def person(*, user_id: int | None = None, email: str = "") -> Person | None:
    """Who support is looking at: a user (all their addresses), or an address nobody has
    registered. ``email`` alone that several users have raises AmbiguousAddress; one with no
    canonical form raises BadQuery."""
    address = canonical_or_bad_query(email) if (email or "").strip() else ""
    user: User | None = None
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return None
    elif address:
        users = users_with_address(address)
        if len(users) > 1:
            raise AmbiguousAddress(users)
        user = users[0] if users else None
    else:
        return None

    addresses = {address} if address else set()
    identities: list[Identity] = []
    if user is not None:
        if user.email:
            addresses.add(user.email)
        addresses.update(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
        for account in SocialAccount.objects.filter(user=user).order_by("pk"):
            oid, _dot, tid = account.uid.partition(".")
            identities.append(
                Identity(
                    uid=account.uid,
                    object_id=oid,
                    tenant_id=tid,
                    personal=tid == settings.CONSUMER_TENANT_ID,
                    address=str((account.extra_data or {}).get("preferred_username", "")),
                )
            )
        registrations = list(Registration.objects.filter(user=user).order_by("-created_at")[:20])
    else:
        registrations = list(
            Registration.objects.filter(invitation_address__in=addresses)
            .select_related("user")
            .order_by("-created_at")[:20]
        )
    addresses.update(r.invitation_address for r in registrations)
    addresses.discard("")
    own_requests = Q(email__in=addresses) | (Q(user=user) if user else Q())
    references = list(
        SupportRequest.objects.filter(own_requests)
        .exclude(error_reference="")
        .order_by("-created_at")
        .values_list("error_reference", flat=True)[:50]
    )
    return Person(
        user=user,
        addresses=sorted(addresses),
        identities=identities,
        registrations=registrations,
        references=references,
    )
