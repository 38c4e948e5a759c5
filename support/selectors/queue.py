"""The support queue, and the single records support staff open from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Registration
from agreements.models import AccessRequest
from support.models import SupportRequest
from support.selectors.access import is_support_staff, support_requests_visible_to
from support.selectors.search import REQUEST_REFERENCE


@dataclass
class QueueRow:
    request: SupportRequest
    overdue: bool


def open_queue(*, user: Any, now: datetime | None = None, limit: int = 200) -> list[QueueRow]:
    """Requests not closed yet, soonest due first; unanswered ones past due are overdue."""
    now = now or timezone.now()
    rows = (
        support_requests_visible_to(user=user)
        .filter(state__in=[SupportRequest.State.OPEN, SupportRequest.State.ANSWERED])
        .select_related("assigned_to")
        .order_by("due_at", "pk")[:limit]
    )
    return [QueueRow(request=r, overdue=r.is_overdue(now)) for r in rows]


def access_requests_for_support(*, user: Any, limit: int = 100) -> QuerySet[AccessRequest]:
    """Pending access requests to agreements with no active administrator (read-only here:
    they are decided in the administration pages)."""
    if not is_support_staff(user=user):
        return AccessRequest.objects.none()
    return (
        AccessRequest.objects.filter(needs_support=True, state=AccessRequest.State.PENDING)
        .select_related("requester")
        .order_by("created_at")[:limit]
    )


def support_request(*, user: Any, reference: str) -> SupportRequest | None:
    if not REQUEST_REFERENCE.match(reference or ""):
        return None
    return (
        support_requests_visible_to(user=user)
        .select_related("user", "assigned_to", "answered_by")
        .filter(reference=reference)
        .first()
    )


def request_sent_from_this_session(*, reference: str) -> SupportRequest | None:
    """The request whose reference this browser's session holds (its sender's own view)."""
    if not REQUEST_REFERENCE.match(reference or ""):
        return None
    return SupportRequest.objects.filter(reference=reference).first()


def registration_for_action(*, user: Any, pk: int) -> Registration | None:
    if not is_support_staff(user=user):
        return None
    return Registration.objects.select_related("user").filter(pk=pk).first()


@dataclass
class QueueSummary:
    """The console home's view of the queue: how many requests wait, and the newest ones."""

    open: int
    unassigned: int
    assigned_to_viewer: int
    overdue: int
    newest: list[SupportRequest]


def queue_summary(*, user: Any, now: datetime | None = None, newest: int = 5) -> QueueSummary:
    """Counts of open (unanswered) requests, by assignment and overdue, in one grouped query,
    and the ``newest`` open ones, newest first."""
    now = now or timezone.now()
    open_requests = support_requests_visible_to(user=user).filter(state=SupportRequest.State.OPEN)
    counts = open_requests.aggregate(
        open=Count("id"),
        unassigned=Count("id", filter=Q(assigned_to__isnull=True)),
        mine=Count("id", filter=Q(assigned_to=user.pk)),
        overdue=Count("id", filter=Q(due_at__lte=now)),
    )
    return QueueSummary(
        open=counts["open"],
        unassigned=counts["unassigned"],
        assigned_to_viewer=counts["mine"],
        overdue=counts["overdue"],
        newest=list(
            open_requests.select_related("assigned_to").order_by("-created_at", "-pk")[:newest]
        ),
    )
