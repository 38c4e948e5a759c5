"""The admin's forms for permission grants and access-request decisions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from agreements import services
from agreements.admin.scope import LAST_ADMIN_MESSAGE
from agreements.models import (
    AccessRequest,
    PermissionGrant,
)


class PermissionGrantForm(forms.ModelForm):
    actor = None  # set per request by the admin

    class Meta:
        model = PermissionGrant
        fields = ["agreement", "email", "kind"]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        if instance.pk and self.actor is not None and not self.errors:
            before = PermissionGrant.objects.get(pk=instance.pk)
            changed = (before.email, before.kind) != (cleaned.get("email"), cleaned.get("kind"))
            if before.kind == PermissionGrant.Kind.ADMINISTRATOR and changed:
                try:
                    services.refuse_last_administrator(
                        agreement=before.agreement,
                        email=before.email,
                        actor=self.actor,
                        grant=before,
                    )
                except services.LastAdministrator as exc:
                    raise forms.ValidationError(LAST_ADMIN_MESSAGE) from exc
        return cleaned


class AccessRequestDecisionForm(forms.ModelForm):
    """Saving is deciding: a pending request needs Accept or Deny (nothing is preselected), and
    a decided one changes no more."""

    DECISIONS = [("accept", _("Accept")), ("deny", _("Deny"))]
    decision = forms.ChoiceField(
        label=_("Decision"), choices=DECISIONS, required=False, widget=forms.RadioSelect
    )

    class Meta:
        model = AccessRequest
        fields = ["decision_message"]

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        if self.instance.state != AccessRequest.State.PENDING:
            raise forms.ValidationError(
                _("This request was already decided. Nothing was changed."), code="decided"
            )
        if not cleaned.get("decision"):
            self.add_error(
                "decision",
                forms.ValidationError(
                    _("Choose Accept or Deny. Nothing is saved without a decision."),
                    code="required",
                ),
            )
        return cleaned
