"""People are told when their access to an agreement changes.

The contact and permission services call :func:`record_change` and :func:`record_replacement` inside
the transaction that makes the change, so every caller (the admin, the provisioning API, access
requests) records it, and a change rolled back records nothing. A periodic task
(``agreements.send_access_change_emails``, every minute) then runs
:func:`send_due_access_change_emails`: the changes to one address on one agreement, once none has
been made for ``ACCESS_CHANGE_EMAIL_DELAY`` seconds, become ONE email through the outbox, saying
what changed, by whom, and what the person can now do there; the agreement's audit trail records
it (``ACCESS_EMAIL_QUEUED``, linked to the outbox row).

Rules:
- A role or permission given and taken away again (or taken and given back) within one batch
  cancels out: when nothing changed in the end, no email is sent (the rows become ``cancelled``).
- An address given access to an agreement it had none on gets the welcome email (the
  invitation, ``invitations.send_welcome``), which already says what it can do: that change is
  recorded as ``welcomed`` and not told twice (nor are the changes still waiting for that
  address and agreement, e.g. the removal of all it had a minute before). Changes to an address
  that has access already (another role or permission there) go into the batched email.
- A person is told of a change to their own access too: the email is a security notice as much
  as a courtesy.
- Idempotent and safe to run concurrently: a batch's rows are claimed under ``SELECT ... FOR
  UPDATE SKIP LOCKED`` (PostgreSQL) and a conditional UPDATE (every database), and the email's
  outbox dedupe key is derived from the claimed rows, so a batch is emailed at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User, display_name
from agreements import selectors
from agreements.models import (
    AccessChange,
    Agreement,
    AgreementContact,
    AuditEvent,
    PermissionGrant,
)
from agreements.roles import KIND_ALLOWS
from agreements.services.audit import acting_by, audit
from agreements.services.invitations import email_dedupe_key, send_welcome
from notifications.models import OutboundEmail
from notifications.services import queue_email, render_email
from vlsc_portal.links import portal_link

logger = logging.getLogger(__name__)
Subject = AccessChange.Subject
State = AccessChange.State
# Batches one run of the task emails at most; the next run (a minute later) takes the rest.
MAX_BATCHES_PER_RUN = 500


def _actor_name(actor: User | None) -> str:
    """Who made the change, as the email names them: the person's display name, else the name
    the channel gave (an application's, ``acting_via(by=...)``), else "" (the portal itself)."""
    if actor is not None:
        return display_name(actor)[:254]
    return acting_by()


def record_change(
    *,
    agreement_id: int,
    email: str,
    subject: str,
    value: str,
    granted: bool,
    actor: User | None,
    welcomed: bool = False,
) -> AccessChange:
    """Record one role or permission given to (``granted``) or taken from ``email`` on the
    agreement; call it inside the transaction making the change. ``welcomed``: the welcome email
    queued in the same transaction tells the person already."""
    return AccessChange.objects.create(
        agreement_id=agreement_id,
        email=email,
        subject=subject,
        value=value,
        granted=granted,
        actor=actor,
        actor_name=_actor_name(actor),
        state=State.WELCOMED if welcomed else State.PENDING,
    )


def _label(subject: str, value: str) -> str:
    if subject == Subject.ROLE:
        role = AgreementContact.Role(value).label
        return _("%(role)s (contact on the agreement)") % {"role": role}
    kind = PermissionGrant.Kind(value).label
    return _("%(kind)s (permission)") % {"kind": kind}


def net_changes(rows: list[AccessChange]) -> list[AccessChange]:
    """What changed in the end, from one address's changes on one agreement in order: per role
    or permission, the last change, when what the person had before the first change differs from
    what they have after the last (a grant then a removal, or the reverse, cancels out)."""
    first: dict[tuple[str, str], AccessChange] = {}
    last: dict[tuple[str, str], AccessChange] = {}
    for row in rows:
        key = (row.subject, row.value)
        first.setdefault(key, row)
        last[key] = row
    return [last[key] for key, row in first.items() if (not row.granted) != last[key].granted]


@dataclass(frozen=True)
class ChangeLine:
    granted: bool
    label: str
    by: str


def _email_context(
    *, agreement: Agreement, email: str, changes: list[AccessChange]
) -> dict[str, object]:
    rows = selectors.access_by_agreement(
        emails=[email], agreements=Agreement.objects.filter(pk=agreement.pk)
    )
    access = rows.get(agreement.pk)
    lines = [
        ChangeLine(
            granted=c.granted,
            label=_label(c.subject, c.value),
            by=c.actor_name or _("the Volume Licensing Service Center"),
        )
        for c in changes
    ]
    return {
        "agreement": agreement,
        "changes": lines,
        "by": sorted({line.by for line in lines}),
        "access": ", ".join(access.role_labels + access.kind_labels) if access else "",
        "allows": [KIND_ALLOWS[k] for k in access.kinds] if access else [],
        "agreement_url": portal_link(reverse("agreements:detail", args=[agreement.number])),
        "portal_url": portal_link(),
    }


def changes_summary(changes: list[AccessChange]) -> str:
    """The changes in a line, for the audit trail: "+Downloads (permission), -..."."""
    return ", ".join(("+" if c.granted else "-") + _label(c.subject, c.value) for c in changes)


def _email_batch(*, agreement_id: int, email: str, quiet_since: datetime) -> OutboundEmail | None:
    """Claim the changes waiting for this address and agreement, if none is newer than
    ``quiet_since``, and queue their email (or cancel them when nothing changed in the end), in
    one transaction. Returns the email queued, or None."""
    with transaction.atomic():
        rows = list(
            AccessChange.objects.select_for_update(skip_locked=True)
            .filter(agreement_id=agreement_id, email=email, state=State.PENDING)
            .order_by("at", "pk")
        )
        if not rows or rows[-1].at > quiet_since:
            return None  # another run holds them, or a change came meanwhile: wait for quiet
        ids = [row.pk for row in rows]
        net = net_changes(rows)
        claimed = AccessChange.objects.filter(pk__in=ids, state=State.PENDING).update(
            state=State.EMAILED if net else State.CANCELLED
        )
        if claimed != len(ids):  # another run (SQLite: no row locks) took some of them first
            transaction.set_rollback(True)
            return None
        if not net:
            return None
        agreement = Agreement.objects.get(pk=agreement_id)
        language = selectors.address_language(email=email)
        # The context's role and permission names are words too: built in the email's language.
        with translation.override(language or translation.get_language()):
            subject, body = render_email(
                "agreements/email/access_changed",
                _email_context(agreement=agreement, email=email, changes=net),
                language=language,
            )
        outbound = queue_email(
            to=email,
            subject=subject,
            body=body,
            kind="agreement_access_changed",
            dedupe_key=email_dedupe_key("access-changed", agreement_id, email, *ids),
        )
        AccessChange.objects.filter(pk__in=ids).update(outbound_email=outbound)
        audit(
            actor=None,
            action=AuditEvent.Action.ACCESS_EMAIL_QUEUED,
            agreement=agreement,
            subject_email=email,
            detail=_("Access change email queued to %(to)s (changes: %(changes)s)")
            % {"to": email, "changes": changes_summary(net)},
            outbound_email=outbound,
        )
        return outbound


def send_due_access_change_emails(*, now: datetime | None = None) -> int:
    """Email every address whose changes on an agreement have been quiet for
    ``ACCESS_CHANGE_EMAIL_DELAY`` seconds: one email per address and agreement (none when the
    changes cancel out). Safe to run twice or on two workers at once. Returns how many emails
    were queued."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ACCESS_CHANGE_EMAIL_DELAY)
    due = (
        AccessChange.objects.filter(state=State.PENDING)
        .values("agreement_id", "email")
        .annotate(last=Max("at"))
        .filter(last__lte=quiet_since)
        .order_by("last")[:MAX_BATCHES_PER_RUN]
    )
    queued = 0
    for group in list(due):
        try:
            if _email_batch(
                agreement_id=group["agreement_id"], email=group["email"], quiet_since=quiet_since
            ):
                queued += 1
        except Exception:  # one batch that cannot be built must not hold back the others
            # Its transaction rolled back: its rows stay pending and are tried again next run.
            logger.exception(
                "access change email for agreement %s could not be queued", group["agreement_id"]
            )
    return queued


def _first_access(*, before: tuple[int, str, str] | None, agreement: Agreement, email: str) -> bool:
    """Whether the row just saved is the address's only access to the agreement, and was not
    already its access before the save (a role or kind changed on the same address)."""
    if before is not None and (before[0], before[1]) == (agreement.pk, email):
        return False
    held = (
        AgreementContact.objects.filter(agreement=agreement, email=email).count()
        + PermissionGrant.objects.filter(agreement=agreement, email=email).count()
    )
    return held == 1


def record_replacement(
    *,
    subject: str,
    before: tuple[int, str, str] | None,
    agreement: Agreement,
    email: str,
    value: str,
    actor: User | None,
    access: str,
    kinds: list[str],
    change_key: str,
) -> None:
    """A contact or grant was saved with a new agreement, address, role or kind: record the
    removal of what it was (``before``: agreement id, address, value) and the grant of what it
    is. An address that had no access to this agreement before gets the welcome email
    (``send_welcome``), which tells it; other changes wait for the batched email."""
    if before is not None:
        record_change(
            agreement_id=before[0],
            email=before[1],
            subject=subject,
            value=before[2],
            granted=False,
            actor=actor,
        )
    welcomed = False
    if _first_access(before=before, agreement=agreement, email=email):
        welcomed = send_welcome(
            agreement=agreement, email=email, access=access, kinds=kinds, change_key=change_key
        )
        if welcomed:  # it says what the address has now: what waited is told by it
            AccessChange.objects.filter(
                agreement=agreement, email=email, state=State.PENDING
            ).update(state=State.WELCOMED)
    record_change(
        agreement_id=agreement.pk,
        email=email,
        subject=subject,
        value=value,
        granted=True,
        actor=actor,
        welcomed=welcomed,
    )
