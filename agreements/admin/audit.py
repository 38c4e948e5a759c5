"""Audit events in the admin: read-only."""

from __future__ import annotations

from django.contrib import admin

from agreements import selectors
from agreements.admin.scope import ScopedToAgreementAdmin
from agreements.models import (
    AuditEvent,
)
from vlsc_portal.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ScopedToAgreementAdmin):
    """Audit records: read-only."""

    list_display = ["at", "action", "agreement_number", "subject_email", "actor_email", "via"]
    list_filter = ["action"]
    search_fields = ["agreement_number", "subject_email", "actor_email"]
    list_select_related = ["agreement", "actor"]

    def scoped_queryset(self, request):
        return selectors.audit_events_visible_to(user=request.user)
