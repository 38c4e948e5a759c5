"""Reads about people: which addresses a user has proved."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings

from accounts.entra.provider import PROVIDER_ID
from accounts.models import Registration, User
from accounts.services.signin import proven_address


def verified_emails(*, user: User) -> list[str]:
    """The user's verified addresses, in canonical form as stored: what access is matched on,
    exactly."""
    if not user.is_authenticated:
        return []
    return list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )


def proven_sign_in_address(*, user: User) -> str:
    """The address the identity provider proved at the user's latest work-account sign-in
    (:func:`accounts.services.signin.proven_address`), or ``""``.

    Read from the work identity's ``extra_data``: the sign-in callback builds it from the
    validated id_token and allauth replaces it at every sign-in, so it is the current sign-in's
    proof (a user has one work identity; after a conversion, the last one used counts). Nothing
    a person types reaches it."""
    account = (
        SocialAccount.objects.filter(user=user, provider=PROVIDER_ID)
        .exclude(uid__endswith=f".{settings.CONSUMER_TENANT_ID}")
        .order_by("-last_login")
        .first()
    )
    return proven_address(account.extra_data) if account is not None else ""


def user_for_identity(*, oid: str, tid: str) -> User | None:
    """The active portal user who signs in with this work or personal identity (the ``oid`` and
    ``tid`` of a validated token), or None."""
    account = (
        SocialAccount.objects.filter(provider=PROVIDER_ID, uid=f"{oid}.{tid}")
        .select_related("user")
        .first()
    )
    if account is None:
        return None
    user: User = account.user
    return user if user.is_active else None


def own_registration(*, user: User, registration_id: int) -> Registration | None:
    """``user``'s registration ``registration_id``, or None if there is none or it is another
    person's (the two are not told apart)."""
    return (
        Registration.objects.filter(pk=registration_id, user=user)
        .select_related("verification_email")
        .first()
    )
