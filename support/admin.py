"""Support requests and the audit of support actions in the admin: visible to support staff
(scoped by the same selectors as the support pages), read-only; actions go through the
support pages, which call the services."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from support import selectors
from support.models import SupportAction, SupportRequest
from vlsc_portal.admin import ReadOnlyAdminMixin


class SupportStaffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return selectors.is_support_staff(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.is_support_staff(user=request.user)


@admin.register(SupportRequest)
class SupportRequestAdmin(SupportStaffAdmin):
    list_display = ["reference", "state", "due_at", "topic", "email", "assigned_to", "created_at"]
    list_filter = ["state", "topic"]
    search_fields = ["reference", "email", "error_reference", "agreement_number"]
    list_select_related = ["assigned_to"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest):
        return selectors.support_requests_visible_to(user=request.user)


@admin.register(SupportAction)
class SupportActionAdmin(SupportStaffAdmin):
    list_display = ["at", "action", "actor_email", "subject_email", "reason"]
    list_filter = ["action"]
    search_fields = ["actor_email", "subject_email", "reason"]
    list_select_related = ["actor"]

    def get_queryset(self, request: HttpRequest):
        return selectors.support_actions_visible_to(user=request.user)
