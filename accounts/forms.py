from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class BusinessEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Business email address"),
        max_length=254,
        help_text=_("The work address your organisation gave you, for example jane@contoso.com."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
