"""Form plumbing shared by the apps: fields tied to their help and error text for screen readers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    _FormBase = forms.BaseForm  # the mixin goes before a form class
else:
    _FormBase = object


class AccessibleFormMixin(_FormBase):
    """Set ``aria-describedby`` (help text, then each error) and ``aria-invalid`` on widgets,
    matching the ids that ``templates/includes/field.html`` renders, whenever an error is added.
    A required field left empty says which one (its label), where Django's "This field is
    required." would not in the error summary, unless the form gives the field a message of its
    own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's own message is the very object a field copies from Field; one the form gives
        # is another, and an identity check translates neither.
        default = forms.Field.default_error_messages["required"]
        for field in self.fields.values():
            if field.required and field.error_messages.get("required") is default:
                # Per form, in the request's language: the fields are copies of the class's.
                field.error_messages = {
                    **field.error_messages,
                    "required": _("“%(label)s” is required.") % {"label": field.label},
                }
        self._describe_fields()

    def add_error(self, field: str | None, error: Any) -> None:
        """Every error, whether cleaning or a view (a service's refusal) adds it, is tied to its
        field at once."""
        super().add_error(field, error)
        self._describe_fields()

    def _describe_fields(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            bound = self[name]
            ids = [f"{bound.auto_id}-help"] if field.help_text else []
            ids += [f"{bound.auto_id}-error-{i}" for i in range(1, len(errors.get(name, [])) + 1)]
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            if name in errors:
                field.widget.attrs["aria-invalid"] = "true"


class AccessibleForm(AccessibleFormMixin, forms.Form):
    pass
