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
    DECISIONS = [("", _("Not decided yet")), ("accept", _("Accept")), ("deny", _("Deny"))]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, required=False)

    class Meta:
        model = AccessRequest
        fields = ["decision_message"]
