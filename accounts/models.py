"""People, their work-account identities (allauth's SocialAccount, keyed by tid and oid) and
what happened when they tried to sign in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A portal user. ``email`` is the work account's sign-in address (the IdP proved it);
    identity is the linked work account (tid, oid), never the address alone."""

    email = models.EmailField(_("sign-in address"), max_length=254, blank=True, db_index=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email or self.username


class SignInEvent(models.Model):
    """One outcome of one sign-in attempt, kept for support (PRODUCT.md Flow A)."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        REFUSED = "refused", _("Refused by the identity provider")
        INVALID_CALLBACK = "invalid_callback", _("Forged, replayed or stale callback")
        INVALID_TOKEN = "invalid_token", _("ID token failed validation")
        PERSONAL_ACCOUNT = "personal_account", _("Personal Microsoft account")
        SIGNED_OUT = "signed_out", _("Signed out")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reference_id = models.CharField(max_length=16, unique=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    error_code = models.CharField(max_length=8, blank=True, help_text=_("Portal code, e.g. E03."))
    provider_code = models.CharField(
        max_length=32, blank=True, help_text=_("The identity provider's code, e.g. AADSTS50034.")
    )
    detail = models.CharField(max_length=500, blank=True)
    address = models.EmailField(max_length=254, blank=True, db_index=True)
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
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")

    def __str__(self) -> str:
        return f"{self.reference_id} {self.outcome} {self.address}"
