"""Invitations in the admin: read-only, with a resend action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agreements import selectors, services
from agreements.admin.scope import ScopedToAgreementAdmin
from agreements.models import (
    Invitation,
)


@admin.register(Invitation)
class InvitationAdmin(ScopedToAgreementAdmin):
    list_display = ["email", "agreement_number", "state", "first_sent_at", "last_sent_at"]
    list_filter = ["agreement"]
    search_fields = ["email", "agreement__number"]
    list_select_related = ["agreement"]
    readonly_fields = ["agreement", "email", "first_sent_at", "last_sent_at", "times_sent"]
    actions = ["resend"]

    def scoped_queryset(self, request):
        return selectors.with_acceptance(selectors.invitations_visible_to(user=request.user))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_filter(self, request):
        return ["agreement"] if request.user.is_superuser else []

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        return selectors.invitation_state(obj)

    @admin.action(description=_("Resend the invitation"), permissions=["view"])
    def resend(self, request, queryset):
        sent = too_soon = 0
        for invitation in queryset:
            try:
                services.resend_invitation(invitation=invitation, actor=request.user)
                sent += 1
            except services.ResendTooSoon:
                too_soon += 1
        if sent:
            self.message_user(
                request,
                ngettext("Resent %(n)d invitation.", "Resent %(n)d invitations.", sent)
                % {"n": sent},
                messages.SUCCESS,
            )
        if too_soon:
            self.message_user(
                request,
                ngettext(
                    "%(n)d invitation was sent less than 10 minutes ago; try again later.",
                    "%(n)d invitations were sent less than 10 minutes ago; try again later.",
                    too_soon,
                )
                % {"n": too_soon},
                messages.WARNING,
            )
