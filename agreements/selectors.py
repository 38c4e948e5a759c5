"""Reads about agreements. Access (contact roles ∪ permission grants, matched on the user's
verified addresses) is computed here once; the dashboard, agreement pages and the admin use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from allauth.account.models import EmailAddress
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Conversion, Registration, User
from accounts.selectors import proven_sign_in_address, verified_emails
from agreements.models import (
    AccessRequest,
    Agreement,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from agreements.roles import KIND_ALLOWS, KIND_ORDER, ROLE_PERMISSIONS, kinds_for

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

Role = AgreementContact.Role
Kind = PermissionGrant.Kind
INVITATION_VALID_FOR = timedelta(days=30)


_LABELS: dict[str | None, dict[str, dict[str, str]]] = {}


def _labels() -> dict[str, dict[str, str]]:
    """Role names, kind names and what each kind allows, as text in the active language; built
    once per language (a dashboard row would otherwise translate each label again)."""
    language = get_language()
    labels = _LABELS.get(language)
    if labels is None:
        labels = {
            "role": {value: str(label) for value, label in Role.choices},
            "kind": {value: str(label) for value, label in Kind.choices},
            "allows": {kind: str(text) for kind, text in KIND_ALLOWS.items()},
        }
        _LABELS[language] = labels
    return labels


@dataclass
class AgreementAccess:
    """One agreement a user may reach, and through what."""

    agreement: Agreement
    roles: set[str] = field(default_factory=set)
    grants: set[str] = field(default_factory=set)

    @cached_property
    def kinds(self) -> list[str]:
        return kinds_for(roles=self.roles, grants=self.grants)

    @cached_property
    def role_labels(self) -> list[str]:
        names = _labels()["role"]
        return [names[r] for r in Role.values if r in self.roles]

    @cached_property
    def kind_labels(self) -> list[str]:
        names = _labels()["kind"]
        return [names[k] for k in self.kinds]

    @cached_property
    def may(self) -> list[str]:
        allows = _labels()["allows"]
        return [allows[k] for k in self.kinds]

    @property
    def is_administrator(self) -> bool:
        return Kind.ADMINISTRATOR in self.kinds


def roles_and_kinds(
    *, emails: list[str], agreements: QuerySet[Agreement] | list[int] | None = None
) -> dict[int, tuple[set[str], set[str]]]:
    """One query (a UNION of plain values): ``{agreement id: (contact roles, granted kinds)}`` of
    these addresses, on ``agreements`` (a queryset or ids) when given."""
    contacts = AgreementContact.objects.filter(email__in=emails)
    grants = PermissionGrant.objects.filter(email__in=emails)
    if agreements is not None:
        contacts = contacts.filter(agreement__in=agreements)
        grants = grants.filter(agreement__in=agreements)
    by_agreement: dict[int, tuple[set[str], set[str]]] = {}
    pairs = (
        contacts.order_by()
        .values_list("agreement_id", "role", Value("role"))
        .union(grants.order_by().values_list("agreement_id", "kind", Value("grant")), all=True)
    )
    for agreement_id, value, source in pairs:
        roles, kinds = by_agreement.setdefault(agreement_id, (set(), set()))
        (roles if source == "role" else kinds).add(value)
    return by_agreement


def access_by_agreement(
    *, emails: list[str], agreements: QuerySet[Agreement] | None = None
) -> dict[int, AgreementAccess]:
    """Two queries whatever the data size: the contact roles and grants on these addresses
    (one UNION, plain values), then the agreements they name, by number. Returns
    ``{agreement id: AgreementAccess}``."""
    rows: dict[int, AgreementAccess] = {}
    if not emails:
        return rows
    by_agreement = roles_and_kinds(emails=emails, agreements=agreements)
    if not by_agreement:
        return rows
    for agreement in Agreement.objects.filter(pk__in=by_agreement).order_by("number"):
        roles, kinds = by_agreement[agreement.pk]
        rows[agreement.pk] = AgreementAccess(agreement, roles, kinds)
    return rows


def access_for_addresses(*, emails: list[str]) -> list[AgreementAccess]:
    """The agreements these addresses (canonical) reach, by agreement number, whoever owns them:
    what confirming an invitation address would unlock; three queries in all."""
    return list(access_by_agreement(emails=emails).values())


def user_access(*, user: User) -> list[AgreementAccess]:
    """Every agreement the user may reach, by agreement number; three queries in all."""
    return list(access_by_agreement(emails=verified_emails(user=user)).values())


def agreement_access(*, user: User, number: str) -> AgreementAccess | None:
    """The user's access to one agreement, or None (also when no such agreement exists)."""
    emails = verified_emails(user=user)
    agreements = Agreement.objects.filter(number=(number or "").strip().upper())
    rows = access_by_agreement(emails=emails, agreements=agreements)
    return next(iter(rows.values()), None)


ADMIN_ROLES = [role for role, kinds in ROLE_PERMISSIONS.items() if Kind.ADMINISTRATOR in kinds]


def administered_agreement_ids(*, emails: list[str]) -> QuerySet[Agreement, Any]:
    grants = PermissionGrant.objects.filter(email__in=emails, kind=Kind.ADMINISTRATOR)
    contacts = AgreementContact.objects.filter(email__in=emails, role__in=ADMIN_ROLES)
    return Agreement.objects.filter(
        Q(pk__in=grants.values("agreement_id")) | Q(pk__in=contacts.values("agreement_id"))
    ).values("pk")


def agreements_administered_by(*, user: User) -> QuerySet[Agreement]:
    """What a VLSC administrator sees in the admin: agreements where one of their verified
    addresses holds Administrator (by grant or by contact role). Superusers see all."""
    if user.is_superuser:
        return Agreement.objects.all()
    emails = verified_emails(user=user)
    if not emails or not user.is_active:
        return Agreement.objects.none()
    return Agreement.objects.filter(pk__in=administered_agreement_ids(emails=emails))


def is_vlsc_administrator(*, user: User) -> bool:
    emails = verified_emails(user=user)
    return bool(emails) and administered_agreement_ids(emails=emails).exists()


def may_become_administrator(*, user: User) -> bool:
    """Registering would make ``user`` a VLSC administrator: an address the portal already
    links to them but they have not verified (the one the identity provider proved at sign-in,
    or the invitation address of their pending registration) holds Administrator."""
    if not user.is_active:
        return False
    known = {proven_sign_in_address(user=user), user.email}
    known |= set(
        Registration.objects.filter(
            user=user, state=Registration.State.PENDING, expires_at__gt=timezone.now()
        ).values_list("invitation_address", flat=True)
    )
    unverified = sorted({e.lower() for e in known if e} - set(verified_emails(user=user)))
    return bool(unverified) and administered_agreement_ids(emails=unverified).exists()


def contacts_visible_to(*, user: User) -> QuerySet[AgreementContact]:
    qs = AgreementContact.objects.select_related("agreement")
    if user.is_superuser:
        return qs
    return qs.filter(agreement__in=agreements_administered_by(user=user))


def permissions_visible_to(*, user: User) -> QuerySet[PermissionGrant]:
    qs = PermissionGrant.objects.select_related("agreement", "granted_by")
    if user.is_superuser:
        return qs
    return qs.filter(agreement__in=agreements_administered_by(user=user))


def invitations_visible_to(*, user: User) -> QuerySet[Invitation]:
    qs = Invitation.objects.select_related("agreement")
    if user.is_superuser:
        return qs
    return qs.filter(agreement__in=agreements_administered_by(user=user))


def access_requests_visible_to(*, user: User) -> QuerySet[AccessRequest]:
    qs = AccessRequest.objects.select_related("agreement", "requester", "decided_by")
    if user.is_superuser:
        return qs
    return qs.filter(agreement__in=agreements_administered_by(user=user))


def audit_events_visible_to(*, user: User) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("agreement", "actor")
    if user.is_superuser:
        return qs
    return qs.filter(agreement__in=agreements_administered_by(user=user))


def administrator_emails(*, agreement: Agreement) -> set[str]:
    """Addresses holding Administrator on the agreement, by grant or by contact role."""
    grants = PermissionGrant.objects.filter(agreement=agreement, kind=Kind.ADMINISTRATOR)
    contacts = AgreementContact.objects.filter(agreement=agreement, role__in=ADMIN_ROLES)
    return set(grants.values_list("email", flat=True)) | set(
        contacts.values_list("email", flat=True)
    )


def _verified_owners(emails: list[str]) -> dict[str, User]:
    """Who verified each of these (canonical) addresses, compared exactly."""
    rows = EmailAddress.objects.filter(email__in=emails, verified=True).select_related("user")
    return {row.email: row.user for row in rows}


def has_active_administrator(*, agreement: Agreement) -> bool:
    """Someone can decide: an administrator address verified by an active user."""
    owners = _verified_owners(sorted(administrator_emails(agreement=agreement)))
    return any(user.is_active for user in owners.values())


def address_is_registered(*, email: str) -> bool:
    """An active user verified ``email`` (canonical): its owner signs in rather than registers."""
    return bool(
        EmailAddress.objects.filter(email=email, verified=True, user__is_active=True).exists()
    )


def address_language(*, email: str) -> str | None:
    """The language an email to ``email`` (canonical) is written in: the stored language of a
    user who verified it, else ``None`` (the sender's, see
    ``notifications.services.render_email``)."""
    return (
        User.objects.filter(
            pk__in=EmailAddress.objects.filter(email=email, verified=True).values("user_id")
        )
        .exclude(language="")
        .order_by("-last_login", "pk")  # several people verified it: the latest to sign in
        .values_list("language", flat=True)
        .first()
    )


def users_with_address(*, email: str) -> list[User]:
    """Users who verified ``email`` (canonical), compared exactly."""
    return list(
        User.objects.filter(
            pk__in=EmailAddress.objects.filter(email=email, verified=True).values("user_id")
        )
    )


class InvitedState:
    SENT = _("Invitation sent")
    EXPIRED = _("Invitation expired")
    ACCEPTED = _("Invitation accepted")
    NOT_INVITED = _("Not invited")


def with_acceptance(invitations: QuerySet[Invitation]) -> QuerySet[Invitation]:
    """Annotate each invitation with when its address was first registered (a registration
    confirmed, or a conversion completed, to that address) at or after the invitation was first
    sent: ``registered_at`` and ``converted_at``, read by :func:`invitation_state`. Earlier
    registrations are not looked at: they say nothing about the invitation."""
    registered = Registration.objects.filter(
        state=Registration.State.COMPLETED,
        invitation_address=OuterRef("email"),
        completed_at__gte=OuterRef("first_sent_at"),
    ).order_by("completed_at")
    converted = Conversion.objects.filter(
        state=Conversion.State.COMPLETED,
        work_email=OuterRef("email"),
        completed_at__gte=OuterRef("first_sent_at"),
    ).order_by("completed_at")
    return invitations.annotate(
        registered_at=Subquery(registered.values("completed_at")[:1]),
        converted_at=Subquery(converted.values("completed_at")[:1]),
    )


def invitation_state(invitation: Invitation, *, now: datetime | None = None) -> str:
    """The state of the invitation itself, for the agreement's administrators: sent, expired
    (INVITATION_VALID_FOR after it was last sent) or accepted (its address was registered while
    it was open). Never whether the address's owner registered before it or signs in: an
    administrator may add anyone's address, and learns from it only what the invitation did.
    Needs the annotations of :func:`with_acceptance`."""
    now = now or timezone.now()
    closes = invitation.last_sent_at + INVITATION_VALID_FOR
    taken = [getattr(invitation, name, None) for name in ("registered_at", "converted_at")]
    accepted_at = min((at for at in taken if at is not None), default=None)
    if accepted_at is not None and accepted_at <= closes:
        return str(InvitedState.ACCEPTED)
    if closes < now:
        return str(InvitedState.EXPIRED)
    return str(InvitedState.SENT)


@dataclass
class InvitedAddress:
    email: str
    roles: list[StrPromise]
    kinds: list[StrPromise]
    state: str
    invitation: Invitation | None
    last_sent_at: datetime | None


def invited_addresses(*, agreement: Agreement, now: datetime | None = None) -> list[InvitedAddress]:
    """Each address with access to the agreement and the state of its invitation
    (:func:`invitation_state`; "not invited" where none was sent). Three queries whatever the
    number of addresses."""
    now = now or timezone.now()
    roles: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {}
    for email, role in AgreementContact.objects.filter(agreement=agreement).values_list(
        "email", "role"
    ):
        roles.setdefault(email, set()).add(role)
    for email, kind in PermissionGrant.objects.filter(agreement=agreement).values_list(
        "email", "kind"
    ):
        kinds.setdefault(email, set()).add(kind)
    emails = sorted(set(roles) | set(kinds))
    invitations = {
        i.email: i for i in with_acceptance(Invitation.objects.filter(agreement=agreement))
    }
    rows = []
    for email in emails:
        invitation = invitations.get(email)
        if invitation is None:
            state = str(InvitedState.NOT_INVITED)
        else:
            state = invitation_state(invitation, now=now)
        rows.append(
            InvitedAddress(
                email=email,
                roles=[Role(r).label for r in sorted(roles.get(email, ()))],
                kinds=[
                    Kind(k).label for k in sorted(kinds.get(email, ()), key=KIND_ORDER.__getitem__)
                ],
                state=state,
                invitation=invitation,
                last_sent_at=invitation.last_sent_at if invitation else None,
            )
        )
    return rows
