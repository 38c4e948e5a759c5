"""Invitations (with their state, and resending), access requests (and their decision) and the
audit trail of an agreement."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router

from agreements import selectors as agreement_selectors
from agreements import services
from agreements.models import AccessRequest, AuditEvent, Invitation, PermissionGrant
from api import conventions, problems, schemas
from api import selectors as scope
from api.http import ApiRequest
from api.views.common import LIMIT_DOC, changing, refuse_administrator_change_for_applications

router = Router(tags=["agreements"])
InvitedState = agreement_selectors.InvitedState


def _limit() -> int:
    return Query(conventions.DEFAULT_PAGE, ge=1, le=conventions.MAX_PAGE, description=LIMIT_DOC)


# --- invitations -------------------------------------------------------------------------------

_STATES = {
    str(InvitedState.SENT): schemas.InvitationState.sent,
    str(InvitedState.EXPIRED): schemas.InvitationState.expired,
    str(InvitedState.ACCEPTED): schemas.InvitationState.accepted,
}


def _invitation(invitation: Invitation) -> schemas.Invitation:
    return schemas.Invitation(
        id=invitation.pk,
        email=invitation.email,
        state=_STATES[agreement_selectors.invitation_state(invitation)],
        first_sent_at=invitation.first_sent_at,
        last_sent_at=invitation.last_sent_at,
        times_sent=invitation.times_sent,
    )


def _invitations(agreement):
    return agreement_selectors.with_acceptance(Invitation.objects.filter(agreement=agreement))


@router.get(
    "/agreements/{number}/invitations",
    response=schemas.InvitationPage,
    operation_id="listInvitations",
)
def list_invitations(
    request: ApiRequest, number: str, cursor: str | None = None, limit: int = _limit()
):
    """The welcome emails sent for the agreement, and whether each was taken up."""
    agreement = scope.managed_agreement(request.auth, number).agreement
    rows, next_cursor = conventions.page(_invitations(agreement), cursor=cursor, limit=limit)
    return conventions.json_response(
        schemas.InvitationPage(items=[_invitation(i) for i in rows], next_cursor=next_cursor)
    )


def _one_invitation(request: ApiRequest, number: str, invitation_id: int, *, write: bool = False):
    agreement = scope.managed_agreement(request.auth, number, write=write).agreement
    return get_object_or_404(_invitations(agreement).select_related("agreement"), pk=invitation_id)


@router.get(
    "/agreements/{number}/invitations/{invitation_id}",
    response=schemas.Invitation,
    operation_id="getInvitation",
)
def get_invitation(request: ApiRequest, number: str, invitation_id: int):
    return conventions.json_response(_invitation(_one_invitation(request, number, invitation_id)))


@router.post(
    "/agreements/{number}/invitations/{invitation_id}/resend",
    response={200: schemas.Invitation},
    operation_id="resendInvitation",
)
def resend_invitation(request: ApiRequest, number: str, invitation_id: int) -> HttpResponse:
    """Send the welcome email again: at most once every 10 minutes per invitation (409 with
    Retry-After sooner)."""
    caller = request.auth
    invitation = _one_invitation(request, number, invitation_id, write=True)

    def produce() -> HttpResponse:
        try:
            with changing(caller):
                services.resend_invitation(invitation=invitation, actor=caller.user)
        except services.ResendTooSoon as exc:
            raise problems.Problem(
                409,
                "resend-too-soon",
                _("This invitation was sent less than 10 minutes ago."),
                headers={"Retry-After": str(int(services.RESEND_INTERVAL.total_seconds()))},
            ) from exc
        return conventions.json_response(
            _invitation(_one_invitation(request, number, invitation_id))
        )

    return conventions.idempotent(request, caller, produce)


# --- access requests --------------------------------------------------------------------------


def _access_request(row: AccessRequest) -> schemas.AccessRequestOut:
    return schemas.AccessRequestOut(
        id=row.pk,
        email=row.email,
        kind=schemas.Kind(row.kind),
        reason=row.reason,
        state=schemas.RequestState(row.state),
        needs_support=row.needs_support,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decision_message=row.decision_message,
    )


@router.get(
    "/agreements/{number}/access-requests",
    response=schemas.AccessRequestPage,
    operation_id="listAccessRequests",
)
def list_access_requests(
    request: ApiRequest,
    number: str,
    cursor: str | None = None,
    limit: int = _limit(),
    state: schemas.RequestState | None = None,
):
    """Requests for access to the agreement, newest first."""
    agreement = scope.managed_agreement(request.auth, number).agreement
    rows = AccessRequest.objects.filter(agreement=agreement)
    if state is not None:
        rows = rows.filter(state=state.value)
    items, next_cursor = conventions.page(rows, cursor=cursor, limit=limit, newest_first=True)
    return conventions.json_response(
        schemas.AccessRequestPage(
            items=[_access_request(r) for r in items], next_cursor=next_cursor
        )
    )


def _one_request(request: ApiRequest, number: str, request_id: int, *, write: bool = False):
    agreement = scope.managed_agreement(request.auth, number, write=write).agreement
    rows = AccessRequest.objects.filter(agreement=agreement).select_related(
        "agreement", "requester"
    )
    return get_object_or_404(rows, pk=request_id)


@router.get(
    "/agreements/{number}/access-requests/{request_id}",
    response=schemas.AccessRequestOut,
    operation_id="getAccessRequest",
)
def get_access_request(request: ApiRequest, number: str, request_id: int):
    return conventions.json_response(_access_request(_one_request(request, number, request_id)))


@router.post(
    "/agreements/{number}/access-requests/{request_id}/decision",
    response={200: schemas.AccessRequestOut},
    operation_id="decideAccessRequest",
)
def decide_access_request(
    request: ApiRequest, number: str, request_id: int, payload: schemas.Decision
) -> HttpResponse:
    """Accept (grant what was asked) or deny a pending request; the requester is emailed.
    With If-Match, only if the request is as the caller last read it. 409 if already decided."""
    caller = request.auth
    row = _one_request(request, number, request_id, write=True)
    conventions.require_match(request, conventions.etag(_access_request(row)))
    if payload.accept and row.kind == PermissionGrant.Kind.ADMINISTRATOR:
        refuse_administrator_change_for_applications(caller)

    def produce() -> HttpResponse:
        try:
            with changing(caller):
                decided = services.access_request_decide(
                    access_request=row,
                    actor=caller.user,  # None for an application: the audit event names it (via)
                    accept=payload.accept,
                    message=payload.message,
                    step_up_at=caller.auth_time,
                )
        except services.RequestAlreadyDecided as exc:
            raise problems.Problem(
                409, "already-decided", _("This request was decided already.")
            ) from exc
        return conventions.json_response(_access_request(decided))

    return conventions.idempotent(request, caller, produce)


# --- audit -------------------------------------------------------------------------------------


@router.get(
    "/agreements/{number}/audit-events",
    response=schemas.AuditEventPage,
    operation_id="listAuditEvents",
)
def list_audit_events(
    request: ApiRequest, number: str, cursor: str | None = None, limit: int = _limit()
):
    """Who changed what on the agreement, newest first; "via" says when it was the API, and
    which application or person called it."""
    agreement = scope.managed_agreement(request.auth, number).agreement
    rows, next_cursor = conventions.page(
        AuditEvent.objects.filter(agreement=agreement),
        cursor=cursor,
        limit=limit,
        newest_first=True,
    )
    return conventions.json_response(
        schemas.AuditEventPage(
            items=[
                schemas.AuditEventOut(
                    id=e.pk,
                    at=e.at,
                    action=schemas.AuditAction(e.action),
                    actor_email=e.actor_email,
                    subject_email=e.subject_email,
                    detail=e.detail,
                    via=e.via,
                )
                for e in rows
            ],
            next_cursor=next_cursor,
        )
    )
