"""People, their work-account identities (allauth's SocialAccount, keyed by tid and oid) and
what happened when they tried to sign in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from vlsc_portal.addresses import CanonicalEmailField
from vlsc_portal.timezones import validate_time_zone


class User(AbstractUser):
    """A portal user. ``email`` is the work account's sign-in address (``preferred_username``,
    which proves no ownership by itself); identity is the linked work account (tid, oid), never
    the address alone."""

    email = CanonicalEmailField(_("sign-in address"), max_length=254, blank=True, db_index=True)
    is_legacy_personal = models.BooleanField(
        _("registered with a personal Microsoft account"),
        default=False,
        help_text=_(
            "A legacy user: signing in with their personal account asks them to convert to a "
            "work account. Cleared when the conversion completes."
        ),
    )

    # README "Languages and time zones": what the switcher and the preferences page store. Blank:
    # not chosen yet (the language then comes from the cookie or the browser, the time zone from
    # the browser's ``tz`` cookie, else UTC).
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The language of the portal's pages and emails for this person."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("An IANA time zone name, e.g. Europe/Paris: dates and times are shown in it."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email or self.username


def display_name(user: User) -> str:
    """How the portal names a person to them ("Signed in as ..."): their name from the identity
    provider's ``name`` claim, else their sign-in address; never the internal username, which
    allauth generates (``ACCOUNT_USER_DISPLAY``)."""
    return user.get_full_name().strip() or user.email or user.username


class SignInEvent(models.Model):
    """One outcome of one sign-in attempt (Flow A), kept for support (README "Sign-in error
    codes" and "Support")."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        REFUSED = "refused", _("Refused by the identity provider")
        INVALID_CALLBACK = "invalid_callback", _("Forged, replayed or stale callback")
        INVALID_TOKEN = "invalid_token", _("ID token failed validation")
        PERSONAL_ACCOUNT = "personal_account", _("Personal Microsoft account")
        SIGNED_OUT = "signed_out", _("Signed out")
        PROVIDER_UNAVAILABLE = "provider_unavailable", _("Identity provider unavailable")
        CANCELLED = "cancelled", _("Cancelled at the identity provider")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reference_id = models.CharField(max_length=16, unique=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    error_code = models.CharField(max_length=8, blank=True, help_text=_("Portal code, e.g. E03."))
    provider_code = models.CharField(
        max_length=32, blank=True, help_text=_("The identity provider's code, e.g. AADSTS50034.")
    )
    detail = models.CharField(max_length=500, blank=True)
    address = CanonicalEmailField(max_length=254, blank=True, db_index=True)
    tenant_id = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sign_in_events",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Support's per-person timeline: the (canonical) address, newest first.
            models.Index(fields=["address", "-created_at"], name="signin_address_time"),
            models.Index(fields=["user", "-created_at"], name="signin_user_time"),
        ]
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")

    def __str__(self) -> str:
        return f"{self.reference_id} {self.outcome} {self.address}"


class Registration(models.Model):
    """A user's claim to an invitation address (README "Registration (Flow B)").

    The address the identity provider proved at sign-in (``email`` with ``xms_edov`` true)
    completes at once; any other stays pending until its owner confirms the emailed link, for 48
    hours.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for verification")
        COMPLETED = "completed", _("Registered")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    sign_in_address = CanonicalEmailField(max_length=254)
    invitation_address = CanonicalEmailField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    nonce = models.CharField(
        max_length=32,
        help_text=_("Bound into the emailed link, so only this registration's links work."),
    )
    verification_email = models.ForeignKey(
        "notifications.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The latest verification email sent for it."),
    )
    resends = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state="pending"),
                name="one_pending_registration_per_user",
            ),
            # One person at a time may ask a mailbox to confirm an address: the owner of a
            # shared mailbox is never asked to choose between two requesters' links.
            models.UniqueConstraint(
                fields=["invitation_address"],
                condition=models.Q(state="pending"),
                name="one_pending_registration_per_address",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="registration_expires_after_creation",
            ),
        ]
        # Lean on purpose: expiring a million registrations rewrites every row, and each index a
        # new row version enters costs time. The pending-only indexes are not entered at all.
        indexes = [
            models.Index(fields=["invitation_address"], name="registration_invitation_idx"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="pending"),
                name="registration_pending_expiry",
            ),
            # Support's trends (support.selectors.trends): registrations made, completed and
            # expired per day over 30 days read a range of this index, not the whole table.
            # The one index they add; expiry enters it too (a B-tree on a column it never
            # changes).
            models.Index(fields=["created_at"], name="registration_created_at"),
        ]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.invitation_address} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def has_deadline(self) -> bool:
        """Its expiry is a deadline still running (pending) or missed (expired); a completed or
        cancelled registration has none to show."""
        return self.state in (self.State.PENDING, self.State.EXPIRED)


class Conversion(models.Model):
    """A legacy user's move from a personal Microsoft account to a work account (Flow C)."""

    class State(models.TextChoices):
        STARTED = "started", _("Waiting for the signup code")
        CODE_VERIFIED = "code_verified", _("Signup code confirmed")
        AWAITING_SIGN_IN = "awaiting_sign_in", _("Waiting for the work account to sign in")
        COMPLETED = "completed", _("Converted")
        EXPIRED = "expired", _("Expired")

    ACTIVE_STATES = (State.STARTED, State.CODE_VERIFIED, State.AWAITING_SIGN_IN)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversions"
    )
    personal_uid = models.CharField(max_length=200, help_text=_("The personal account (oid.tid)."))
    personal_address = CanonicalEmailField(max_length=254)
    name = models.CharField(max_length=200)
    work_email = CanonicalEmailField(max_length=254, db_index=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.STARTED)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    work_uid = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_email"],
                condition=models.Q(state__in=["started", "code_verified", "awaiting_sign_in"]),
                name="one_active_conversion_per_work_email",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["started", "code_verified", "awaiting_sign_in"]),
                name="one_active_conversion_per_user",
            ),
        ]
        # Support's lookup by address: the personal account's (canonical) address.
        indexes = [models.Index(fields=["personal_address"], name="conversion_personal_idx")]
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")

    def __str__(self) -> str:
        return f"{self.personal_address} → {self.work_email} ({self.state})"


class SignupCode(models.Model):
    """A code emailed to the work address; only its keyed hash is stored."""

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signup code")
        verbose_name_plural = _("signup codes")

    def __str__(self) -> str:
        return f"signup code for {self.conversion_id} ({self.created_at:%Y-%m-%d %H:%M})"


class CountryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("An organisation's country or region cannot be changed."))

    def delete(self):
        raise ValidationError(_("An organisation's country or region cannot be removed."))


class OrganisationCountry(models.Model):
    """The country or region of a converted user's organisation. Written once, never changed:
    ``save`` refuses an update, and the queryset refuses ``update`` and ``delete``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="organisation_country"
    )
    country = CountryField(_("country or region"))
    confirmed_at = models.DateTimeField(default=timezone.now)

    objects = CountryQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation country")
        verbose_name_plural = _("organisation countries")

    def __str__(self) -> str:
        return f"{self.user}: {self.country}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ValidationError(_("An organisation's country or region cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("An organisation's country or region cannot be removed."))
