"""Writes about agreements: contacts, permissions, invitations, access requests, staff access.

Every change is audited. Welcome emails go through the outbox with a dedupe key per address,
agreement and change, so saving the same row again sends nothing.

By concern: ``audit``, ``recent_sign_in`` (the step-up rule), ``invitations`` (welcome emails),
``contacts``, ``permissions`` (and the last-administrator rule), ``access_changes`` (the batched
email telling people their access changed), ``staff`` (the administrators
group) and ``access_requests``. Callers import the public names from here.
"""

from __future__ import annotations

from agreements.services.access_changes import send_due_access_change_emails
from agreements.services.access_requests import (
    RequestAlreadyDecided,
    access_request_decide,
    request_access,
)
from agreements.services.audit import acting_via, audit
from agreements.services.contacts import contact_remove, contact_save
from agreements.services.invitations import (
    RESEND_INTERVAL,
    ResendTooSoon,
    email_dedupe_key,
    resend_invitation,
    send_welcome,
)
from agreements.services.permissions import (
    LastAdministrator,
    last_administrator_warnings,
    permission_grant,
    permission_revoke,
    permission_save,
    refuse_last_administrator,
)
from agreements.services.recent_sign_in import StepUpRequired, require_recent_sign_in
from agreements.services.staff import (
    ADMINISTRATOR_MODEL_PERMISSIONS,
    ADMINISTRATORS_GROUP,
    administrators_group,
    sync_staff_access,
    sync_staff_access_for_addresses,
)

__all__ = [
    "ADMINISTRATORS_GROUP",
    "ADMINISTRATOR_MODEL_PERMISSIONS",
    "RESEND_INTERVAL",
    "LastAdministrator",
    "RequestAlreadyDecided",
    "ResendTooSoon",
    "StepUpRequired",
    "access_request_decide",
    "acting_via",
    "administrators_group",
    "audit",
    "contact_remove",
    "contact_save",
    "last_administrator_warnings",
    "email_dedupe_key",
    "permission_grant",
    "permission_revoke",
    "permission_save",
    "refuse_last_administrator",
    "request_access",
    "require_recent_sign_in",
    "resend_invitation",
    "send_due_access_change_emails",
    "send_welcome",
    "sync_staff_access",
    "sync_staff_access_for_addresses",
]
