from __future__ import annotations

from typing import cast

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from agreements.dashboard import FILTER_MAX_LENGTH
from agreements.models import PermissionGrant
from vlsc_portal.addresses import canonical_email
from vlsc_portal.forms import AccessibleForm

agreement_number_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9-]{2,31}$",
    _("Enter an agreement number of 3 to 32 letters, digits and hyphens, as on your agreement."),
)


class VerifiedAddressChoiceField(forms.ChoiceField):
    """One of the user's verified (canonical) addresses, in any spelling of it: the submitted
    value is canonicalised before it is matched against the choices, and one with no canonical
    form is refused with ``canonical_email``'s message."""

    def to_python(self, value):
        value = super().to_python(value)
        return canonical_email(value) if value else value


class AccessRequestForm(AccessibleForm):
    agreement_number = forms.CharField(
        label=_("Agreement number"),
        max_length=32,
        help_text=_("The enrollment or authorization number, as on your agreement."),
        validators=[agreement_number_validator],
    )
    kind = forms.ChoiceField(
        label=_("Permission you need"),
        choices=PermissionGrant.Kind.choices,
        initial=PermissionGrant.Kind.LICENSING_INFO_VIEWER,
    )
    email = VerifiedAddressChoiceField(
        label=_("Address to give the permission to"),
        help_text=_("One of your verified addresses."),
    )
    reason = forms.CharField(
        label=_("Why you need it (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, emails: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["email"]).choices = [(e, e) for e in emails]
        if emails:
            self.fields["email"].initial = emails[0]

    def clean(self):
        cleaned = super().clean()
        if not cast(forms.ChoiceField, self.fields["email"]).choices:
            raise forms.ValidationError(
                _(
                    "You have no verified address yet. Finish registering your invitation "
                    "address first, then ask for access."
                )
            )
        return cleaned


class DashboardFilterForm(forms.Form):
    """The dashboard's filter box (a GET form, its field written out in
    ``agreements/dashboard.html``): text matched against agreement number, customer and
    program. Sort and page are read leniently by ``agreements.dashboard``."""

    q = forms.CharField(
        label=_("Filter by agreement number, customer or program"),
        max_length=FILTER_MAX_LENGTH,
        required=False,
    )
