import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class Tenant(models.Model):
    MANAGED = "managed"
    UNMANAGED = "unmanaged"
    CONSUMER = "consumer"
    KINDS = [
        (MANAGED, _("managed (an administrator took over the directory)")),
        (UNMANAGED, _("unmanaged (created by self-service sign-up)")),
        (CONSUMER, _("consumer (personal Microsoft accounts)")),
    ]

    tid = models.UUIDField(_("tenant id"), primary_key=True, default=uuid.uuid4)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=KINDS, default=MANAGED)
    self_service_signup = models.BooleanField(
        _("self-service sign-up allowed"),
        default=True,
        help_text=_(
            "When off, people without an account cannot sign themselves up (AADSTS990003)."
        ),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.tid})"


class Domain(models.Model):
    name = models.CharField(_("domain name"), max_length=253, unique=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="domains", verbose_name=_("tenant")
    )
    restricted_for_auto_signup = models.BooleanField(
        _("restricted for automatic sign-up"),
        default=False,
        help_text=_("Self-service sign-up with this domain is refused (AADSTS990002)."),
    )
    admin_blocks_self_signup = models.BooleanField(
        _("administrator blocks users signing up on their own"),
        default=False,
        help_text=_("The domain's administrator must allow sign-up first (AADSTS990004)."),
    )
    verified = models.BooleanField(
        _("ownership verified"),
        default=False,
        help_text=_(
            "The tenant proved it owns the domain (in Entra an administrator adds a DNS record). "
            "Only then do id_tokens of its users carry xms_edov true. Domains of tenants made by "
            "self-service sign-up are not verified."
        ),
    )

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = self.name.strip().lower()
        super().save(*args, **kwargs)


class User(AbstractUser):
    """A directory user (username is the UPN, the lowercased email) or a stand-in admin."""

    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("tenant"),
        help_text=_("Empty for stand-in administrators, who cannot sign in to applications."),
    )
    oid = models.UUIDField(_("object id"), unique=True, default=uuid.uuid4)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def upn(self):
        return self.username

    def get_full_name(self):
        return self.display_name or super().get_full_name() or self.username


class SignupCode(models.Model):
    """A self-service sign-up waiting for its emailed code, as Entra's sign-up does: the account
    is created only once the code sent to the address is entered, so nobody can sign up with an
    address whose mailbox they cannot read. The code is kept as a keyed hash; it works once,
    expires, and allows a few tries (``entra_standin.directory.signup``)."""

    email = models.EmailField(_("email"), max_length=254, db_index=True)
    display_name = models.CharField(_("display name"), max_length=200)
    password = models.CharField(_("password hash"), max_length=128)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    used_at = models.DateTimeField(
        _("used or replaced"),
        null=True,
        blank=True,
        help_text=_("Set when the code was entered or a newer one replaced it."),
    )

    class Meta:
        verbose_name = _("sign-up code")
        verbose_name_plural = _("sign-up codes")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class GrantAuthTime(models.Model):
    """When the person signed in, in the browser session an authorization code was issued to:
    the ``auth_time`` its id_token carries. DOT's grant has no place for it, and DOT itself would
    issue the user's latest sign-in in any browser (``last_login``), which would make an old
    session look freshly signed in."""

    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="standin_auth_time",
    )
    auth_time = models.PositiveBigIntegerField(_("signed in at (seconds since the epoch)"))

    def __str__(self):
        return f"{self.grant_id}: {self.auth_time}"


class AppRegistration(models.Model):
    """What Entra keeps about an organisation's own application beyond its OAuth client: the
    tenant it is registered in (the ``tid`` of its app-only tokens) and the app roles it was
    granted on the portal's API (the ``roles`` claim of its client-credentials tokens)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="registration",
        verbose_name=_("application"),
    )
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="applications", verbose_name=_("tenant")
    )
    app_roles = models.CharField(
        _("app roles on the portal's API"),
        max_length=200,
        blank=True,
        help_text=_("Space-separated, e.g. Permissions.ReadWrite.All."),
    )

    class Meta:
        verbose_name = _("app registration")
        verbose_name_plural = _("app registrations")

    def __str__(self):
        return f"{self.application_id} ({self.tenant_id})"

    @property
    def service_principal_oid(self) -> str:
        """The object id of the application in its tenant (the ``oid`` of app-only tokens)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"standin-sp:{self.application.client_id}"))
