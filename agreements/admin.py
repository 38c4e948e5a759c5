"""The Django admin as VLSC administrators use it: every queryset, foreign-key choice,
permission check and action is scoped by ``selectors.agreements_administered_by``; superusers
see everything."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect, QueryDict
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.services import step_up
from accounts.views.step_up import send_to_step_up
from agreements import selectors, services
from agreements.models import (
    AccessRequest,
    Agreement,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from vlsc_portal.addresses import InvalidEmailAddress
from vlsc_portal.admin import ReadOnlyAdminMixin


def _administered(request: HttpRequest):
    """The agreements this request's user administers, computed once per request."""
    if not hasattr(request, "_administered_agreements"):
        request._administered_agreements = selectors.agreements_administered_by(user=request.user)
    return request._administered_agreements


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


class StepUpAdminMixin:
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
        data = step_up.take_pending_post(
            request.session, user_id=request.user.pk, path=request.path, token=token
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


class ScopedToAgreementAdmin(admin.ModelAdmin):
    """Rows that belong to an agreement: visible and changeable only on administered ones."""

    def scoped_queryset(self, request: HttpRequest):
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest):
        return self.scoped_queryset(request)

    def _in_scope(self, request: HttpRequest, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        agreement_id = getattr(obj, "agreement_id", None)
        return agreement_id is not None and _administered(request).filter(pk=agreement_id).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._in_scope(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agreement":
            kwargs["queryset"] = _administered(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["number", "program", "customer", "status"]
    list_filter = ["program", "status"]
    search_fields = ["number", "customer", "contacts__email", "permissions__email"]
    readonly_fields = ["invited_addresses"]
    fields = [
        "number",
        "program",
        "customer",
        "reseller",
        "status",
        "start_date",
        "end_date",
        "invited_addresses",
    ]

    def get_queryset(self, request):
        return _administered(request)

    def has_view_permission(self, request, obj=None):
        in_scope = obj is None or _administered(request).filter(pk=obj.pk).exists()
        return super().has_view_permission(request, obj) and in_scope

    # Agreement master data comes from the legal form: only superusers change it.
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("Invited addresses"))
    def invited_addresses(self, obj: Agreement) -> str:
        if obj.pk is None:
            return "—"
        return render_to_string(
            "agreements/admin/invited_addresses.html",
            {
                "rows": selectors.invited_addresses(agreement=obj),
                "invitations_url": reverse("admin:agreements_invitation_changelist")
                + f"?agreement__id__exact={obj.pk}",
            },
        )


class RemovalRefusedMixin(StepUpAdminMixin):
    """Deleting through the service, so the last administrator's own Administrator stays, and
    removing Administrator needs a recent sign-in (one page, one bulk action: all or nothing)."""

    remove_service = None

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


LAST_ADMIN_MESSAGE = _(
    "You are the last administrator of this agreement: you cannot remove your own "
    "Administrator permission. Give another person Administrator first."
)


def _remove_contact(obj, *, actor, step_up_at):
    services.contact_remove(contact=obj, actor=actor, step_up_at=step_up_at)


def _remove_grant(obj, *, actor, step_up_at):
    services.permission_revoke(grant=obj, actor=actor, step_up_at=step_up_at)


@admin.register(AgreementContact)
class AgreementContactAdmin(RemovalRefusedMixin, ScopedToAgreementAdmin):
    list_display = ["email", "name", "role", "agreement_number"]
    list_filter = ["role"]
    search_fields = ["email", "name", "agreement__number", "agreement__customer"]
    list_select_related = ["agreement"]
    fields = ["agreement", "role", "name", "email"]
    actions = ["remove_selected"]
    remove_service = staticmethod(_remove_contact)

    def scoped_queryset(self, request):
        return selectors.contacts_visible_to(user=request.user)

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    def save_model(self, request, obj, form, change):
        services.contact_save(contact=obj, actor=request.user, step_up_at=self.step_up_at(request))


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


@admin.register(PermissionGrant)
class PermissionGrantAdmin(RemovalRefusedMixin, ScopedToAgreementAdmin):
    form = PermissionGrantForm
    list_display = ["email", "kind", "agreement_number", "granted_by", "granted_at"]
    list_filter = ["kind"]
    search_fields = ["email", "agreement__number", "agreement__customer"]
    list_select_related = ["agreement", "granted_by"]
    readonly_fields = ["granted_by", "granted_at"]
    actions = ["remove_selected"]
    remove_service = staticmethod(_remove_grant)

    def scoped_queryset(self, request):
        return selectors.permissions_visible_to(user=request.user)

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def save_model(self, request, obj, form, change):
        services.permission_save(grant=obj, actor=request.user, step_up_at=self.step_up_at(request))


@admin.register(Invitation)
class InvitationAdmin(ScopedToAgreementAdmin):
    list_display = ["email", "agreement_number", "state", "first_sent_at", "last_sent_at"]
    list_filter = ["agreement"]
    search_fields = ["email", "agreement__number"]
    list_select_related = ["agreement"]
    readonly_fields = ["agreement", "email", "first_sent_at", "last_sent_at", "times_sent"]
    actions = ["resend"]

    def scoped_queryset(self, request):
        return selectors.with_acceptance(selectors.invitations_visible_to(user=request.user))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_filter(self, request):
        return ["agreement"] if request.user.is_superuser else []

    @admin.display(description=_("agreement"), ordering="agreement__number")
    def agreement_number(self, obj):
        return obj.agreement.number

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        return selectors.invitation_state(obj)

    @admin.action(description=_("Resend the invitation"), permissions=["view"])
    def resend(self, request, queryset):
        sent = too_soon = 0
        for invitation in queryset:
            try:
                services.resend_invitation(invitation=invitation, actor=request.user)
                sent += 1
            except services.ResendTooSoon:
                too_soon += 1
        if sent:
            self.message_user(
                request,
                ngettext("Resent %(n)d invitation.", "Resent %(n)d invitations.", sent)
                % {"n": sent},
                messages.SUCCESS,
            )
        if too_soon:
            self.message_user(
                request,
                ngettext(
                    "%(n)d invitation was sent less than 10 minutes ago; try again later.",
                    "%(n)d invitations were sent less than 10 minutes ago; try again later.",
                    too_soon,
                )
                % {"n": too_soon},
                messages.WARNING,
            )


class AccessRequestDecisionForm(forms.ModelForm):
    DECISIONS = [("", _("Not decided yet")), ("accept", _("Accept")), ("deny", _("Deny"))]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, required=False)

    class Meta:
        model = AccessRequest
        fields = ["decision_message"]


@admin.register(AccessRequest)
class AccessRequestAdmin(StepUpAdminMixin, ScopedToAgreementAdmin):
    form = AccessRequestDecisionForm
    list_display = [
        "created_at",
        "agreement_number",
        "email",
        "kind",
        "state",
        "needs_support",
    ]
    list_filter = ["state", "needs_support"]
    search_fields = ["agreement_number", "email"]
    list_select_related = ["agreement", "requester"]
    readonly_fields = [
        "created_at",
        "agreement_number",
        "agreement",
        "email",
        "kind",
        "reason",
        "state",
        "needs_support",
        "decided_by",
        "decided_at",
    ]

    def scoped_queryset(self, request):
        return selectors.access_requests_visible_to(user=request.user)

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.state == AccessRequest.State.PENDING:
            return fields + ["decision", "decision_message"]
        return fields + ["decision_message"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != AccessRequest.State.PENDING:
            return [*self.readonly_fields, "decision_message"]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        decision = form.cleaned_data.get("decision")
        if not decision:
            return
        try:
            services.access_request_decide(
                access_request=obj,
                actor=request.user,
                accept=decision == "accept",
                message=form.cleaned_data.get("decision_message", ""),
                step_up_at=self.step_up_at(request),
            )
        except services.RequestAlreadyDecided:
            self.message_user(request, _("This request was already decided."), messages.ERROR)
            return
        except InvalidEmailAddress:
            self.message_user(
                request,
                _(
                    "This request's address is not a valid email address (it holds an invisible "
                    "character, quotation marks or the like), so it cannot be accepted. Deny it."
                ),
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            _("The request was accepted and the requester was emailed.")
            if decision == "accept"
            else _("The request was denied and the requester was emailed."),
            messages.SUCCESS,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ScopedToAgreementAdmin):
    """Audit records: read-only."""

    list_display = ["at", "action", "agreement_number", "subject_email", "actor_email"]
    list_filter = ["action"]
    search_fields = ["agreement_number", "subject_email", "actor_email"]
    list_select_related = ["agreement", "actor"]

    def scoped_queryset(self, request):
        return selectors.audit_events_visible_to(user=request.user)
