from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from agreements.forms import agreement_number_validator
from support.models import SupportRequest
from vlsc_portal.addresses import CanonicalEmailFormField
from vlsc_portal.forms import AccessibleForm

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

error_code_validator = RegexValidator(
    r"^E[0-9]{2}$", _("Enter the error code as shown on the error page, such as E03.")
)
reference_id_validator = RegexValidator(
    r"^[A-Z2-9]{12}$",
    _("Enter the 12-character reference id as shown on the error page, or leave it empty."),
)


class ContactSupportForm(AccessibleForm):
    name = forms.CharField(label=_("Your name"), max_length=100)
    email = CanonicalEmailFormField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We send the acknowledgement and our answer here."),
    )
    agreement_number = forms.CharField(
        label=_("Agreement number (optional)"),
        max_length=32,
        required=False,
        validators=[agreement_number_validator],
    )
    topic = forms.ChoiceField(label=_("What is it about?"), choices=SupportRequest.Topic.choices)
    message = forms.CharField(
        label=_("Your message"),
        min_length=10,
        max_length=2000,
        help_text=_("Up to 2,000 characters. Do not include passwords."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    error_code = forms.CharField(
        label=_("Error code (optional)"),
        max_length=3,
        required=False,
        validators=[error_code_validator],
    )
    reference_id = forms.CharField(
        label=_("Reference id from the error page (optional)"),
        max_length=12,
        required=False,
        validators=[reference_id_validator],
    )

    def clean_agreement_number(self) -> str:
        return self.cleaned_data["agreement_number"].strip().upper()

    def clean_error_code(self) -> str:
        return self.cleaned_data["error_code"].strip().upper()

    def clean_reference_id(self) -> str:
        return self.cleaned_data["reference_id"].strip().upper()


class LookupForm(AccessibleForm):
    q = forms.CharField(
        label=_("Email address, agreement number or reference id"),
        max_length=254,
        help_text=_("A reference id is on every error page (12 characters) or starts with SR-."),
    )


def _reason_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.CharField:
    return forms.CharField(label=label, max_length=500, help_text=help_text)


class ReasonForm(AccessibleForm):
    """A support action on a registration, with the reason kept in the audit record; each
    action asks it in its own words (one labelled field per action on the person's page)."""

    reason: forms.CharField


class ResendReasonForm(ReasonForm):
    reason = _reason_field(
        _("Why resend it (kept in the audit record)"),
        _("For example: the person asked on the phone, request SR-…"),
    )


class CancelReasonForm(ReasonForm):
    reason = _reason_field(
        _("Why cancel it (kept in the audit record)"),
        _("For example: the person registered the wrong address, request SR-…"),
    )


ACTION_FORMS: dict[str, type[ReasonForm]] = {"resend": ResendReasonForm, "cancel": CancelReasonForm}


class AnswerForm(AccessibleForm):
    answer = forms.CharField(
        label=_("Answer"),
        max_length=4000,
        help_text=_("Emailed to the requester as it is."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class CloseForm(AccessibleForm):
    reason = forms.CharField(
        label=_("Why close it (optional, kept in the audit record)"),
        max_length=500,
        required=False,
    )
