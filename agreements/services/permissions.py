"""Permission grants, and the rule that the last administrator may not remove their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import verified_emails
from agreements import selectors
from agreements.models import (
    AccessChange,
    Agreement,
    AgreementContact,
    AuditEvent,
    PermissionGrant,
)
from agreements.services import access_changes
from agreements.services.audit import audit
from agreements.services.recent_sign_in import require_recent_sign_in
from agreements.services.staff import sync_staff_access_for_addresses
from vlsc_portal.addresses import canonical_email

Kind = PermissionGrant.Kind
Action = AuditEvent.Action


class LastAdministrator(Exception):
    """The actor would remove the agreement's last Administrator: their own."""

    def __init__(self, agreement: Agreement):
        self.agreement = agreement
        super().__init__(agreement.number)


def lock_administrators(*, agreement: Agreement) -> None:
    """Hold the agreement's row until the transaction ends (``SELECT … FOR UPDATE``; call it
    inside ``transaction.atomic``), so removals of its administrators run one after the other
    and :func:`refuse_last_administrator` sees what the earlier one left: two administrators
    stepping down at once cannot leave none."""
    list(Agreement.objects.select_for_update().filter(pk=agreement.pk).values_list("pk"))


def refuse_last_administrator(
    *,
    agreement: Agreement,
    email: str,
    actor: User | None,
    grant: PermissionGrant | None = None,
    contact: AgreementContact | None = None,
) -> None:
    """The last administrator may not remove their own Administrator permission: raises
    LastAdministrator when ``email`` is one of ``actor``'s verified addresses and no other
    Administrator (grant or contact, not counting ``grant`` or ``contact`` being removed) is left
    on the agreement. ``actor`` None (the system) is never refused. Reads only: a caller about
    to remove the row locks the agreement first (:func:`lock_administrators`)."""
    if actor is None:
        return
    own = set(verified_emails(user=actor))
    if email not in own:
        return
    grants = PermissionGrant.objects.filter(agreement=agreement, kind=Kind.ADMINISTRATOR)
    contacts = AgreementContact.objects.filter(agreement=agreement, role__in=selectors.ADMIN_ROLES)
    if grant is not None:
        grants = grants.exclude(pk=grant.pk)
    if contact is not None:
        contacts = contacts.exclude(pk=contact.pk)
    remaining = set(grants.values_list("email", flat=True)) | set(
        contacts.values_list("email", flat=True)
    )
    if not remaining:
        raise LastAdministrator(agreement)


def permission_save(
    *, grant: PermissionGrant, actor: User | None, step_up_at: datetime | None = None
) -> PermissionGrant:
    """Grant a permission, or change one. A new agreement, address or kind is recorded for the
    access change email, or, for an address new to the agreement, queues one welcome email
    (``access_changes.record_replacement``; nothing on a re-save); taking Administrator away from
    oneself as the last administrator raises LastAdministrator; giving or taking Administrator (a
    new Administrator grant, a change to or from it, or of its address or agreement) raises
    StepUpRequired without the actor's recent sign-in (``require_recent_sign_in``), before anything
    is written; audited; staff access re-synced. Raises InvalidEmailAddress for an address with no
    canonical form (``vlsc_portal.addresses``)."""
    before = None
    if grant.pk:
        before = (
            PermissionGrant.objects.filter(pk=grant.pk)
            .values("email", "kind", "agreement_id")
            .first()
        )
    grant.email = canonical_email(grant.email)
    changed = before is None or (before["email"], before["kind"]) != (grant.email, grant.kind)
    after = {"email": grant.email, "kind": grant.kind, "agreement_id": grant.agreement_id}
    if before is None and grant.granted_by_id is None and actor is not None:
        grant.granted_by = actor
    with transaction.atomic():
        recent_sign_in = None
        if before and before["kind"] == Kind.ADMINISTRATOR and changed:
            lock_administrators(agreement=grant.agreement)
            refuse_last_administrator(
                agreement=grant.agreement, email=before["email"], actor=actor, grant=grant
            )
        if before != after and Kind.ADMINISTRATOR in (grant.kind, before and before["kind"]):
            recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
        grant.save()
        if changed or recent_sign_in is not None:
            audit(
                actor=actor,
                action=Action.PERMISSION_GRANTED if before is None else Action.PERMISSION_CHANGED,
                agreement=grant.agreement,
                subject_email=grant.email,
                detail=str(grant.get_kind_display())
                + (f" (was {before['kind']} {before['email']})" if before else ""),
                step_up_at=recent_sign_in,
            )
        if before != after:
            access_changes.record_replacement(
                subject=AccessChange.Subject.PERMISSION,
                before=(before["agreement_id"], before["email"], before["kind"])
                if before
                else None,
                agreement=grant.agreement,
                email=grant.email,
                value=grant.kind,
                actor=actor,
                access=str(grant.get_kind_display()),
                kinds=[grant.kind],
                change_key=f"grant:{grant.pk}:{grant.kind}",
            )
    sync_staff_access_for_addresses({grant.email, before["email"] if before else grant.email})
    return grant


def permission_grant(
    *,
    agreement: Agreement,
    email: str,
    kind: str,
    actor: User | None,
    step_up_at: datetime | None = None,
) -> PermissionGrant:
    """Give ``email`` the permission ``kind`` on the agreement (idempotent: an existing grant
    is returned unchanged). Administrator needs ``step_up_at`` (see ``permission_save``)."""
    existing = PermissionGrant.objects.filter(
        agreement=agreement, email=canonical_email(email), kind=kind
    ).first()
    if existing:
        return existing
    return permission_save(
        grant=PermissionGrant(agreement=agreement, email=email, kind=kind, granted_by=actor),
        actor=actor,
        step_up_at=step_up_at,
    )


def permission_revoke(
    *, grant: PermissionGrant, actor: User | None, step_up_at: datetime | None = None
) -> None:
    """Remove a permission; recorded for the access change email. For Administrator: raises
    LastAdministrator for the last administrator's own (checked under the agreement's lock),
    then StepUpRequired without the actor's recent sign-in; nothing is written when either is
    raised."""
    with transaction.atomic():
        recent_sign_in = None
        if grant.kind == Kind.ADMINISTRATOR:
            lock_administrators(agreement=grant.agreement)
            refuse_last_administrator(
                agreement=grant.agreement, email=grant.email, actor=actor, grant=grant
            )
            recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
        audit(
            actor=actor,
            action=Action.PERMISSION_REMOVED,
            agreement=grant.agreement,
            subject_email=grant.email,
            detail=str(grant.get_kind_display()),
            step_up_at=recent_sign_in,
        )
        access_changes.record_change(
            agreement_id=grant.agreement_id,
            email=grant.email,
            subject=AccessChange.Subject.PERMISSION,
            value=grant.kind,
            granted=False,
            actor=actor,
        )
        grant.delete()
    sync_staff_access_for_addresses({grant.email})


def last_administrator_warnings(
    *,
    actor: User | None,
    grants: Iterable[PermissionGrant] = (),
    contacts: Iterable[AgreementContact] = (),
) -> list[str]:
    """What a removal confirmation page says before ``actor`` confirms removing ``grants`` and
    ``contacts`` together: one sentence per agreement they would leave without an
    Administrator (grant or contact), saying whether the removal will be refused (the actor's
    own Administrator is among them: :func:`refuse_last_administrator`, as ``delete_queryset``
    applies it, removing the actor's own rows last) or will leave the agreement with none (a
    superuser removing other people's); and one per agreement where the actor removes their own
    last Administrator while others keep theirs (allowed, but the agreement leaves their
    admin). Empty when none of that happens. Reads only."""
    grants, contacts = list(grants), list(contacts)
    admin_grants = [g for g in grants if g.kind == Kind.ADMINISTRATOR]
    admin_contacts = [c for c in contacts if c.role in selectors.ADMIN_ROLES]
    removed = admin_grants + admin_contacts
    if not removed:
        return []
    own = set(verified_emails(user=actor)) if actor is not None else set()
    sentences: list[str] = []
    agreements = Agreement.objects.filter(pk__in={row.agreement_id for row in removed})
    for agreement in agreements.order_by("number"):
        left = set(
            PermissionGrant.objects.filter(agreement=agreement, kind=Kind.ADMINISTRATOR)
            .exclude(pk__in=[g.pk for g in admin_grants])
            .values_list("email", flat=True)
        ) | set(
            AgreementContact.objects.filter(agreement=agreement, role__in=selectors.ADMIN_ROLES)
            .exclude(pk__in=[c.pk for c in admin_contacts])
            .values_list("email", flat=True)
        )
        going = [row for row in removed if row.agreement_id == agreement.pk]
        own_going = any(row.email in own for row in going)
        if left:
            if own_going and not left & own:
                sentences.append(
                    _(
                        "This removes your own Administrator permission on agreement "
                        "%(number)s: you will no longer be able to administer it here. Its "
                        "other administrators keep theirs."
                    )
                    % {"number": agreement.number}
                )
            continue
        if own_going:
            sentences.append(
                _(
                    "This would remove the last Administrator of agreement %(number)s: yours. "
                    "The removal will be refused and nothing will be removed. Give another "
                    "person Administrator first, or leave your own out of the selection."
                )
                % {"number": agreement.number}
            )
        else:
            sentences.append(
                _(
                    "This removes the last Administrator of agreement %(number)s: nobody will "
                    "be able to manage its permissions until someone is given Administrator "
                    "again."
                )
                % {"number": agreement.number}
            )
    return sentences
