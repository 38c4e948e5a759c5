"""Agreements in the admin: master data, changed by superusers only."""

from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agreements import selectors
from agreements.admin.scope import administered_agreements
from agreements.models import (
    Agreement,
)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["number", "program", "customer", "status"]
    list_filter = ["program", "status"]
    search_fields = ["number", "customer", "contacts__email", "permissions__email"]
    readonly_fields = ["invited_addresses"]
    fields = [
        "number",
        "program",
        "customer",
        "reseller",
        "status",
        "start_date",
        "end_date",
        "invited_addresses",
    ]

    def get_queryset(self, request):
        return administered_agreements(request)

    def has_view_permission(self, request, obj=None):
        in_scope = obj is None or administered_agreements(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request, obj) and in_scope

    # Agreement master data comes from the legal form: only superusers change it.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("Invited addresses"))
    def invited_addresses(self, obj: Agreement) -> str:
        if obj.pk is None:
            return "—"
        return render_to_string(
            "agreements/admin/invited_addresses.html",
            {
                "rows": selectors.invited_addresses(agreement=obj),
                "invitations_url": reverse("admin:agreements_invitation_changelist")
                + f"?agreement__id__exact={obj.pk}",
            },
        )
