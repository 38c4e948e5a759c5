"""Volume-licensing agreements, the people named on them (contacts), the permissions
administrators give (grants), requests for access, invitations and the audit trail.

Every address column holds canonical forms (``vlsc_portal.addresses``): access is matched
exactly on the user's verified addresses, which ``accounts.selectors.verified_emails`` returns
in that form.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vlsc_portal.addresses import CanonicalEmailField


class Agreement(models.Model):
    class Program(models.TextChoices):
        VOLUME_LICENSE_AGREEMENT = "vla", _("Volume License Agreement")
        OPEN_LICENSE_ORDER = "open", _("Open License Order")
        OPEN_VALUE = "open_value", _("Open Value")
        ENTERPRISE_AGREEMENT = "ea", _("Enterprise Agreement")
        SELECT_PLUS = "select_plus", _("Select Plus")
        MPSA = "mpsa", _("Microsoft Products and Services Agreement")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(
        _("agreement number"),
        max_length=32,
        unique=True,
        help_text=_("The enrollment or authorization number."),
    )
    program = models.CharField(_("program"), max_length=20, choices=Program.choices)
    customer = models.CharField(_("customer"), max_length=200)
    reseller = models.CharField(_("reseller"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="agreement_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.customer})"

    def save(self, *args, **kwargs) -> None:
        self.number = (self.number or "").strip().upper()
        super().save(*args, **kwargs)


class AgreementContact(models.Model):
    """A person named on the agreement's legal form (way 1 of the FAQ)."""

    class Role(models.TextChoices):
        PRIMARY_CONTACT = "primary_contact", _("Primary Contact")
        NOTICES_CORRESPONDENT = "notices_correspondent", _("Notices Correspondent")
        ONLINE_ADMINISTRATOR = "online_administrator", _("Online Administrator")
        SOFTWARE_ASSURANCE_MANAGER = "software_assurance_manager", _("Software Assurance Manager")
        ONLINE_SERVICES_MANAGER = "online_services_manager", _("Online Services Manager")
        SUBSCRIPTIONS_MANAGER = "subscriptions_manager", _("Subscriptions Manager")

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("agreement")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = CanonicalEmailField(_("email address"), max_length=254, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement__number", "role", "email"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "role", "email"], name="contact_unique_role_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.email}"


class PermissionGrant(models.Model):
    """A permission an administrator assigned to an address (way 2 of the FAQ)."""

    class Kind(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Administrator")
        LICENSING_INFO_VIEWER = "licensing_info_viewer", _("Licensing Info Viewer")
        DOWNLOADS = "downloads", _("Downloads")
        PRODUCT_KEYS = "product_keys", _("Product Keys")
        SOFTWARE_ASSURANCE_MANAGER = "software_assurance_manager", _("Software Assurance Manager")
        ONLINE_SERVICES_MANAGER = "online_services_manager", _("Online Services Manager")
        SUBSCRIPTIONS_MANAGER = "subscriptions_manager", _("Subscriptions Manager")

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="permissions",
        verbose_name=_("agreement"),
    )
    email = CanonicalEmailField(_("email address"), max_length=254, db_index=True)
    kind = models.CharField(_("permission"), max_length=32, choices=Kind.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["agreement__number", "email", "kind"]
        verbose_name = _("permission")
        verbose_name_plural = _("permissions")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "email", "kind"], name="permission_unique_kind_per_address"
            ),
        ]
        # The API pages an agreement's grants by id: a page reads only its rows, however many.
        indexes = [models.Index(fields=["agreement", "id"], name="permission_agreement_page_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.email}"


class Invitation(models.Model):
    """The welcome email an address was sent for an agreement: its state for administrators."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("agreement")
    )
    email = CanonicalEmailField(_("email address"), max_length=254)
    first_sent_at = models.DateTimeField(_("first sent"))
    last_sent_at = models.DateTimeField(_("last sent"))
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=1)

    class Meta:
        ordering = ["agreement__number", "email"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "email"], name="invitation_one_per_address_and_agreement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.number}: {self.email}"


class AccessRequest(models.Model):
    """A signed-in user asks for access to an agreement by its number."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DENIED = "denied", _("Denied")
        UNMATCHED = "unmatched", _("No such agreement")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_requests",
        verbose_name=_("requester"),
    )
    email = CanonicalEmailField(
        _("requester's address"),
        max_length=254,
        help_text=_("The verified address the permission is granted to if accepted."),
    )
    agreement_number = models.CharField(_("agreement number as typed"), max_length=32)
    agreement = models.ForeignKey(
        Agreement,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_requests",
        verbose_name=_("agreement"),
    )
    kind = models.CharField(
        _("permission asked for"), max_length=32, choices=PermissionGrant.Kind.choices
    )
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    needs_support = models.BooleanField(
        _("needs support"),
        default=False,
        help_text=_("The agreement had no active administrator: support handles the request."),
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_message = models.TextField(_("message to the requester"), max_length=1000, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "agreement_number"],
                condition=Q(state="pending"),
                name="access_request_one_pending_per_number",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "unmatched"]) | Q(decided_at__isnull=False),
                name="access_request_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["needs_support", "state"], name="access_request_support")]

    def __str__(self) -> str:
        return f"{self.agreement_number}: {self.email} ({self.state})"


class AuditEvent(models.Model):
    """Who did what to which agreement, when. Written by services only; read-only in the admin."""

    class Action(models.TextChoices):
        CONTACT_ADDED = "contact_added", _("Contact added")
        CONTACT_CHANGED = "contact_changed", _("Contact changed")
        CONTACT_REMOVED = "contact_removed", _("Contact removed")
        PERMISSION_GRANTED = "permission_granted", _("Permission granted")
        PERMISSION_CHANGED = "permission_changed", _("Permission changed")
        PERMISSION_REMOVED = "permission_removed", _("Permission removed")
        INVITATION_RESENT = "invitation_resent", _("Invitation resent")
        ACCESS_REQUESTED = "access_requested", _("Access requested")
        ACCESS_ACCEPTED = "access_accepted", _("Access request accepted")
        ACCESS_DENIED = "access_denied", _("Access request denied")
        APPLICATION_AUTHORISED = "application_authorised", _("Application authorised")
        APPLICATION_REVOKED = "application_revoked", _("Application authorisation revoked")
        ACCESS_EMAIL_QUEUED = "access_email_queued", _("Access change email queued")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_email = CanonicalEmailField(_("who (address)"), max_length=254, blank=True)
    action = models.CharField(_("what"), max_length=24, choices=Action.choices)
    agreement = models.ForeignKey(
        Agreement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        verbose_name=_("agreement"),
    )
    agreement_number = models.CharField(_("agreement number"), max_length=32, blank=True)
    subject_email = CanonicalEmailField(_("address concerned"), max_length=254, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    via = models.CharField(
        _("through"),
        max_length=300,
        blank=True,
        help_text=_(
            'Empty for the portal\'s own pages; for the provisioning API, "API" and the '
            "application or person that called it."
        ),
    )
    step_up_at = models.DateTimeField(
        _("recent sign-in"),
        null=True,
        blank=True,
        help_text=_(
            "When the person who made the change last signed in: giving or taking Administrator "
            "needs a sign-in within the last 10 minutes."
        ),
    )
    outbound_email = models.ForeignKey(
        "notifications.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("email"),
        help_text=_("The email this event queued, for an access change email."),
    )

    class Meta:
        ordering = ["-at"]
        # The support timeline reads a person's events newest first by address.
        indexes = [
            models.Index(fields=["subject_email", "-at"], name="audit_subject_time_idx"),
            # The API pages an agreement's events by id, newest first.
            models.Index(fields=["agreement", "id"], name="audit_agreement_page_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.agreement_number}"


class AccessChange(models.Model):
    """One role or permission an address was given or lost on an agreement, recorded by the
    services in the transaction that made the change, until the address is told of it: the
    changes made within ``ACCESS_CHANGE_EMAIL_DELAY`` of each other become one email per address
    and agreement (``agreements.services.access_changes``)."""

    class Subject(models.TextChoices):
        ROLE = "role", _("Contact role")
        PERMISSION = "permission", _("Permission")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be emailed")
        EMAILED = "emailed", _("Emailed")
        CANCELLED = "cancelled", _("Cancelled out by a later change")
        WELCOMED = "welcomed", _("Told by the welcome email")

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="access_changes",
        verbose_name=_("agreement"),
    )
    email = CanonicalEmailField(_("email address"), max_length=254)
    subject = models.CharField(_("what"), max_length=10, choices=Subject.choices)
    value = models.CharField(
        _("role or permission"), max_length=32, help_text=_("The role's or permission's value.")
    )
    granted = models.BooleanField(_("granted"), help_text=_("Given (checked) or removed."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_name = models.CharField(
        _("by (name)"),
        max_length=254,
        blank=True,
        help_text=_(
            "The administrator's name, or the application's for the provisioning API; empty for "
            "the portal itself."
        ),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="pending")
    outbound_email = models.ForeignKey(
        "notifications.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("access change")
        verbose_name_plural = _("access changes")
        indexes = [
            # The task's scan: what waits, by address and agreement.
            models.Index(
                fields=["agreement", "email", "at"],
                condition=Q(state="pending"),
                name="access_change_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{'+' if self.granted else '-'}{self.value} {self.email} ({self.state})"
