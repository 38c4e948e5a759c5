"""Scoping the admin to the agreements the signed-in person administers."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.http import AuthenticatedHttpRequest
from agreements import selectors
from agreements.models import Agreement


class _AdminRequest(AuthenticatedHttpRequest):
    _administered_agreements: QuerySet[Agreement]


def administered_agreements(request: HttpRequest) -> QuerySet[Agreement]:
    """The agreements this request's user administers, computed once per request (the admin's
    requests are signed in)."""
    admin_request = cast(_AdminRequest, request)
    if not hasattr(admin_request, "_administered_agreements"):
        admin_request._administered_agreements = selectors.agreements_administered_by(
            user=admin_request.user
        )
    return admin_request._administered_agreements


LAST_ADMIN_MESSAGE = _(
    "You are the last administrator of this agreement: you cannot remove your own "
    "Administrator permission. Give another person Administrator first."
)


class ScopedToAgreementAdmin(admin.ModelAdmin):
    """Rows that belong to an agreement: visible and changeable only on administered ones."""

    def scoped_queryset(self, request: HttpRequest):
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest):
        return self.scoped_queryset(request)

    def _in_scope(self, request: HttpRequest, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        agreement_id = getattr(obj, "agreement_id", None)
        return (
            agreement_id is not None
            and administered_agreements(request).filter(pk=agreement_id).exists()
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agreement":
            kwargs["queryset"] = administered_agreements(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
