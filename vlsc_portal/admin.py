"""What every app's admin shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


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
