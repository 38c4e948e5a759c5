"""Writes about agreements: contacts, permissions, invitations, access requests, staff access.

Every change is audited. Welcome emails go through the outbox with a dedupe key per address,
agreement and change, so saving the same row again sends nothing.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import verified_emails
from accounts.services import step_up
from agreements import selectors
from agreements.models import (
    AccessRequest,
    Agreement,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from agreements.roles import KIND_ALLOWS, ROLE_PERMISSIONS
from notifications.models import OutboundEmail
from notifications.services import queue_email, render_email
from vlsc_portal import ratelimits
from vlsc_portal.addresses import canonical_email

Kind = PermissionGrant.Kind
Action = AuditEvent.Action
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
RESEND_INTERVAL = timedelta(minutes=10)
StepUpRequired = step_up.StepUpRequired


class LastAdministrator(Exception):
    """The actor would remove the agreement's last Administrator: their own."""

    def __init__(self, agreement: Agreement):
        self.agreement = agreement
        super().__init__(agreement.number)


class ResendTooSoon(Exception):
    def __init__(self, invitation: Invitation):
        self.invitation = invitation
        super().__init__(invitation.email)


class RequestAlreadyDecided(Exception):
    pass


def portal_url() -> str:
    return settings.PORTAL_URL + "/"


def _key(*parts: object) -> str:
    return "agreements:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _actor_email(actor: User | None) -> str:
    return (actor.email or "") if actor else ""


def audit(
    *,
    actor: User | None,
    action: str,
    agreement: Agreement | None,
    subject_email: str = "",
    detail: str = "",
    agreement_number: str = "",
    step_up_at: datetime | None = None,
) -> AuditEvent:
    """Record one event. ``step_up_at``: the actor's recent sign-in the change needed, kept in
    its own column and said in the detail."""
    if step_up_at is not None:
        detail = " ".join(
            part
            for part in (
                detail,
                _("(recent sign-in at %(when)s UTC)")
                % {"when": f"{step_up_at.astimezone(UTC):%Y-%m-%d %H:%M}"},
            )
            if part
        )
    return AuditEvent.objects.create(
        actor=actor,
        actor_email=_actor_email(actor),
        action=action,
        agreement=agreement,
        agreement_number=agreement.number if agreement else agreement_number,
        subject_email=subject_email,
        detail=detail[:500],
        step_up_at=step_up_at,
    )


def require_recent_sign_in(*, actor: User | None, step_up_at: datetime | None) -> datetime | None:
    """The rule for making someone an Administrator or taking it away, wherever it is done
    (admin, API, any later path): the person doing it signed in within the last 10 minutes
    (``step_up_at``, the ``auth_time`` of their sign-in). Returns the time to record in the audit
    event; raises StepUpRequired otherwise. ``actor`` None is the system itself (demo seed,
    commands), which has no sign-in: nothing to check, nothing to record."""
    if actor is None:
        return None
    return step_up.require_recent_sign_in(step_up_at=step_up_at)


# --- welcome emails and invitations -------------------------------------------------------


def _welcome_context(*, agreement: Agreement, access: str, kinds: list[str]) -> dict[str, object]:
    return {
        "agreement": agreement,
        "access": access,
        "allows": [KIND_ALLOWS[k] for k in kinds],
        "portal_url": portal_url(),
    }


def send_welcome(
    *, agreement: Agreement, email: str, access: str, kinds: list[str], change_key: str
) -> bool:
    """Queue one welcome email for this address, agreement and change, and record the
    invitation. Repeating it with the same ``change_key`` sends nothing. Returns True if an
    email was queued now."""
    now = timezone.now()
    email = canonical_email(email)
    key = _key("welcome", agreement.pk, email, change_key)
    if OutboundEmail.objects.filter(dedupe_key=key).exists():
        return False
    subject, body = render_email(
        "agreements/email/welcome",
        _welcome_context(agreement=agreement, access=access, kinds=kinds),
    )
    queue_email(
        to=email,
        subject=subject,
        body=body,
        kind="agreement_welcome",
        dedupe_key=key,
    )
    invitation, created = Invitation.objects.get_or_create(
        agreement=agreement,
        email=email,
        defaults={"first_sent_at": now, "last_sent_at": now},
    )
    if not created:
        Invitation.objects.filter(pk=invitation.pk).update(last_sent_at=now)
    return True


def resend_invitation(*, invitation: Invitation, actor: User | None) -> Invitation:
    """Send the invitation again. At most once per RESEND_INTERVAL per invitation (one
    conditional update, so two administrators clicking at once send one); raises ResendTooSoon."""
    now = timezone.now()
    updated = Invitation.objects.filter(
        pk=invitation.pk, last_sent_at__lte=now - RESEND_INTERVAL
    ).update(last_sent_at=now, times_sent=F("times_sent") + 1)
    if not updated:
        raise ResendTooSoon(invitation)
    invitation.refresh_from_db()
    agreement = invitation.agreement
    rows = selectors._access_by_agreement(
        emails=[invitation.email], agreements=Agreement.objects.filter(pk=agreement.pk)
    )
    row = rows.get(agreement.pk)
    kinds = row.kinds if row else []
    subject, body = render_email(
        "agreements/email/welcome_reminder",
        _welcome_context(
            agreement=agreement,
            access=", ".join(row.role_labels + row.kind_labels) if row else "",
            kinds=kinds,
        ),
    )
    queue_email(
        to=invitation.email,
        subject=subject,
        body=body,
        kind="agreement_welcome",
        dedupe_key=_key("resend", invitation.pk, invitation.times_sent),
    )
    audit(
        actor=actor,
        action=Action.INVITATION_RESENT,
        agreement=agreement,
        subject_email=invitation.email,
    )
    return invitation


# --- contacts ---------------------------------------------------------------------------


def contact_save(
    *, contact: AgreementContact, actor: User | None, step_up_at: datetime | None = None
) -> AgreementContact:
    """Create or change a contact. A new address or role on it queues one welcome email (none
    on a re-save without change); audited; staff access re-synced for the addresses involved.
    Adding an Online Administrator, or changing one's role, address or agreement, gives or takes
    Administrator: it needs the actor's recent sign-in (``require_recent_sign_in``: raises
    StepUpRequired before anything is written). Raises InvalidEmailAddress for an address with
    no canonical form."""
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
        if changed:
            send_welcome(
                agreement=contact.agreement,
                email=contact.email,
                access=str(contact.get_role_display()),
                kinds=sorted(ROLE_PERMISSIONS[contact.role]),
                change_key=f"contact:{contact.pk}:{contact.role}",
            )
    _sync_for_addresses({contact.email, before["email"] if before else contact.email})
    return contact


def contact_remove(
    *, contact: AgreementContact, actor: User | None, step_up_at: datetime | None = None
) -> None:
    """Remove a contact. For an Online Administrator: raises LastAdministrator for the last
    administrator's own, then StepUpRequired without the actor's recent sign-in."""
    recent_sign_in = None
    if contact.role in selectors.ADMIN_ROLES:
        _refuse_last_administrator(
            agreement=contact.agreement, email=contact.email, actor=actor, contact=contact
        )
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    with transaction.atomic():
        audit(
            actor=actor,
            action=Action.CONTACT_REMOVED,
            agreement=contact.agreement,
            subject_email=contact.email,
            detail=str(contact.get_role_display()),
            step_up_at=recent_sign_in,
        )
        contact.delete()
    _sync_for_addresses({contact.email})


# --- permissions ------------------------------------------------------------------------


def _refuse_last_administrator(
    *,
    agreement: Agreement,
    email: str,
    actor: User | None,
    grant: PermissionGrant | None = None,
    contact: AgreementContact | None = None,
) -> None:
    """The last administrator may not remove their own Administrator permission."""
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
    """Grant a permission, or change one. A new address or kind queues one welcome email (none
    on a re-save); taking Administrator away from oneself as the last administrator raises
    LastAdministrator; giving or taking Administrator (a new Administrator grant, a change to or
    from it, or of its address or agreement) raises StepUpRequired without the actor's recent
    sign-in (``require_recent_sign_in``), before anything is written; audited; staff access
    re-synced. Raises InvalidEmailAddress for an address with no canonical form
    (``vlsc_portal.addresses``)."""
    before = None
    if grant.pk:
        before = (
            PermissionGrant.objects.filter(pk=grant.pk)
            .values("email", "kind", "agreement_id")
            .first()
        )
    grant.email = canonical_email(grant.email)
    changed = before is None or (before["email"], before["kind"]) != (grant.email, grant.kind)
    if before and before["kind"] == Kind.ADMINISTRATOR and changed:
        _refuse_last_administrator(
            agreement=grant.agreement, email=before["email"], actor=actor, grant=grant
        )
    after = {"email": grant.email, "kind": grant.kind, "agreement_id": grant.agreement_id}
    recent_sign_in = None
    if before != after and Kind.ADMINISTRATOR in (grant.kind, before and before["kind"]):
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    if before is None and grant.granted_by_id is None and actor is not None:
        grant.granted_by = actor
    with transaction.atomic():
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
        if changed:
            send_welcome(
                agreement=grant.agreement,
                email=grant.email,
                access=str(grant.get_kind_display()),
                kinds=[grant.kind],
                change_key=f"grant:{grant.pk}:{grant.kind}",
            )
    _sync_for_addresses({grant.email, before["email"] if before else grant.email})
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
    """Remove a permission. For Administrator: raises LastAdministrator for the last
    administrator's own, then StepUpRequired without the actor's recent sign-in."""
    recent_sign_in = None
    if grant.kind == Kind.ADMINISTRATOR:
        _refuse_last_administrator(
            agreement=grant.agreement, email=grant.email, actor=actor, grant=grant
        )
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    with transaction.atomic():
        audit(
            actor=actor,
            action=Action.PERMISSION_REMOVED,
            agreement=grant.agreement,
            subject_email=grant.email,
            detail=str(grant.get_kind_display()),
            step_up_at=recent_sign_in,
        )
        grant.delete()
    _sync_for_addresses({grant.email})


# --- staff access for VLSC administrators -------------------------------------------------


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


def _sync_for_addresses(emails: set[str]) -> None:
    for email in {e for e in emails if e}:
        for user in selectors.users_with_address(email=email):
            sync_staff_access(user=user)


# --- access requests --------------------------------------------------------------------


def request_access(
    *, requester: User, email: str, agreement_number: str, kind: str, reason: str = ""
) -> AccessRequest:
    """Record a request for access by agreement number. Whether the number exists is never
    told to the requester: an unknown number is kept as unmatched and nobody is asked. With no
    active administrator on the agreement the request is flagged for support. A pending
    request for the same number is returned as it is (safe to repeat). Every call counts
    against the requester's ``access_request`` limit, atomically (``vlsc_portal.ratelimits``):
    past it, raises ``RateLimited`` and records nothing. Raises InvalidEmailAddress for an
    ``email`` with no canonical form."""
    email = canonical_email(email)
    ratelimits.consume(ratelimits.Use("access_request", user=requester.pk))
    number = agreement_number.strip().upper()
    agreement = Agreement.objects.filter(number=number).first()
    state = AccessRequest.State.PENDING if agreement else AccessRequest.State.UNMATCHED
    existing = AccessRequest.objects.filter(
        requester=requester, agreement_number=number, state=state
    ).first()
    if existing:
        return existing
    needs_support = bool(agreement) and not selectors.has_active_administrator(agreement=agreement)
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                requester=requester,
                email=email,
                agreement_number=number,
                agreement=agreement,
                kind=kind,
                reason=reason,
                state=state,
                needs_support=needs_support,
            )
            audit(
                actor=requester,
                action=Action.ACCESS_REQUESTED,
                agreement=agreement,
                agreement_number=number,
                subject_email=email,
                detail=str(Kind(kind).label),
            )
    except IntegrityError:  # the same request, made at the same moment in another tab
        return AccessRequest.objects.get(requester=requester, agreement_number=number, state=state)
    return access_request


def _decide(
    *, access_request: AccessRequest, actor: User, state: str, message: str
) -> AccessRequest:
    now = timezone.now()
    updated = AccessRequest.objects.filter(
        pk=access_request.pk, state=AccessRequest.State.PENDING
    ).update(state=state, decided_by=actor, decided_at=now, decision_message=message)
    if not updated:
        raise RequestAlreadyDecided(access_request)
    access_request.refresh_from_db()
    return access_request


def access_request_decide(
    *,
    access_request: AccessRequest,
    actor: User,
    accept: bool,
    message: str = "",
    step_up_at: datetime | None = None,
) -> AccessRequest:
    """Accept (grant the permission asked for) or deny a pending request, and email the
    requester with the administrator's message. Raises RequestAlreadyDecided if it is not
    pending any more (two administrators at once: the first wins), and InvalidEmailAddress,
    changing nothing, when accepting a request whose address has no canonical form (a row
    older than canonical addresses that their migration reported). Accepting a request for
    Administrator raises StepUpRequired without the actor's recent sign-in, before anything
    changes."""
    if accept:
        canonical_email(access_request.email)
    agreement = access_request.agreement
    recent_sign_in = None
    if accept and access_request.kind == Kind.ADMINISTRATOR:
        recent_sign_in = require_recent_sign_in(actor=actor, step_up_at=step_up_at)
    with transaction.atomic():
        decided = _decide(
            access_request=access_request,
            actor=actor,
            state=AccessRequest.State.ACCEPTED if accept else AccessRequest.State.DENIED,
            message=message,
        )
        audit(
            actor=actor,
            action=Action.ACCESS_ACCEPTED if accept else Action.ACCESS_DENIED,
            agreement=agreement,
            subject_email=decided.email,
            detail=message,
            step_up_at=recent_sign_in,
        )
        if accept:
            permission_grant(
                agreement=agreement,
                email=decided.email,
                kind=decided.kind,
                actor=actor,
                step_up_at=step_up_at,
            )
        subject, body = render_email(
            "agreements/email/access_decision",
            {
                "accepted": accept,
                "number": decided.agreement_number,
                "kind": Kind(decided.kind).label,
                "message": message,
                "portal_url": portal_url(),
            },
        )
        queue_email(
            to=decided.email,
            subject=subject,
            body=body,
            kind="access_request_decision",
            user=decided.requester,
            dedupe_key=_key("access-decision", decided.pk),
        )
    return decided
