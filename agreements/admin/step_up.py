"""The admin's side of the step-up rule: keep a submitted form, sign in again, check it and
save it again; removals go through the services (the last-administrator rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

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
    """Deleting through the service, so the last administrator's own Administrator stays, and
    removing Administrator needs a recent sign-in (one page, one bulk action: all or nothing)."""

    # The service that removes one row: (obj, *, actor, step_up_at); set by each admin.
    remove_service: Callable[..., object]

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        allowed = obj is not None and self.has_delete_permission(request, obj)
        if allowed and request.method == "POST":
            try:
                type(self).remove_service(
                    obj, actor=request.user, step_up_at=self.step_up_at(request)
                )
            except services.LastAdministrator:
                self.message_user(request, LAST_ADMIN_MESSAGE, messages.ERROR)
                return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])
            except services.StepUpRequired:
                return send_to_step_up(request)
            self.message_user(request, _("Removed %(obj)s.") % {"obj": obj}, messages.SUCCESS)
            return HttpResponseRedirect(reverse(f"admin:{self._url_name}_changelist"))
        self.take_pending(request)  # back from signing in again: the same page, to confirm
        return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and "step_up" in request.GET:
            pending = self.take_pending(request)
            if pending is None or pending.get("action") != "remove_selected":
                return HttpResponseRedirect(request.path)
            return self._confirm_removal(request, pending.getlist(ACTION_CHECKBOX_NAME))
        return super().changelist_view(request, extra_context)

    def _confirm_removal(self, request, selected: list[str]) -> TemplateResponse:
        """Back from signing in again for a bulk removal: the rows still selected (and still in
        scope), with a button that runs the action again."""
        rows = self.get_queryset(request).filter(pk__in=selected)
        return TemplateResponse(
            request,
            "agreements/admin/confirm_removal.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Remove the selected rows"),
                "rows": rows,
                "checkbox_name": ACTION_CHECKBOX_NAME,
                "changelist_url": request.path,
            },
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Remove the selected rows"), permissions=["delete"])
    def remove_selected(self, request, queryset):
        removed = refused = 0
        step_up_at = self.step_up_at(request)
        rows = list(queryset)
        selected = [str(obj.pk) for obj in rows]  # a removal clears obj.pk, even rolled back
        try:
            with transaction.atomic():  # a row that needs a recent sign-in undoes the others
                for obj in rows:
                    try:
                        type(self).remove_service(obj, actor=request.user, step_up_at=step_up_at)
                        removed += 1
                    except services.LastAdministrator:
                        refused += 1
        except services.StepUpRequired:
            data = QueryDict(mutable=True)
            data["action"] = "remove_selected"
            data.setlist(ACTION_CHECKBOX_NAME, selected)
            return send_to_step_up(request, data)
        if removed:
            self.message_user(
                request,
                ngettext("Removed %(n)d row.", "Removed %(n)d rows.", removed) % {"n": removed},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(request, LAST_ADMIN_MESSAGE, messages.ERROR)

    @property
    def _url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}"
