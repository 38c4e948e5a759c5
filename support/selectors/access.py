"""Who is support staff, and what support staff may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from support.models import SupportAction, SupportRequest

SUPPORT_GROUP = "Support staff"  # made by migration 0004 and holds SUPPORT_PERMISSION
SUPPORT_PERMISSION = "support.use_support_console"


def is_support_staff(*, user: Any) -> bool:
    """Active users holding ``SUPPORT_PERMISSION`` (through the "Support staff" group or
    directly), and active superusers. Django's permission check keeps the user's permissions for
    the request, so asking again costs no query."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(SUPPORT_PERMISSION)


def support_requests_visible_to(*, user: Any) -> QuerySet[SupportRequest]:
    if is_support_staff(user=user):
        return SupportRequest.objects.all()
    return SupportRequest.objects.none()


def support_actions_visible_to(*, user: Any) -> QuerySet[SupportAction]:
    if is_support_staff(user=user):
        return SupportAction.objects.all()
    return SupportAction.objects.none()
