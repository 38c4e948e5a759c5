"""Converting a legacy personal-Microsoft-account user to a work account (README "Converting
a personal Microsoft account (Flow C)").

Steps: the personal account signs in (the callback starts a conversion context in the session);
name and work address; a signup code emailed to that address; the organisation's country
(immutable); then the work account signs in and the conversion completes in one transaction:
the work identity is linked to the same user, so registrations, verified addresses and access
stay with them, and the personal identity is kept, marked converted by the completed row.

allauth's verification-by-code cannot run beside link confirmation, so signup codes are this
module's own small model: random, stored as a keyed hash, single-use, expiring, few attempts.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.entra.provider import PROVIDER_ID
from accounts.models import Conversion, OrganisationCountry, SignupCode, User
from accounts.services.signin import proven_address, sign_in_address
from accounts.signals import address_verified
from notifications.services import queue_email, recipient_language, render_email
from vlsc_portal import ratelimits
from vlsc_portal.addresses import canonical_email

State = Conversion.State
# The session keys of a conversion in progress: its context (which legacy user, which personal
# identity), written by the sign-in callback, and the id of its Conversion row once started.
SESSION_CONTEXT = "conversion"
SESSION_ID = "conversion_id"


def begin_in_session(session: SessionBase, *, user: User, uid: str, address: str) -> None:
    """Put a legacy personal account's conversion context in ``session`` (the sign-in callback
    does this, then sends the person to the conversion's first page)."""
    session[SESSION_CONTEXT] = {"user": user.pk, "uid": uid, "address": address}
    session.pop(SESSION_ID, None)


class ConversionError(Exception):
    """Base: a problem the person can act on."""


class ConsumerDomain(ConversionError):
    pass


class AddressOwned(ConversionError):
    pass


class ConversionInProgress(ConversionError):
    """Another conversion is already using that work address."""


class ConversionClosed(ConversionError):
    """Expired, completed, or not at the step asked for."""


class WrongCode(ConversionError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__("wrong code")
        self.attempts_left = attempts_left


class CodeExpired(ConversionError):
    pass


class TooManyAttempts(ConversionError):
    pass


class WrongWorkAccount(ConversionError):
    pass


def is_legacy_identity(uid: str) -> User | None:
    """The legacy user this personal identity belongs to, if it may convert."""
    account = SocialAccount.objects.filter(provider=PROVIDER_ID, uid=uid).select_related("user")
    account = account.first()
    if account is None or not account.user.is_legacy_personal:
        return None
    user: User = account.user  # allauth is not typed
    return user


def _code_hash(conversion_id: int, code: str) -> str:
    return salted_hmac("accounts.signup-code", f"{conversion_id}:{code}").hexdigest()


def address_is_owned(address: str, *, by_other_than: User) -> bool:
    """Another user has this address verified, or the identity provider proved it at another
    user's work-account sign-in (``signin.proven_address``). A sign-in address nothing proved
    does not count: anyone who could sign in under ``grace@litware.com`` would block Grace.
    ``address`` is canonical; both are compared exactly (the identity's ``email`` is stored
    canonical: ``accounts.entra.provider``)."""
    others = User.objects.exclude(pk=by_other_than.pk)
    if EmailAddress.objects.filter(email=address, verified=True, user__in=others).exists():
        return True
    identities = SocialAccount.objects.filter(
        provider=PROVIDER_ID, user__in=others, extra_data__email=address
    ).exclude(uid__endswith=f".{settings.CONSUMER_TENANT_ID}")
    return any(proven_address(account.extra_data) == address for account in identities)


def expire_stale(*, user: User | None = None, now: datetime | None = None) -> int:
    """Expire abandoned conversions in one conditional bulk statement (safe to repeat)."""
    now = now or timezone.now()
    rows = Conversion.objects.filter(state__in=Conversion.ACTIVE_STATES, expires_at__lte=now)
    if user is not None:
        rows = rows.filter(user=user)
    return rows.update(state=State.EXPIRED)


def active_conversion(*, user: User) -> Conversion | None:
    return Conversion.objects.filter(
        user=user, state__in=Conversion.ACTIVE_STATES, expires_at__gt=timezone.now()
    ).first()


def start_conversion(
    *, user: User, personal_uid: str, personal_address: str, name: str, work_email: str
) -> Conversion:
    """Step 1: record name and work address, email a signup code. Starting again replaces an
    earlier unfinished conversion of the same user. Raises ConsumerDomain, AddressOwned,
    ConversionInProgress (another person's conversion holds the address), InvalidEmailAddress
    (no canonical form: ``vlsc_portal.addresses``), and ``ratelimits.RateLimited`` (nothing
    changed) when the code's email would exceed the address's or the user's email budget:
    starting again is limited by those budgets, and the tries by the user's daily budget of
    guesses, which a new conversion does not reset."""
    address = canonical_email(work_email)
    domain = address.rpartition("@")[2]
    if domain in settings.CONSUMER_EMAIL_DOMAINS:
        raise ConsumerDomain(address)
    if address_is_owned(address, by_other_than=user):
        raise AddressOwned(address)
    now = timezone.now()
    expire_stale(user=user, now=now)
    try:
        with transaction.atomic():
            Conversion.objects.filter(user=user, state__in=Conversion.ACTIVE_STATES).update(
                state=State.EXPIRED
            )
            conversion = Conversion.objects.create(
                user=user,
                personal_uid=personal_uid,
                personal_address=personal_address,
                name=name.strip()[:200],
                work_email=address,
                created_at=now,
                expires_at=now + timedelta(hours=settings.CONVERSION_WINDOW_HOURS),
            )
            send_code(conversion)
    except IntegrityError as exc:
        raise ConversionInProgress(address) from exc
    return conversion


def resend_key(conversion: Conversion) -> str:
    """The key of a conversion's own resend limit (``signup_code_resend``)."""
    return f"conversion:{conversion.pk}:{conversion.created_at.timestamp()}"


@transaction.atomic
def send_code(conversion: Conversion, *, resend: bool = False) -> SignupCode:
    """Make a new code (earlier ones stop working) and queue its email, counted against the
    address's and the user's email budgets and, for a resend, the conversion's own resend limit
    (all or nothing). Raises ConversionClosed, and ``ratelimits.RateLimited`` with nothing
    changed."""
    if conversion.state != State.STARTED:
        raise ConversionClosed()
    uses = ratelimits.email_budget(to=conversion.work_email, user=conversion.user)
    if resend:
        uses.insert(0, ratelimits.Use("signup_code_resend", key=resend_key(conversion)))
    ratelimits.consume(*uses)
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    SignupCode.objects.filter(conversion=conversion, used_at__isnull=True).update(used_at=now)
    signup_code = SignupCode.objects.create(
        conversion=conversion,
        code_hash=_code_hash(conversion.pk, code),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.SIGNUP_CODE_MINUTES),
    )
    subject, body = render_email(
        "accounts/email/signup_code",
        {"conversion": conversion, "code": code, "expires_at": signup_code.expires_at},
        language=recipient_language(conversion.user),
    )
    queue_email(
        to=conversion.work_email,
        subject=subject,
        body=body,
        kind="signup_code",
        user=conversion.user,
        dedupe_key=f"signup-code:{signup_code.pk}",
        sensitive=True,
    )
    return signup_code


def verify_code(*, conversion: Conversion, code: str) -> Conversion:
    """Step 2. Raises WrongCode (with attempts left), TooManyAttempts, CodeExpired,
    ConversionClosed, and ``ratelimits.RateLimited`` past the user's daily budget of tries
    (``signup_code_guess``, across conversions). A code works once; each try is counted, against
    the code's attempts and the daily budget, before it is compared, with a conditional update
    and an atomic counter, so parallel tries cannot exceed either."""
    code = (code or "").strip().replace(" ", "")[:20]
    now = timezone.now()
    conversion.refresh_from_db()
    if conversion.state != State.STARTED or conversion.expires_at <= now:
        raise ConversionClosed()
    current = conversion.codes.filter(used_at__isnull=True).first()
    if current is None or current.expires_at <= now:
        raise CodeExpired()
    limit = settings.SIGNUP_CODE_ATTEMPTS
    # A try the code refuses (out of tries) does not use the daily budget; a try the budget
    # refuses does not use the code's tries (the rollback undoes the update). The budget is
    # counted last because its store may be Redis, which no rollback reaches.
    with transaction.atomic():
        counted = SignupCode.objects.filter(
            pk=current.pk, used_at__isnull=True, attempts__lt=limit
        ).update(attempts=F("attempts") + 1)
        if not counted:
            raise TooManyAttempts()
        ratelimits.consume(ratelimits.Use("signup_code_guess", user=conversion.user_id))
    if not constant_time_compare(current.code_hash, _code_hash(conversion.pk, code)):
        left = limit - current.attempts - 1
        if left <= 0:
            raise TooManyAttempts()
        raise WrongCode(left)
    with transaction.atomic():
        used = SignupCode.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=now)
        moved = Conversion.objects.filter(pk=conversion.pk, state=State.STARTED).update(
            state=State.CODE_VERIFIED
        )
        if not (used and moved):  # a parallel try used it first: undo, refuse
            raise ConversionClosed()
    conversion.refresh_from_db()
    return conversion


def confirm_country(*, conversion: Conversion, country: str) -> Conversion:
    """Step 3: the country is recorded now and cannot change afterwards."""
    with transaction.atomic():
        updated = Conversion.objects.filter(
            pk=conversion.pk, state=State.CODE_VERIFIED, expires_at__gt=timezone.now()
        ).update(state=State.AWAITING_SIGN_IN)
        if not updated:
            raise ConversionClosed()
        if not OrganisationCountry.objects.filter(user=conversion.user).exists():
            OrganisationCountry.objects.create(user=conversion.user, country=country)
    conversion.refresh_from_db()
    return conversion


def complete_conversion(*, conversion_id: int, claims: dict[str, Any]) -> User:
    """Step 4, when the work account has signed in: link its identity to the legacy user in one
    transaction (nothing half-moved is visible), verify the work address, retire the legacy
    flag. Raises WrongWorkAccount, AddressOwned, ConversionClosed."""
    work_address = sign_in_address(claims)  # canonical, or "" (which matches no conversion)
    uid = f"{claims['oid']}.{claims['tid']}"
    with transaction.atomic():
        conversion = (
            Conversion.objects.select_for_update().select_related("user").get(pk=conversion_id)
        )
        if conversion.state != State.AWAITING_SIGN_IN or conversion.expires_at <= timezone.now():
            raise ConversionClosed()
        if work_address != conversion.work_email:
            raise WrongWorkAccount(conversion.work_email)
        user = conversion.user
        existing = SocialAccount.objects.filter(provider=PROVIDER_ID, uid=uid).first()
        if (existing and existing.user_id != user.pk) or address_is_owned(
            work_address, by_other_than=user
        ):
            raise AddressOwned(work_address)
        SocialAccount.objects.get_or_create(
            provider=PROVIDER_ID,
            uid=uid,
            defaults={"user": user, "extra_data": {k: claims.get(k) for k in ("oid", "tid")}},
        )
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.update_or_create(
            user=user, email=work_address, defaults={"verified": True, "primary": True}
        )
        User.objects.filter(pk=user.pk).update(email=work_address, is_legacy_personal=False)
        Conversion.objects.filter(pk=conversion.pk).update(
            state=State.COMPLETED, completed_at=timezone.now(), work_uid=uid
        )
    user.refresh_from_db()
    address_verified.send(sender=Conversion, user=user, email=work_address)
    return user
