"""What an API caller may see and change: the agreements and their rows, scoped once here.

A delegated caller has exactly the person's rights: the agreements their verified addresses
reach are visible, and those they administer (``agreements.selectors.agreements_administered_by``,
the admin's own scope) are the ones whose contacts, grants, invitations, requests and audit
trail they may read and change. An application has what an agreement's administrators
authorised it for, while the authorisation is not revoked: read, or read and write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.selectors import verified_emails
from agreements import selectors as agreement_selectors
from agreements.models import Agreement, AgreementContact, PermissionGrant
from api import problems
from api.auth import Caller
from api.models import ApplicationAuthorisation

Access = ApplicationAuthorisation.Access


def active_authorisations(caller: Caller) -> QuerySet[ApplicationAuthorisation]:
    try:
        tenant = uuid.UUID(caller.tenant_id)
    except ValueError:
        return ApplicationAuthorisation.objects.none()
    return ApplicationAuthorisation.objects.filter(
        tenant_id=tenant, client_id=caller.client_id, revoked_at__isnull=True
    )


def visible_agreements(caller: Caller) -> QuerySet[Agreement]:
    """The agreements the caller may list."""
    if caller.user is None:
        return Agreement.objects.filter(pk__in=active_authorisations(caller).values("agreement"))
    if caller.user.is_superuser:
        return Agreement.objects.all()
    emails = verified_emails(user=caller.user)
    if not emails:
        return Agreement.objects.none()
    contacts = AgreementContact.objects.filter(email__in=emails).values("agreement_id")
    grants = PermissionGrant.objects.filter(email__in=emails).values("agreement_id")
    return Agreement.objects.filter(Q(pk__in=contacts) | Q(pk__in=grants))


def managed_agreements(caller: Caller) -> QuerySet[Agreement]:
    """The agreements whose rows the caller may read."""
    if caller.user is None:
        return visible_agreements(caller)
    return agreement_selectors.agreements_administered_by(user=caller.user)


@dataclass(frozen=True)
class Scope:
    """One agreement the caller manages, and whether they may change it."""

    agreement: Agreement
    may_write: bool


def managed_agreement(caller: Caller, number: str, *, write: bool = False) -> Scope:
    """The agreement ``number`` if the caller manages it (and may change it, with ``write``).
    An agreement they cannot see is 404 whether or not it exists; one they see but do not
    administer, or may only read, is 403."""
    number = (number or "").strip().upper()
    if caller.user is None:  # one statement: the authorisation and its agreement
        authorisation = (
            active_authorisations(caller)
            .filter(agreement__number=number)
            .select_related("agreement")
            .first()
        )
        if authorisation is None:
            raise problems.not_found(_("There is no such agreement, or not for you."))
        may_write = caller.may_write and authorisation.access == Access.READ_WRITE
        if write and not may_write:
            raise problems.forbidden(
                _("This application may only read this agreement."), slug="read-only"
            )
        return Scope(agreement=authorisation.agreement, may_write=may_write)
    agreement = managed_agreements(caller).filter(number=number).first()
    if agreement is None:
        if caller.user is not None and visible_agreements(caller).filter(number=number).exists():
            raise problems.forbidden(
                _("You are not an administrator of this agreement."), slug="not-administrator"
            )
        raise problems.not_found(_("There is no such agreement, or not for you."))
    if write and not caller.may_write:
        raise problems.insufficient_scope(_("Changes need the Permissions.ReadWrite scope."))
    return Scope(agreement=agreement, may_write=caller.may_write)


def writable_agreement_ids(caller: Caller, managed: set[int]) -> set[int]:
    """Which of the ``managed`` agreements the caller may change (one statement at most)."""
    if not caller.may_write or not managed:
        return set()
    if caller.user is not None:
        return set(managed)
    return set(
        active_authorisations(caller)
        .filter(agreement_id__in=managed, access=Access.READ_WRITE)
        .values_list("agreement_id", flat=True)
    )
