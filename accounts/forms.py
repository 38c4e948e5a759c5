from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vlsc_portal.forms import AccessibleForm


class BusinessEmailForm(AccessibleForm):
    email = forms.EmailField(
        label=_("Business email address"),
        max_length=254,
        help_text=_("The work address your organisation gave you, for example jane@contoso.com."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class InvitationAddressForm(AccessibleForm):
    email = forms.EmailField(
        label=_("Business email address where you received the invitation to register"),
        max_length=254,
        help_text=_(
            "Usually the address on your agreement. If it is not the address you signed in "
            "with, we email it a link to confirm that it is yours."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
