"""Application authorisations in the scoped admin: an agreement's administrators authorise an
organisation's application (tenant id, client id) for app-only API access to that agreement,
and revoke it. Both through ``api.services`` (audited); rows are never edited or deleted, so
the history of who authorised what stays."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agreements.admin.scope import ScopedToAgreementAdmin, administered_agreements
from api import services
from api.models import ApplicationAuthorisation


class ApplicationAuthorisationForm(forms.ModelForm):
    class Meta:
        model = ApplicationAuthorisation
        fields = ["agreement", "name", "tenant_id", "client_id", "access"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        agreement, tenant, client_id = (
            data.get(k) for k in ("agreement", "tenant_id", "client_id")
        )
        if agreement and tenant and client_id:
            active = ApplicationAuthorisation.objects.filter(
                agreement=agreement,
                tenant_id=tenant,
                client_id=client_id.strip(),
                revoked_at__isnull=True,
            )
            if active.exists():
                raise forms.ValidationError(
                    _("This application is authorised on that agreement already: revoke it first.")
                )
        return data


@admin.register(ApplicationAuthorisation)
class ApplicationAuthorisationAdmin(ScopedToAgreementAdmin):
    form = ApplicationAuthorisationForm
    list_display = [
        "agreement",
        "name",
        "client_id",
        "tenant_id",
        "access",
        "authorised_by",
        "authorised_at",
        "revoked_at",
    ]
    list_select_related = ["agreement", "authorised_by"]
    search_fields = ["client_id", "name", "agreement__number"]
    list_filter = ["access", ("revoked_at", admin.EmptyFieldListFilter)]
    fields = ["agreement", "name", "tenant_id", "client_id", "access"]
    actions = ["revoke"]

    def scoped_queryset(self, request):
        return ApplicationAuthorisation.objects.select_related(
            "agreement", "authorised_by", "revoked_by"
        ).filter(agreement__in=administered_agreements(request))

    # An agreement's administrators manage these on the agreements they administer; the
    # model permissions of the administrators group are not needed (nor given).
    def _administers(self, request) -> bool:
        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (user.is_superuser or administered_agreements(request).exists())
        )

    def has_module_permission(self, request):
        return self._administers(request)

    def has_view_permission(self, request, obj=None):
        return self._administers(request) and self._in_scope(request, obj)

    def has_add_permission(self, request):
        return self._administers(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            authorised = services.application_authorise(
                agreement=obj.agreement,
                tenant_id=obj.tenant_id,
                client_id=obj.client_id,
                name=obj.name,
                access=obj.access,
                actor=request.user,
            )
        except services.AlreadyAuthorised:  # made at the same moment elsewhere
            authorised = ApplicationAuthorisation.objects.get(
                agreement=obj.agreement,
                tenant_id=obj.tenant_id,
                client_id=obj.client_id.strip(),
                revoked_at__isnull=True,
            )
        obj.pk = authorised.pk

    @admin.action(description=_("Revoke (takes effect at once)"), permissions=["view"])
    def revoke(self, request, queryset):
        revoked = sum(
            services.application_revoke(authorisation=row, actor=request.user) for row in queryset
        )
        self.message_user(
            request,
            ngettext("Revoked %(n)d authorisation.", "Revoked %(n)d authorisations.", revoked)
            % {"n": revoked},
            messages.SUCCESS,
        )
