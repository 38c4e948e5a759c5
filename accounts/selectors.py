"""Reads about people: which addresses a user has proved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

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


@dataclass(frozen=True)
class PendingRegistration:
    """What a page shows of a user's pending registration: until when it waits."""

    expires_at: datetime


@dataclass(frozen=True)
class AddressStanding:
    """A user's verified addresses (as :func:`verified_emails`) and their pending registration
    (as ``accounts.services.registration.pending_registration``, its expiry only)."""

    verified: list[str]
    pending: PendingRegistration | None


_STANDING_SQL = (
    f"SELECT email, NULL FROM {EmailAddress._meta.db_table}"  # noqa: S608 (tables' own names)
    " WHERE user_id = %s AND verified"
    f" UNION ALL SELECT NULL, expires_at FROM {Registration._meta.db_table}"
    " WHERE user_id = %s AND state = %s"
)


def address_standing(*, user: User) -> AddressStanding:
    """Both reads a signed-in page needs to tell whether the user must register first, in one
    statement written out: building the two querysets cost the dashboard ten times what the
    database took to answer them, on every request. A user has at most one pending registration
    (``one_pending_registration_per_user``); one whose 48 hours have run counts as none, as
    ``pending_registration`` has it."""
    with connection.cursor() as cursor:
        cursor.execute(_STANDING_SQL, [user.pk, user.pk, Registration.State.PENDING])
        rows = cursor.fetchall()
    verified = [email for email, _ in rows if email is not None]
    pending = None
    for email, expires_at in rows:
        if email is None:
            when = _aware(expires_at)
            if when > timezone.now():
                pending = PendingRegistration(expires_at=when)
    return AddressStanding(verified=verified, pending=pending)


def _aware(value: datetime | str) -> datetime:
    """A timestamp as the database returned it outside the ORM: a datetime from PostgreSQL, text
    in UTC from SQLite."""
    when = parse_datetime(value) if isinstance(value, str) else value
    if when is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return when if timezone.is_aware(when) else when.replace(tzinfo=UTC)


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
