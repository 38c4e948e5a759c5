"""Staff access for VLSC administrators: the administrators group and staff status."""

from __future__ import annotations

from django.contrib.auth.models import Group

from accounts.models import User
from agreements import selectors

ADMINISTRATORS_GROUP = "VLSC administrators"
# What the group may do in the admin; the querysets restrict it to administered agreements. The
# group and these permissions are made by migration 0005 (a test keeps the two equal).
ADMINISTRATOR_MODEL_PERMISSIONS = [
    ("agreements", "view_agreement"),
    ("agreements", "view_agreementcontact"),
    ("agreements", "add_agreementcontact"),
    ("agreements", "change_agreementcontact"),
    ("agreements", "delete_agreementcontact"),
    ("agreements", "view_permissiongrant"),
    ("agreements", "add_permissiongrant"),
    ("agreements", "change_permissiongrant"),
    ("agreements", "delete_permissiongrant"),
    ("agreements", "view_invitation"),
    ("agreements", "view_accessrequest"),
    ("agreements", "change_accessrequest"),
    ("agreements", "view_auditevent"),
]


def administrators_group() -> Group:
    """The group made, with ``ADMINISTRATOR_MODEL_PERMISSIONS``, by migration 0005."""
    return Group.objects.get(name=ADMINISTRATORS_GROUP)


def sync_staff_access(*, user: User) -> bool:
    """Give or withdraw admin access from the user's Administrator permissions: staff status
    and the administrators group. Superusers are never demoted; staff status that did not come
    from the group (support staff) is left alone. Safe to repeat. Returns whether the user is a
    VLSC administrator now."""
    is_admin = user.is_active and selectors.is_vlsc_administrator(user=user)
    group = administrators_group()
    in_group = user.groups.filter(pk=group.pk).exists()
    if is_admin:
        if not in_group:
            user.groups.add(group)
        if not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
    elif in_group:
        user.groups.remove(group)
        others = user.groups.exists()
        if user.is_staff and not user.is_superuser and not others:
            User.objects.filter(pk=user.pk).update(is_staff=False)
            user.is_staff = False
    return is_admin


def sync_staff_access_for_addresses(emails: set[str]) -> None:
    """``sync_staff_access`` for every user holding one of ``emails`` (after a contact or grant
    on those addresses changed). Safe to repeat."""
    for email in {e for e in emails if e}:
        for user in selectors.users_with_address(email=email):
            sync_staff_access(user=user)
