"""Audit events in the admin: read-only."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agreements import selectors
from agreements.admin.scope import ScopedToAgreementAdmin
from agreements.models import (
    AuditEvent,
)
from vlsc_portal.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ScopedToAgreementAdmin):
    """Audit records: read-only. An access change email's event shows the outbox row's state
    (queued, sent, failed), linked to the row for whoever may view outgoing emails."""

    list_display = [
        "at",
        "action",
        "agreement_number",
        "subject_email",
        "actor_email",
        "via",
        "email_state",
    ]
    list_filter = ["action"]
    search_fields = ["agreement_number", "subject_email", "actor_email"]
    list_select_related = ["agreement", "actor", "outbound_email"]
    exclude = ["outbound_email"]

    def scoped_queryset(self, request):
        return selectors.audit_events_visible_to(user=request.user).select_related("outbound_email")

    @admin.display(description=_("email"))
    def email_state(self, obj: AuditEvent) -> str:
        email = obj.outbound_email
        return "-" if email is None else str(email.get_state_display())

    @admin.display(description=_("email"))
    def email_state_link(self, obj: AuditEvent) -> str:
        email = obj.outbound_email
        if email is None:
            return "-"
        url = reverse("admin:notifications_outboundemail_change", args=[email.pk])
        return format_html('<a href="{}">{}</a>', url, email.get_state_display())

    def _email_column(self, request) -> str:
        may_view = request.user.has_perm("notifications.view_outboundemail")
        return "email_state_link" if may_view else "email_state"

    def get_list_display(self, request):
        return [*self.list_display[:-1], self._email_column(request)]

    def get_readonly_fields(self, request, obj=None):
        return [self._email_column(request)]
