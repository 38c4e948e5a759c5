"""What each contact role and each permission kind lets a person do: the documented table.

The README's "Agreements and permissions" section copies these tables; a test keeps them equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from agreements.models import AgreementContact, PermissionGrant

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

Role = AgreementContact.Role
Kind = PermissionGrant.Kind

# Being named as a contact on the legal agreement form (way 1 of the FAQ) carries these kinds.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PRIMARY_CONTACT: frozenset(
        {Kind.LICENSING_INFO_VIEWER, Kind.DOWNLOADS, Kind.PRODUCT_KEYS}
    ),
    Role.NOTICES_CORRESPONDENT: frozenset({Kind.LICENSING_INFO_VIEWER}),
    Role.ONLINE_ADMINISTRATOR: frozenset(
        {Kind.ADMINISTRATOR, Kind.LICENSING_INFO_VIEWER, Kind.DOWNLOADS, Kind.PRODUCT_KEYS}
    ),
    Role.SOFTWARE_ASSURANCE_MANAGER: frozenset(
        {Kind.LICENSING_INFO_VIEWER, Kind.SOFTWARE_ASSURANCE_MANAGER}
    ),
    Role.ONLINE_SERVICES_MANAGER: frozenset(
        {Kind.LICENSING_INFO_VIEWER, Kind.ONLINE_SERVICES_MANAGER}
    ),
    Role.SUBSCRIPTIONS_MANAGER: frozenset({Kind.LICENSING_INFO_VIEWER, Kind.SUBSCRIPTIONS_MANAGER}),
}

# What a permission kind allows, in the words the dashboard and agreement pages show.
KIND_ALLOWS: dict[str, StrPromise] = {
    Kind.ADMINISTRATOR: _("Assign, edit and remove other people's permissions on this agreement"),
    Kind.LICENSING_INFO_VIEWER: _("View the agreement's licensing information (view only)"),
    Kind.DOWNLOADS: _("Download the licensed software"),
    Kind.PRODUCT_KEYS: _("View and request product keys"),
    Kind.SOFTWARE_ASSURANCE_MANAGER: _("Manage Software Assurance benefits"),
    Kind.ONLINE_SERVICES_MANAGER: _("Manage online services"),
    Kind.SUBSCRIPTIONS_MANAGER: _("Manage subscriptions"),
}

# Display order: the order of the Kind choices.
KIND_ORDER = {value: index for index, value in enumerate(Kind.values)}


def kinds_for(*, roles: set[str] | frozenset[str], grants: set[str] | frozenset[str]) -> list[str]:
    """The union rule: a person's kinds on an agreement are their explicit grants plus every
    kind their contact roles carry, in display order."""
    kinds = set(grants)
    for role in roles:
        kinds |= ROLE_PERMISSIONS[role]
    return sorted(kinds, key=KIND_ORDER.__getitem__)
