"""What the provisioning API keeps: which organisations' applications an agreement's
administrators authorised (app-only access), and the answers to idempotent POSTs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement


class ApplicationAuthorisation(models.Model):
    """An agreement's administrator let an organisation's own application (its tenant id and
    client id, as its app-only access tokens carry them in ``tid`` and ``azp``) use the API on
    that agreement, read only or read and write. Revoking sets ``revoked_at``: from that moment
    the application's tokens get nothing on the agreement (each request reads this row)."""

    class Access(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="application_authorisations",
        verbose_name=_("agreement"),
    )
    tenant_id = models.UUIDField(
        _("tenant id"), help_text=_("The directory (tenant) id of the application's organisation.")
    )
    client_id = models.CharField(
        _("application (client) id"),
        max_length=100,
        help_text=_("The application (client) id of the organisation's app registration."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    access = models.CharField(
        _("access"), max_length=12, choices=Access.choices, default=Access.READ
    )
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("authorised by"),
    )
    authorised_at = models.DateTimeField(_("authorised at"), auto_now_add=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["agreement__number", "-authorised_at"]
        verbose_name = _("application authorisation")
        verbose_name_plural = _("application authorisations")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "tenant_id", "client_id"],
                condition=Q(revoked_at__isnull=True),
                name="application_authorised_once_per_agreement",
            ),
        ]
        indexes = [models.Index(fields=["client_id", "tenant_id"], name="application_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.name or self.client_id} on {self.agreement_id}"


class IdempotentRequest(models.Model):
    """A POST made with an ``Idempotency-Key``: the caller, the key, a hash of what was asked
    (method, path, body) and the answer given, replayed when the same request comes again."""

    caller = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_per_caller")
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"
