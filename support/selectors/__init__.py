"""What support staff may see, and how a person is found and shown.

By concern: ``access`` (who is support staff), ``search`` (finding people by address, agreement
or reference id), ``people`` (the person page's subject), ``timeline`` (everything that happened
to them), ``queue`` (open requests) and ``trends`` (the overview's figures per day, imported
as ``support.selectors.trends``). Callers import the other public names from here."""

from __future__ import annotations

from support.selectors.access import (
    SUPPORT_GROUP,
    SUPPORT_PERMISSION,
    is_support_staff,
    support_actions_visible_to,
    support_requests_visible_to,
)
from support.selectors.errors import AmbiguousAddress, BadQuery
from support.selectors.people import Identity, Person, person
from support.selectors.queue import (
    QueueRow,
    QueueSummary,
    access_requests_for_support,
    open_queue,
    queue_summary,
    registration_for_action,
    request_sent_from_this_session,
    support_request,
)
from support.selectors.search import (
    AGREEMENT_NUMBER,
    MAX_QUERY_LENGTH,
    REQUEST_REFERENCE,
    SIGN_IN_REFERENCE,
    LookupResult,
    Match,
    lookup,
    people_with_address,
    users_with_address,
)
from support.selectors.timeline import (
    PAGE_SIZE,
    Cursor,
    Entry,
    Timeline,
    timeline,
)

__all__ = [
    "AGREEMENT_NUMBER",
    "MAX_QUERY_LENGTH",
    "PAGE_SIZE",
    "REQUEST_REFERENCE",
    "SIGN_IN_REFERENCE",
    "SUPPORT_GROUP",
    "SUPPORT_PERMISSION",
    "AmbiguousAddress",
    "BadQuery",
    "Cursor",
    "Entry",
    "Identity",
    "LookupResult",
    "Match",
    "Person",
    "QueueRow",
    "QueueSummary",
    "Timeline",
    "access_requests_for_support",
    "is_support_staff",
    "lookup",
    "open_queue",
    "people_with_address",
    "person",
    "queue_summary",
    "registration_for_action",
    "request_sent_from_this_session",
    "support_actions_visible_to",
    "support_request",
    "support_requests_visible_to",
    "timeline",
    "users_with_address",
]
