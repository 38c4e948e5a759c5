"""What every app's admin shares, and the admin site itself."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponseBase


class ReadOnlyAdminMixin:
    """For records kept as evidence (sign-in events, audit, emails sent, support requests):
    visible in the admin to whoever may view them, never added, changed or deleted there. Put
    it before ``admin.ModelAdmin`` (or an app's own base) so that its answers win."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CheckedSelectionMixin:
    """An admin action's selected rows (``_selected_action``) are primary keys as the change
    list wrote them. Anything else comes from a forged or mangled form: a 400, where Django's
    ``response_action`` would filter by it and fail with a 500 (a ValueError for ``abc``, an
    OverflowError on SQLite for a number past the column's range). The site mixes it into
    every model admin (:class:`PortalAdminSite`), the portal's and other apps' alike."""

    model: Any

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponseBase | None:
        pk = self.model._meta.pk
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            try:
                pk.run_validators(pk.to_python(value))  # the type, then the database's range
            except ValidationError:
                raise BadRequest("an admin action's selection is not a list of row ids") from None
        return super().response_action(request, queryset)  # type: ignore[misc]


class PortalAdminSite(admin.AdminSite):
    """``admin.site`` (``vlsc_portal.admin_config``): Django's site, whose every model admin,
    registered here by any app (ours, Django's groups and sites, allauth's), checks its actions'
    selections (:class:`CheckedSelectionMixin`)."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedSelectionMixin):
            admin_class = type(
                admin_class.__name__,
                (CheckedSelectionMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
