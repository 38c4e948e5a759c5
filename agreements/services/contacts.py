"""Agreement contacts: adding, changing and removing them."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import User
from agreements import selectors
from agreements.models import (
    AccessChange,
    AgreementContact,
    AuditEvent,
)
from agreements.roles import ROLE_PERMISSIONS
from agreements.services import access_changes
from agreements.services.audit import audit
from agreements.services.permissions import lock_administrators, refuse_last_administrator
from agreements.services.recent_sign_in import require_recent_sign_in
from agreements.services.staff import sync_staff_access_for_addresses
from vlsc_portal.addresses import canonical_email

Action = AuditEvent.Action


def contact_save(
    *, contact: AgreementContact, actor: User | None, step_up_at: datetime | None = None
) -> AgreementContact:
    """Create or change a contact. A new agreement, address or role on it is recorded for the access
    change email, or, for an address new to the agreement, queues one welcome email
    (``access_changes.record_replacement``; nothing on a re-save without change); audited; staff
    access re-synced for the addresses involved. Adding an Online Administrator, or changing one's
    role, address or agreement, gives or takes Administrator: it needs the actor's recent sign-in
    (``require_recent_sign_in``: raises StepUpRequired before anything is written). Raises
    InvalidEmailAddress for an address with no canonical form."""
    before = None
    if contact.pk:
        before = (
            AgreementContact.objects.filter(pk=contact.pk)
            .values("email", "role", "agreement_id")
            .first()
        )
    contact.email = canonical_email(contact.email)
    after = {"email": contact.email, "role": contact.role, "agreement_id": contact.agreement_id}
    recent_sign_in = None
    if before != after and (
        contact.role in selectors.ADMIN_ROLES
        or (before is not None and before["role"] in selectors.ADMIN_ROLES)
    ):
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    with transaction.atomic():
        contact.save()
        changed = before is None or (before["email"], before["role"]) != (
            contact.email,
            contact.role,
        )
        if changed or recent_sign_in is not None:
            audit(
                actor=actor,
                action=Action.CONTACT_ADDED if before is None else Action.CONTACT_CHANGED,
                agreement=contact.agreement,
                subject_email=contact.email,
                detail=str(contact.get_role_display())
                + (f" (was {before['role']} {before['email']})" if before else ""),
                step_up_at=recent_sign_in,
            )
        if before != after:
            access_changes.record_replacement(
                subject=AccessChange.Subject.ROLE,
                before=(before["agreement_id"], before["email"], before["role"])
                if before
                else None,
                agreement=contact.agreement,
                email=contact.email,
                value=contact.role,
                actor=actor,
                access=str(contact.get_role_display()),
                kinds=sorted(ROLE_PERMISSIONS[contact.role]),
                change_key=f"contact:{contact.pk}:{contact.role}",
            )
    sync_staff_access_for_addresses({contact.email, before["email"] if before else contact.email})
    return contact


def contact_remove(
    *, contact: AgreementContact, actor: User | None, step_up_at: datetime | None = None
) -> None:
    """Remove a contact; recorded for the access change email. For an Online Administrator: raises
    LastAdministrator for the last administrator's own (checked under the agreement's lock), then
    StepUpRequired without the actor's recent sign-in; nothing is written when either is raised."""
    with transaction.atomic():
        recent_sign_in = None
        if contact.role in selectors.ADMIN_ROLES:
            lock_administrators(agreement=contact.agreement)
            refuse_last_administrator(
                agreement=contact.agreement, email=contact.email, actor=actor, contact=contact
            )
            recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
        audit(
            actor=actor,
            action=Action.CONTACT_REMOVED,
            agreement=contact.agreement,
            subject_email=contact.email,
            detail=str(contact.get_role_display()),
            step_up_at=recent_sign_in,
        )
        access_changes.record_change(
            agreement_id=contact.agreement_id,
            email=contact.email,
            subject=AccessChange.Subject.ROLE,
            value=contact.role,
            granted=False,
            actor=actor,
        )
        contact.delete()
    sync_staff_access_for_addresses({contact.email})
