"""Self-service sign-up as Entra does it: a code emailed to the address, the account only after.

Without the code anyone could sign up as ``subscriptions@litware.com`` and sign in to an
application under an address whose mailbox they do not read. The code goes to the dev mailbox
(``MAILBOX_DIR``, the Maildir the portal writes too). It is six digits, kept as a keyed hash,
works once, expires after ``CODE_MINUTES``, allows ``CODE_ATTEMPTS`` tries (each counted with a
conditional update before the comparison, so parallel tries cannot exceed it), and an address gets
at most ``CODES_PER_HOUR`` codes, so resending cannot buy unlimited guesses.
"""

import mailbox
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from entra_standin.config import SIGNUP_CODE_SUBJECT

from . import outcomes
from .models import Domain, SignupCode, Tenant, User

CODE_MINUTES = 10
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 5
SENDER = "Entra ID stand-in <no-reply@entra-standin.invalid>"


class SignupError(Exception):
    """Base: the view turns each into a message for the person."""


class WrongCode(SignupError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__("wrong code")
        self.attempts_left = attempts_left


class TooManyAttempts(SignupError):
    pass


class CodeExpired(SignupError):
    pass


class CodeUsed(SignupError):
    """Entered already, or replaced by a newer code."""


class TooManyCodes(SignupError):
    pass


class AccountExists(SignupError):
    """Someone created an account with this address meanwhile."""


def _hash(code_id: int, code: str) -> str:
    return salted_hmac("entra_standin.signup-code", f"{code_id}:{code}").hexdigest()


def send_code(*, email: str, display_name: str, password_hash: str) -> SignupCode:
    """Make a code for signing up ``email`` (earlier codes for it stop working) and write its
    email to the dev mailbox. Raises TooManyCodes after ``CODES_PER_HOUR`` in the last hour."""
    now = timezone.now()
    recent = SignupCode.objects.filter(email=email, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= CODES_PER_HOUR:
        raise TooManyCodes()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        SignupCode.objects.filter(email=email, used_at__isnull=True).update(used_at=now)
        row = SignupCode.objects.create(
            email=email,
            display_name=display_name,
            password=password_hash,
            created_at=now,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
        row.code_hash = _hash(row.pk, code)
        row.save(update_fields=["code_hash"])
    _deliver(email, code)
    return row


def resend_code(*, code_id: int, email: str) -> SignupCode:
    """A new code for the same pending sign-up (name and password kept). Raises CodeExpired when
    the sign-up is unknown, TooManyCodes."""
    row = SignupCode.objects.filter(pk=code_id, email=email).first()
    if row is None:
        raise CodeExpired()
    return send_code(email=email, display_name=row.display_name, password_hash=row.password)


def _deliver(email: str, code: str) -> None:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = email
    message["Subject"] = SIGNUP_CODE_SUBJECT
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="entra-standin.invalid")
    message.set_content(
        f"Your verification code is: {code}\n\n"
        f"Enter it on the sign-up page to create your account for {email}. It works once and "
        f"expires in {CODE_MINUTES} minutes.\n\n"
        "If you did not try to sign up, ignore this email: no account is created without the "
        "code.\n\n-- The Entra ID stand-in (development and tests only)\n"
    )
    mailbox.Maildir(settings.MAILBOX_DIR, create=True).add(message)


def verify_code(*, code_id: int, email: str, code: str) -> SignupCode:
    """Use the code: returns the pending sign-up it belongs to. Raises WrongCode (with the tries
    left), TooManyAttempts, CodeExpired, CodeUsed. Each try is counted before the comparison."""
    code = (code or "").strip().replace(" ", "")[:20]
    now = timezone.now()
    row = SignupCode.objects.filter(pk=code_id, email=email).first()
    if row is None:
        raise CodeExpired()
    if row.used_at is not None:
        raise CodeUsed()
    if row.expires_at <= now:
        raise CodeExpired()
    counted = SignupCode.objects.filter(
        pk=row.pk, used_at__isnull=True, attempts__lt=CODE_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise TooManyAttempts()
    if not constant_time_compare(row.code_hash, _hash(row.pk, code)):
        left = CODE_ATTEMPTS - row.attempts - 1
        if left <= 0:
            raise TooManyAttempts()
        raise WrongCode(left)
    if not SignupCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise CodeUsed()  # a parallel try used it first
    return row


def create_account(row: SignupCode, outcome: outcomes.Outcome) -> User:
    """The directory user for a sign-up whose code was entered: in the address's tenant, or in a
    new unmanaged tenant whose domain is not verified (nobody proved the domain, only one
    mailbox). Raises AccountExists."""
    try:
        with transaction.atomic():
            domain = outcome.domain
            if domain is None:
                name = outcomes.domain_of(row.email)
                tenant = Tenant.objects.create(
                    name=name, kind=Tenant.UNMANAGED, self_service_signup=True
                )
                domain = Domain.objects.create(name=name, tenant=tenant, verified=False)
            return User.objects.create(
                username=row.email,
                email=row.email,
                display_name=row.display_name,
                tenant=domain.tenant,
                password=row.password,
            )
    except IntegrityError as exc:
        raise AccountExists() from exc
