"""Support requests from the Contact support form, and the audit of what support staff did.

The per-person timeline is not stored: ``support.selectors.timeline`` reads it from each source
table (sign-in events, registrations, emails, conversions, agreement audit, these two) so no
event is written twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vlsc_portal.addresses import CanonicalEmailField

ANSWER_WITHIN = timedelta(hours=24)


class SupportRequest(models.Model):
    """A message to support. Due 24 hours after it was made; its address in canonical form."""

    class Topic(models.TextChoices):
        SIGN_IN = "sign_in", _("Signing in")
        REGISTRATION = "registration", _("Registering or verifying my address")
        CONVERSION = "conversion", _("Converting a personal Microsoft account")
        AGREEMENT_ACCESS = "agreement_access", _("Access to an agreement")
        OTHER = "other", _("Something else")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(_("reference"), max_length=11, unique=True)
    # The language the request was written in (the signed-in person's stored one, else the
    # page's): the answer is emailed in it, whoever writes the answer.
    language = models.CharField(_("language"), max_length=8, blank=True, choices=settings.LANGUAGES)
    name = models.CharField(_("name"), max_length=100)
    email = CanonicalEmailField(_("email address"), max_length=254)
    agreement_number = models.CharField(_("agreement number"), max_length=32, blank=True)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices)
    message = models.TextField(_("message"), max_length=2000)
    error_code = models.CharField(_("error code"), max_length=8, blank=True)
    error_reference = models.CharField(
        _("reference id quoted"),
        max_length=16,
        blank=True,
        db_index=True,
        help_text=_("The reference id of the error page the request was sent from."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="support_requests",
        verbose_name=_("signed-in user"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(_("made"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    answer = models.TextField(_("answer"), max_length=4000, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        # Held by the "Support staff" group (made by migration 0004), and by superusers.
        permissions = [("use_support_console", _("Can use the support pages"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_at__gt=F("created_at")), name="support_request_due_after_made"
            ),
            models.CheckConstraint(
                condition=~Q(state="answered") | Q(answered_at__isnull=False),
                name="support_request_answered_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False),
                name="support_request_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="support_request_queue"),
            models.Index(fields=["email", "-created_at"], name="support_request_email_time"),
            models.Index(fields=["user", "-created_at"], name="support_request_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.state})"

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Unanswered past its due time (answered or closed requests are never overdue)."""
        return self.state == self.State.OPEN and self.due_at <= (now or timezone.now())


class SupportAction(models.Model):
    """What a member of support staff did, why and when. Written by services only; read-only in
    the admin."""

    class Action(models.TextChoices):
        VERIFICATION_RESENT = "verification_resent", _("Verification email resent by support")
        REGISTRATION_CANCELLED = "registration_cancelled", _("Registration cancelled by support")
        REQUEST_ASSIGNED = "request_assigned", _("Support request assigned")
        REQUEST_ANSWERED = "request_answered", _("Support request answered")
        REQUEST_CLOSED = "request_closed", _("Support request closed")

    at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_email = CanonicalEmailField(_("who (address)"), max_length=254)
    action = models.CharField(_("what"), max_length=24, choices=Action.choices)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("person concerned"),
    )
    subject_email = CanonicalEmailField(_("address concerned"), max_length=254, blank=True)
    registration = models.ForeignKey(
        "accounts.Registration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registration"),
    )
    support_request = models.ForeignKey(
        SupportRequest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
        verbose_name=_("support request"),
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = _("support action")
        verbose_name_plural = _("support actions")
        indexes = [
            models.Index(fields=["subject_user", "-at"], name="support_action_user_time"),
            models.Index(fields=["subject_email", "-at"], name="support_action_email_time"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_email}"
