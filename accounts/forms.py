from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from vlsc_portal import timezones
from vlsc_portal.addresses import CanonicalEmailFormField
from vlsc_portal.forms import AccessibleForm


class BusinessEmailForm(AccessibleForm):
    email = CanonicalEmailFormField(
        label=_("Business email address"),
        max_length=254,
        help_text=_("The work address your organisation gave you, for example jane@contoso.com."),
        error_messages={
            "required": _("Enter your business email address."),
            "invalid": _("Enter an email address in the form jane@contoso.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class InvitationAddressForm(AccessibleForm):
    email = CanonicalEmailFormField(
        label=_("Business email address where you received the invitation to register"),
        max_length=254,
        help_text=_(
            "Usually the address on your agreement. If it is not the address you signed in "
            "with, we email it a link to confirm that it is yours."
        ),
        error_messages={
            "required": _("Enter the address where you received the invitation."),
            "invalid": _("Enter an email address in the form jane@contoso.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class ConversionStartForm(AccessibleForm):
    name = forms.CharField(
        label=_("Your name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    work_email = CanonicalEmailFormField(
        label=_("Work email address"),
        max_length=254,
        help_text=_("The address your organisation gave you, not a personal one."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SignupCodeForm(AccessibleForm):
    code = forms.RegexField(
        label=_("Signup code"),
        regex=r"^\s*[0-9]{3}\s?[0-9]{3}\s*$",
        max_length=20,
        help_text=_("The six digits in the email we sent you."),
        error_messages={"invalid": _("Enter the six digits of the signup code.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class CountryForm(AccessibleForm):
    country = forms.ChoiceField(
        label=_("Country or region of your organisation"),
        help_text=_("You cannot change this after you finish the signup process."),
        error_messages={
            "required": _("Choose your country or region."),
            "invalid_choice": _("Choose your country or region from the list."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        from django_countries import countries

        super().__init__(*args, **kwargs)
        country = cast(forms.ChoiceField, self.fields["country"])
        country.choices = [("", _("Choose your country or region")), *countries]


class PreferencesForm(AccessibleForm):
    """The preferences page (README "Languages and time zones"): both are required, and start
    from what the portal uses for the person now."""

    language = forms.ChoiceField(
        label=_("Language"),
        help_text=_("The language of the portal's pages and of the emails it sends you."),
        error_messages={
            "required": _("Choose a language from the list."),
            "invalid_choice": _("Choose a language from the list."),
        },
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates and times are shown in this time zone, for example Europe/Paris."),
        error_messages={
            "required": _("Choose a time zone from the list."),
            "invalid_choice": _("Choose a time zone from the list."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = cast(forms.ChoiceField, self.fields["language"])
        language.choices = settings.LANGUAGES
        time_zone = cast(forms.ChoiceField, self.fields["time_zone"])
        time_zone.choices = timezones.choices()
