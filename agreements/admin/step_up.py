"""The admin's side of the step-up rule: keep a submitted form, sign in again, check it and
save it again; deletions go through the services (the last-administrator rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.selectors import verified_emails
from accounts.services import step_up
from accounts.views.step_up import send_to_step_up
from agreements import services
from agreements.admin.scope import LAST_ADMIN_MESSAGE

RESUBMIT_MESSAGE = _(
    "You signed in again. Nothing has been changed yet: check what you entered and save it to "
    "make the change."
)


def _prefilled(form_class, data: QueryDict):
    """``form_class`` whose unbound forms start from ``data`` (a submitted form, read as a bound
    form would read it), for the person to check and submit again."""

    class Prefilled(form_class):
        def __init__(self, *args, **kwargs):
            if not args and kwargs.get("data") is None:
                initial = dict(kwargs.get("initial") or {})
                for name, field in self.base_fields.items():
                    if not field.widget.value_omitted_from_data(data, {}, name):
                        initial[name] = field.widget.value_from_datadict(data, {}, name)
                kwargs["initial"] = initial
            super().__init__(*args, **kwargs)

    Prefilled.__name__ = form_class.__name__
    return Prefilled


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]  # the mixins go before a ModelAdmin
else:
    _AdminBase = object


class StepUpAdminMixin(_AdminBase):
    """Giving or taking Administrator needs a recent sign-in: the services check it
    (``services.require_recent_sign_in``) against the session's (``step_up_at``) and raise
    StepUpRequired before writing anything. Here a POST that meets it keeps what was submitted
    and sends the person to sign in again; coming back (``?step_up=<key>``, once, for the same
    user and form) the form shows what they had entered, to check and save again. A form is
    never submitted by itself after the round trip."""

    def step_up_at(self, request: HttpRequest):
        return step_up.signed_in_at(request.session)

    def take_pending(self, request: HttpRequest) -> QueryDict | None:
        token = request.GET.get("step_up")
        if request.method != "GET" or not token:
            return None
        user_id = request.user.pk
        if user_id is None:  # the admin's requests are signed in
            return None
        data = step_up.take_pending_post(
            request.session, user_id=user_id, path=request.path, token=token
        )
        if data is not None:
            self.message_user(request, RESUBMIT_MESSAGE, messages.INFO)
        return data

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except services.StepUpRequired:  # raised in save_model: the transaction rolled back
                return send_to_step_up(request)
        request._step_up_pending = self.take_pending(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        pending = getattr(request, "_step_up_pending", None)
        return form if pending is None else _prefilled(form, pending)


class RemovalRefusedMixin(StepUpAdminMixin):
    """Deleting goes through the removal service (``remove_service``) from Django's own hooks,
    ``delete_model`` (the delete page) and ``delete_queryset`` (the "Delete selected" action),
    so the last administrator's own Administrator stays and removing Administrator needs a
    recent sign-in. Both run inside a transaction: a refusal undoes the whole deletion (rows,
    audit and log entries) and the page says why; a missing recent sign-in sends the person to
    sign in again and brings the same confirmation back. The confirmation pages (Django's,
    listing what goes) say first when the removal would take an agreement's last Administrator,
    and whether it will be refused (``removal_warnings``)."""

    # The service that removes one row: (obj, *, actor, step_up_at); set by each admin.
    remove_service: Callable[..., object]
    # What the confirmation pages say first when the last Administrator would go:
    # (actor, rows) -> sentences (``services.last_administrator_warnings``); set by each admin.
    removal_warnings: Callable[..., list[str]]
    delete_confirmation_template = "agreements/admin/delete_confirmation.html"
    delete_selected_confirmation_template = "agreements/admin/delete_selected_confirmation.html"

    def render_delete_form(self, request, context):
        """The delete page, saying first when the row is an Administrator that would go
        (``removal_warnings``)."""
        obj = context.get("object")
        rows = [obj] if obj is not None else []
        context["last_administrator_warnings"] = type(self).removal_warnings(request.user, rows)
        return super().render_delete_form(request, context)

    def get_actions(self, request):
        """Django's "Delete selected" action, its confirmation page saying first when the
        selection holds an Administrator that would go (``removal_warnings``)."""
        actions = super().get_actions(request)
        entry = actions.get("delete_selected")
        if entry is not None:
            action, name, description = entry

            def delete_selected(modeladmin, request, queryset):
                response = action(modeladmin, request, queryset)
                if isinstance(response, TemplateResponse) and response.context_data is not None:
                    response.context_data["last_administrator_warnings"] = type(
                        self
                    ).removal_warnings(request.user, list(queryset))
                return response

            actions["delete_selected"] = (delete_selected, name, description)
        return actions

    def delete_model(self, request, obj) -> None:
        type(self).remove_service(obj, actor=request.user, step_up_at=self.step_up_at(request))

    def delete_queryset(self, request, queryset) -> None:
        """All or nothing. The actor's own rows go last, so the rule sees what the whole
        deletion leaves: removing one's own Administrator together with every other one is
        refused, whatever the order of the selection."""
        own = set(verified_emails(user=request.user))
        step_up_at = self.step_up_at(request)
        with transaction.atomic():
            for obj in sorted(queryset, key=lambda row: (row.email in own, row.pk)):
                type(self).remove_service(obj, actor=request.user, step_up_at=step_up_at)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method != "POST":
            self.take_pending(request)  # back from signing in again: the same page, to confirm
            return super().delete_view(request, object_id, extra_context)
        try:  # Django's delete view is atomic: a refusal in delete_model rolled it all back
            return super().delete_view(request, object_id, extra_context)
        except services.LastAdministrator:
            self.message_user(request, LAST_ADMIN_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])
        except services.StepUpRequired:
            return send_to_step_up(request)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and "step_up" in request.GET:
            pending = self.take_pending(request)
            if pending is None or pending.get("action") != "delete_selected":
                return HttpResponseRedirect(request.path)
            return self._confirm_removal(request, pending.getlist(ACTION_CHECKBOX_NAME))
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        try:
            # "Delete selected" logs the deletions, then calls delete_queryset: undo both.
            with transaction.atomic():
                return super().changelist_view(request, extra_context)
        except services.LastAdministrator:
            self.message_user(request, LAST_ADMIN_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except services.StepUpRequired:
            data = QueryDict(mutable=True)
            data["action"] = "delete_selected"
            data.setlist(ACTION_CHECKBOX_NAME, selected)
            return send_to_step_up(request, data)

    def _confirm_removal(self, request, selected: list[str]) -> TemplateResponse:
        """Back from signing in again for a bulk deletion: the rows still selected (and still in
        scope), with a button that confirms "Delete selected" for them."""
        rows = self.get_queryset(request).filter(pk__in=selected)
        return TemplateResponse(
            request,
            "agreements/admin/confirm_removal.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Delete the selected rows"),
                "rows": rows,
                "last_administrator_warnings": type(self).removal_warnings(
                    request.user, list(rows)
                ),
                "checkbox_name": ACTION_CHECKBOX_NAME,
                "changelist_url": request.path,
            },
        )
