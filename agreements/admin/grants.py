"""Contacts and permission grants in the admin: the rows that give people access."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agreements import selectors, services
from agreements.admin.forms import PermissionGrantForm
from agreements.admin.scope import ScopedToAgreementAdmin
from agreements.admin.step_up import RemovalRefusedMixin
from agreements.models import (
    AgreementContact,
    PermissionGrant,
)


def _remove_contact(obj, *, actor, step_up_at):
    services.contact_remove(contact=obj, actor=actor, step_up_at=step_up_at)


def _remove_grant(obj, *, actor, step_up_at):
    services.permission_revoke(grant=obj, actor=actor, step_up_at=step_up_at)


def _contact_warnings(actor, rows):
    return services.last_administrator_warnings(actor=actor, contacts=rows)


def _grant_warnings(actor, rows):
    return services.last_administrator_warnings(actor=actor, grants=rows)


@admin.register(AgreementContact)
class AgreementContactAdmin(RemovalRefusedMixin, ScopedToAgreementAdmin):
    list_display = ["email", "name", "role", "agreement_number"]
    list_filter = ["role"]
    search_fields = ["email", "name", "agreement__number", "agreement__customer"]
    list_select_related = ["agreement"]
    fields = ["agreement", "role", "name", "email"]
    remove_service = staticmethod(_remove_contact)
    removal_warnings = staticmethod(_contact_warnings)

    def scoped_queryset(self, request):
        return selectors.contacts_visible_to(user=request.user)

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    def save_model(self, request, obj, form, change):
        services.contact_save(contact=obj, actor=request.user, step_up_at=self.step_up_at(request))


@admin.register(PermissionGrant)
class PermissionGrantAdmin(RemovalRefusedMixin, ScopedToAgreementAdmin):
    form = PermissionGrantForm
    list_display = ["email", "kind", "agreement_number", "granted_by", "granted_at"]
    list_filter = ["kind"]
    search_fields = ["email", "agreement__number", "agreement__customer"]
    list_select_related = ["agreement", "granted_by"]
    readonly_fields = ["granted_by", "granted_at"]
    remove_service = staticmethod(_remove_grant)
    removal_warnings = staticmethod(_grant_warnings)

    def scoped_queryset(self, request):
        return selectors.permissions_visible_to(user=request.user)

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        services.permission_save(grant=obj, actor=request.user, step_up_at=self.step_up_at(request))
