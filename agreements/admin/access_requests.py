"""Access requests in the admin: decided here by the agreement's administrators."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from agreements import selectors, services
from agreements.admin.forms import AccessRequestDecisionForm
from agreements.admin.scope import ScopedToAgreementAdmin
from agreements.admin.step_up import StepUpAdminMixin
from agreements.models import (
    AccessRequest,
)
from vlsc_portal.addresses import InvalidEmailAddress


@admin.register(AccessRequest)
class AccessRequestAdmin(StepUpAdminMixin, ScopedToAgreementAdmin):
    form = AccessRequestDecisionForm
    list_display = [
        "created_at",
        "agreement_number",
        "email",
        "kind",
        "state",
        "needs_support",
    ]
    list_filter = ["state", "needs_support"]
    search_fields = ["agreement_number", "email"]
    list_select_related = ["agreement", "requester"]
    readonly_fields = [
        "created_at",
        "agreement_number",
        "agreement",
        "email",
        "kind",
        "reason",
        "state",
        "needs_support",
        "decided_by",
        "decided_at",
    ]

    def scoped_queryset(self, request):
        return selectors.access_requests_visible_to(user=request.user)

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.state == AccessRequest.State.PENDING:
            return fields + ["decision", "decision_message"]
        return fields + ["decision_message"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != AccessRequest.State.PENDING:
            return [*self.readonly_fields, "decision_message"]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A decision page: one button, which decides; a decided request has none."""
        obj = self.get_object(request, object_id)
        pending = obj is not None and obj.state == AccessRequest.State.PENDING
        extra_context = {
            **(extra_context or {}),
            "show_save": pending,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Decide through the service; ``response_change`` tells the outcome (never "changed
        successfully": the form refuses a save without a decision)."""
        decision = form.cleaned_data["decision"]
        try:
            services.access_request_decide(
                access_request=obj,
                actor=request.user,
                accept=decision == "accept",
                message=form.cleaned_data.get("decision_message", ""),
                step_up_at=self.step_up_at(request),
            )
        except services.RequestAlreadyDecided:
            outcome = (messages.ERROR, _("This request was already decided. Nothing was changed."))
        except InvalidEmailAddress:
            outcome = (
                messages.ERROR,
                _(
                    "This request's address is not a valid email address (it holds an invisible "
                    "character, quotation marks or the like), so it cannot be accepted. Deny it."
                ),
            )
        else:
            outcome = (
                messages.SUCCESS,
                _("The request was accepted and the requester was emailed.")
                if decision == "accept"
                else _("The request was denied and the requester was emailed."),
            )
        request._access_request_outcome = outcome

    def response_change(self, request, obj):
        level, text = request._access_request_outcome
        self.message_user(request, text, level)
        if level == messages.ERROR:
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:agreements_accessrequest_changelist")
        )
