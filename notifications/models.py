"""The outbox: one row per email the portal sends, so nothing is lost when the broker is down."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vlsc_portal.addresses import CanonicalEmailField


class OutboundEmail(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=40, db_index=True)
    to = CanonicalEmailField(max_length=254, db_index=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sensitive = models.BooleanField(
        default=False, help_text=_("The body holds a secret (a link or code): wiped once sent.")
    )
    dedupe_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text=_("At most one email per key: queuing the same key again is a no-op."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_emails",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(help_text=_("When it was last handed to the broker."))
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "queued_at"], name="outbox_state_queued_idx"),
            # Support's per-person timeline: the (canonical) recipient, newest first.
            models.Index(fields=["to", "-created_at"], name="outbox_to_time"),
            models.Index(fields=["user", "-created_at"], name="outbox_user_time"),
        ]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.state})"
