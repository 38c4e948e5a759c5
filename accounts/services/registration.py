"""Registration and ownership verification (README "Registration (Flow B)").

Links are the portal's own signed tokens (``django.core.signing``) carrying the registration id
and a per-registration nonce, rather than allauth's HMAC email confirmation: the link must be
bound to one registration's state machine (single-use, cancelled or expired with it, 48 hours),
and allauth's confirmation is bound to an ``EmailAddress`` alone. The address itself is still an
allauth ``EmailAddress``: unverified while pending, verified on confirmation, and allauth's
unique-verified-email constraint keeps two users from owning one address.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Registration, User
from accounts.selectors import proven_sign_in_address
from accounts.signals import address_verified
from notifications.services import queue_email, recipient_language, render_email
from vlsc_portal import ratelimits
from vlsc_portal.addresses import canonical_email
from vlsc_portal.links import portal_link

State = Registration.State
TOKEN_SALT = "accounts.registration.confirm"


class RegistrationError(Exception):
    """Base: the message is for the person."""


class RegistrationPending(RegistrationError):
    def __init__(self, registration: Registration) -> None:
        super().__init__("a registration is pending")
        self.registration = registration


class AddressTaken(RegistrationError):
    pass


class AddressAlreadyYours(RegistrationError):
    """The user has verified this address already: there is nothing to register."""


class AddressPendingElsewhere(RegistrationError):
    """Another user has a registration of this address pending; ``registration`` is theirs (its
    ``expires_at`` says when the address is free again)."""

    def __init__(self, registration: Registration) -> None:
        super().__init__("another user has this address pending")
        self.registration = registration


class NotRequester(RegistrationError):
    """The link is being used by someone other than the user who asked (or by nobody signed in):
    the link proves the mailbox, not who the mailbox owner meant to confirm for."""

    def __init__(self, registration: Registration) -> None:
        super().__init__("only the user who asked can confirm")
        self.registration = registration


class InvalidLink(RegistrationError):
    """Tampered, truncated or not ours."""


class LinkExpired(RegistrationError):
    def __init__(self, registration: Registration | None = None) -> None:
        super().__init__("the link expired")
        self.registration = registration


class LinkUsed(RegistrationError):
    def __init__(self, registration: Registration) -> None:
        super().__init__("the link was used")
        self.registration = registration


class RegistrationClosed(RegistrationError):
    """Not pending any more (cancelled, expired or completed)."""

    def __init__(self, registration: Registration) -> None:
        super().__init__("the registration is not pending")
        self.registration = registration


def window() -> timedelta:
    return timedelta(hours=settings.REGISTRATION_WINDOW_HOURS)


def pending_registration(*, user: User) -> Registration | None:
    return Registration.objects.filter(
        user=user, state=State.PENDING, expires_at__gt=timezone.now()
    ).first()


def _pending_elsewhere(*, user: User, address: str) -> Registration | None:
    """Another user's open registration of ``address`` (canonical, as stored)."""
    return (
        Registration.objects.filter(
            invitation_address=address, state=State.PENDING, expires_at__gt=timezone.now()
        )
        .exclude(user=user)
        .first()
    )


def latest_registration(*, user: User) -> Registration | None:
    return Registration.objects.filter(user=user).select_related("verification_email").first()


def check_cancellable(registration: Registration, *, now: datetime | None = None) -> None:
    """Raises RegistrationClosed unless ``registration`` is pending and its 48 hours run."""
    if registration.state != State.PENDING or registration.expires_at <= (now or timezone.now()):
        raise RegistrationClosed(registration)


def needs_registration(*, verified_emails: list[str], pending: object | None) -> bool:
    """A signed-in user who has proved no invitation address (``verified_emails``) and has none
    pending (:func:`pending_registration`, or ``accounts.selectors.address_standing``'s)."""
    return not verified_emails and pending is None


def make_token(registration: Registration) -> str:
    return signing.dumps({"r": registration.pk, "n": registration.nonce}, salt=TOKEN_SALT)


def _verify_address(*, user: User, email: str) -> None:
    """Mark ``email`` (canonical) verified for ``user``; raises AddressTaken if another user
    verified it."""
    if EmailAddress.objects.filter(email=email, verified=True).exclude(user=user).exists():
        raise AddressTaken(email)
    try:
        with transaction.atomic():
            address, _ = EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True}
            )
            if not address.verified:
                address.verified = True
                address.save(update_fields=["verified"])
            if not EmailAddress.objects.filter(user=user, primary=True).exists():
                EmailAddress.objects.filter(pk=address.pk).update(primary=True)
    except IntegrityError as exc:  # another user verified it at the same moment
        raise AddressTaken(email) from exc
    address_verified.send(sender=Registration, user=user, email=email)


def verification_link_base() -> str:
    """The emailed verification link without its token, on the portal's configured address."""
    return portal_link(reverse("accounts:confirm_prefix"))


def start_registration(*, user: User, invitation_address: str, confirm_url: str) -> Registration:
    """Register ``invitation_address`` for ``user``.

    The address the identity provider proved at the user's sign-in (``email`` claim with
    ``xms_edov`` true, not a personal account: ``selectors.proven_sign_in_address``), in any
    spelling with its canonical form, completes at once. Any other address, the sign-in address
    included when nothing proved it, makes a pending registration that expires after the
    window, adds the address unverified, and queues the verification email (``confirm_url`` is
    the absolute URL the token is appended to). Raises RegistrationPending while one is
    pending, AddressTaken if another user owns it (AddressAlreadyYours if ``user`` does: no
    new registration, no email), AddressPendingElsewhere while another user's
    registration of the address is pending (one pending registration per address, so a mailbox
    owner is never asked to pick between two), ``InvalidEmailAddress`` (a ValidationError) for
    an address with no canonical form (``vlsc_portal.addresses``); every comparison is on that
    form. Raises ``ratelimits.RateLimited``, creating nothing, when the email would exceed the
    address's or the user's email budget (``ratelimits.email_budget``).
    """
    address = canonical_email(invitation_address)
    now = timezone.now()
    # A window that closed before beat got to it must not block the new registration.
    Registration.objects.filter(
        Q(user=user) | Q(invitation_address=address), state=State.PENDING, expires_at__lte=now
    ).update(state=State.EXPIRED, expired_at=now)
    pending = pending_registration(user=user)
    if pending is not None:
        raise RegistrationPending(pending)
    owner = EmailAddress.objects.filter(email=address, verified=True).values("user_id").first()
    if owner is not None:
        raise AddressAlreadyYours(address) if owner["user_id"] == user.pk else AddressTaken(address)

    proven = proven_sign_in_address(user=user)
    same = bool(proven) and address == proven
    if not same and (elsewhere := _pending_elsewhere(user=user, address=address)) is not None:
        raise AddressPendingElsewhere(elsewhere)
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                user=user,
                state=State.COMPLETED if same else State.PENDING,
                sign_in_address=user.email,
                invitation_address=address,
                created_at=now,
                expires_at=now + window(),
                completed_at=now if same else None,
                nonce=secrets.token_hex(16),
            )
            if same:
                _verify_address(user=user, email=address)
            else:
                EmailAddress.objects.get_or_create(
                    user=user, email=address, defaults={"verified": False}
                )
                _send_verification(registration, confirm_url=confirm_url)
    except IntegrityError as exc:  # a concurrent submit made the pending one first
        pending = pending_registration(user=user)
        if pending is not None:
            raise RegistrationPending(pending) from exc
        elsewhere = _pending_elsewhere(user=user, address=address)
        if elsewhere is not None:
            raise AddressPendingElsewhere(elsewhere) from exc
        raise
    return registration


def _send_verification(
    registration: Registration, *, confirm_url: str, resend: bool = False
) -> None:
    """Queue the verification email, counted against the address's and the user's email budgets
    and, for a resend, the registration's own resend limit (all or nothing). Raises
    ``ratelimits.RateLimited``; call inside the transaction that records the send, so a refusal
    undoes it."""
    uses = ratelimits.email_budget(to=registration.invitation_address, user=registration.user)
    if resend:
        uses.insert(0, ratelimits.Use("registration_resend", key=resend_key(registration)))
    ratelimits.consume(*uses)
    link = f"{confirm_url}{make_token(registration)}/"
    context = {"registration": registration, "link": link}
    language = recipient_language(registration.user)
    subject, body = render_email("accounts/email/verification", context, language=language)
    email = queue_email(
        to=registration.invitation_address,
        subject=subject,
        body=body,
        kind="verification",
        user=registration.user,
        dedupe_key=f"registration:{registration.pk}:{registration.resends}",
        sensitive=True,
    )
    Registration.objects.filter(pk=registration.pk).update(verification_email=email)
    registration.verification_email = email


def resend_key(registration: Registration) -> str:
    """The key of a registration's own resend limit (``registration_resend``)."""
    return f"registration:{registration.pk}:{registration.nonce}"


def resend_verification(*, registration: Registration, confirm_url: str) -> Registration:
    """Send the verification email again, whoever asks (the person, or support for them). The
    earlier links keep working until the registration ends. Raises RegistrationClosed, and
    ``ratelimits.RateLimited`` (nothing sent, nothing counted) past the registration's resend
    limit or the address's or user's email budget."""
    with transaction.atomic():
        updated = Registration.objects.filter(
            pk=registration.pk, state=State.PENDING, expires_at__gt=timezone.now()
        ).update(resends=registration.resends + 1)
        if not updated:
            raise RegistrationClosed(registration)
        registration.refresh_from_db()
        _send_verification(registration, confirm_url=confirm_url, resend=True)
    return registration


def registration_for_token(token: str) -> Registration:
    """The registration a link points to, whatever its state. Raises InvalidLink or
    LinkExpired (older than the window by its signature)."""
    if not isinstance(token, str) or len(token) > 500:
        raise InvalidLink()
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=window())
    except signing.SignatureExpired as exc:
        raise LinkExpired() from exc
    except signing.BadSignature as exc:
        raise InvalidLink() from exc
    if not isinstance(data, dict):
        raise InvalidLink()
    registration_id = data.get("r")
    if not isinstance(registration_id, int):
        raise InvalidLink()
    registration = Registration.objects.filter(pk=registration_id).select_related("user").first()
    if registration is None or not secrets.compare_digest(
        str(registration.nonce), str(data.get("n", ""))
    ):
        raise InvalidLink()
    return registration


def check_confirmable(registration: Registration, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if registration.state == State.COMPLETED:
        raise LinkUsed(registration)
    if registration.state == State.EXPIRED or (
        registration.state == State.PENDING and registration.expires_at <= now
    ):
        raise LinkExpired(registration)
    if registration.state != State.PENDING:
        raise RegistrationClosed(registration)


def check_requester(registration: Registration, *, user: User | AnonymousUser) -> None:
    """Raises NotRequester unless ``user`` is signed in and made ``registration``."""
    if not user.is_authenticated or registration.user_id != user.pk:
        raise NotRequester(registration)


def confirm_ownership(*, token: str, user: User | AnonymousUser) -> Registration:
    """Complete the registration the link belongs to: the address becomes verified. Only
    ``user``, signed in as the person who asked, may (else NotRequester, nothing changes): a
    shared mailbox's owner who follows someone else's link must not hand them the address.
    Single use: a second call raises LinkUsed. Also raises InvalidLink, LinkExpired,
    RegistrationClosed, AddressTaken (another user verified the address meanwhile; nothing
    changes)."""
    registration = registration_for_token(token)
    check_confirmable(registration)
    check_requester(registration, user=user)
    now = timezone.now()
    with transaction.atomic():
        updated = Registration.objects.filter(
            # user_id: check_requester proved it is ``user``'s
            pk=registration.pk,
            user_id=registration.user_id,
            state=State.PENDING,
            expires_at__gt=now,
        ).update(state=State.COMPLETED, completed_at=now)
        if not updated:  # a concurrent confirmation, cancel or expiry won
            registration.refresh_from_db()
            check_confirmable(registration)
            raise RegistrationClosed(registration)
        _verify_address(user=registration.user, email=registration.invitation_address)
    registration.refresh_from_db()
    return registration


def cancel_registration(*, registration: Registration, reason: str = "") -> Registration:
    """Cancel a pending registration so the user may register again at once. Raises
    RegistrationClosed (nothing changes) if it is no longer pending or its 48 hours are over:
    a repeated or late cancel is refused, not done twice."""
    now = timezone.now()
    with transaction.atomic():
        updated = Registration.objects.filter(
            pk=registration.pk, state=State.PENDING, expires_at__gt=now
        ).update(state=State.CANCELLED, cancelled_at=now, cancel_reason=reason[:200])
        if not updated:
            registration.refresh_from_db()
            raise RegistrationClosed(registration)
        EmailAddress.objects.filter(
            user=registration.user, email=registration.invitation_address, verified=False
        ).delete()
    registration.refresh_from_db()
    return registration
