"""Agreements, their contacts (six roles) and permission grants (seven kinds): read, add and
remove, through the same services as the admin."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router

from agreements import selectors as agreement_selectors
from agreements import services
from agreements.models import AgreementContact, PermissionGrant
from api import conventions, problems, schemas
from api import selectors as scope
from api.http import ApiRequest
from api.views.common import LIMIT_DOC, changing, refuse_administrator_change_for_applications
from vlsc_portal.addresses import canonical_email

router = Router(tags=["agreements"])
Kind = PermissionGrant.Kind


def _limit() -> int:
    return Query(conventions.DEFAULT_PAGE, ge=1, le=conventions.MAX_PAGE, description=LIMIT_DOC)


# --- agreements -------------------------------------------------------------------------------


def _agreements(caller, rows) -> list[schemas.Agreement]:
    """Two statements for a page, whatever its size: which are managed, which writable."""
    ids = [agreement.pk for agreement in rows]
    managed = set(scope.managed_agreements(caller).filter(pk__in=ids).values_list("pk", flat=True))
    writable = scope.writable_agreement_ids(caller, managed)
    return [
        schemas.Agreement(
            number=agreement.number,
            program=agreement.program,
            customer=agreement.customer,
            reseller=agreement.reseller,
            status=agreement.status,
            start_date=agreement.start_date,
            end_date=agreement.end_date,
            administered=agreement.pk in managed,
            may_write=agreement.pk in writable,
        )
        for agreement in rows
    ]


@router.get("/agreements", response=schemas.AgreementPage, operation_id="listAgreements")
def list_agreements(request: ApiRequest, cursor: str | None = None, limit: int = _limit()):
    """The agreements the caller may see: a person's, through their roles and permissions; an
    application's, those it is authorised on."""
    caller = request.auth
    rows, next_cursor = conventions.page(
        scope.visible_agreements(caller), cursor=cursor, limit=limit
    )
    return conventions.json_response(
        schemas.AgreementPage(items=_agreements(caller, rows), next_cursor=next_cursor)
    )


@router.get("/agreements/{number}", response=schemas.Agreement, operation_id="getAgreement")
def get_agreement(request: ApiRequest, number: str):
    caller = request.auth
    agreement = scope.visible_agreements(caller).filter(number=number.strip().upper()).first()
    if agreement is None:
        raise problems.not_found(_("There is no such agreement, or not for you."))
    return conventions.json_response(_agreements(caller, [agreement])[0])


# --- permission grants ----------------------------------------------------------------------


def _grant(grant: PermissionGrant) -> schemas.Grant:
    return schemas.Grant(
        id=grant.pk,
        email=grant.email,
        kind=schemas.Kind(grant.kind),
        granted_at=grant.granted_at,
        granted_by=grant.granted_by.email if grant.granted_by else None,
    )


def _grants(agreement):
    return PermissionGrant.objects.filter(agreement=agreement).select_related("granted_by")


@router.get(
    "/agreements/{number}/permissions", response=schemas.GrantPage, operation_id="listGrants"
)
def list_grants(
    request: ApiRequest,
    number: str,
    cursor: str | None = None,
    limit: int = _limit(),
    kind: schemas.Kind | None = None,
):
    """The agreement's permission grants, in the order they were made."""
    agreement = scope.managed_agreement(request.auth, number).agreement
    grants = _grants(agreement)
    if kind is not None:
        grants = grants.filter(kind=kind.value)
    rows, next_cursor = conventions.page(grants, cursor=cursor, limit=limit)
    return conventions.json_response(
        schemas.GrantPage(items=[_grant(g) for g in rows], next_cursor=next_cursor)
    )


def _one_grant(
    request: ApiRequest, number: str, grant_id: int, *, write: bool = False
) -> PermissionGrant:
    agreement = scope.managed_agreement(request.auth, number, write=write).agreement
    return get_object_or_404(_grants(agreement), pk=grant_id)


@router.get(
    "/agreements/{number}/permissions/{grant_id}", response=schemas.Grant, operation_id="getGrant"
)
def get_grant(request: ApiRequest, number: str, grant_id: int):
    return conventions.json_response(_grant(_one_grant(request, number, grant_id)))


@router.post(
    "/agreements/{number}/permissions",
    response={200: schemas.Grant, 201: schemas.Grant},
    operation_id="createGrant",
)
def create_grant(request: ApiRequest, number: str, payload: schemas.GrantIn) -> HttpResponse:
    """Give an address a permission; an address new to the agreement gets a welcome email, one
    with access there already the access change email a few minutes later. Granting one that
    exists answers 200 with it. Administrator needs a delegated token with a recent sign-in."""
    caller = request.auth
    agreement = scope.managed_agreement(caller, number, write=True).agreement
    if payload.kind == Kind.ADMINISTRATOR:
        refuse_administrator_change_for_applications(caller)

    def produce() -> HttpResponse:
        with changing(caller):
            email = canonical_email(payload.email)
            existing = _grants(agreement).filter(email=email, kind=payload.kind.value).first()
            if existing is not None:
                return conventions.json_response(_grant(existing))
            grant = services.permission_grant(
                agreement=agreement,
                email=email,
                kind=payload.kind.value,
                actor=caller.user,
                step_up_at=caller.auth_time,
            )
        location = f"/api/v1/agreements/{agreement.number}/permissions/{grant.pk}"
        grant = _grants(agreement).get(pk=grant.pk)
        return conventions.json_response(_grant(grant), status=201, headers={"Location": location})

    return conventions.idempotent(request, caller, produce)


@router.delete(
    "/agreements/{number}/permissions/{grant_id}", response={204: None}, operation_id="deleteGrant"
)
def delete_grant(request: ApiRequest, number: str, grant_id: int) -> HttpResponse:
    """Remove a permission (the person is told by the access change email). With If-Match, only
    if it is as the caller last read it."""
    caller = request.auth
    grant = _one_grant(request, number, grant_id, write=True)
    conventions.require_match(request, conventions.etag(_grant(grant)))
    if grant.kind == Kind.ADMINISTRATOR:
        refuse_administrator_change_for_applications(caller)
    with changing(caller):
        services.permission_revoke(grant=grant, actor=caller.user, step_up_at=caller.auth_time)
    return HttpResponse(status=204)


# --- contacts ----------------------------------------------------------------------------------


def _contact(contact: AgreementContact) -> schemas.Contact:
    return schemas.Contact(
        id=contact.pk,
        role=schemas.Role(contact.role),
        name=contact.name,
        email=contact.email,
        created_at=contact.created_at,
    )


@router.get(
    "/agreements/{number}/contacts", response=schemas.ContactPage, operation_id="listContacts"
)
def list_contacts(
    request: ApiRequest, number: str, cursor: str | None = None, limit: int = _limit()
):
    """The people named on the agreement's legal form, by role."""
    agreement = scope.managed_agreement(request.auth, number).agreement
    rows, next_cursor = conventions.page(
        AgreementContact.objects.filter(agreement=agreement), cursor=cursor, limit=limit
    )
    return conventions.json_response(
        schemas.ContactPage(items=[_contact(c) for c in rows], next_cursor=next_cursor)
    )


def _one_contact(request: ApiRequest, number: str, contact_id: int, *, write: bool = False):
    agreement = scope.managed_agreement(request.auth, number, write=write).agreement
    contacts = AgreementContact.objects.filter(agreement=agreement).select_related("agreement")
    return get_object_or_404(contacts, pk=contact_id)


@router.get(
    "/agreements/{number}/contacts/{contact_id}",
    response=schemas.Contact,
    operation_id="getContact",
)
def get_contact(request: ApiRequest, number: str, contact_id: int):
    return conventions.json_response(_contact(_one_contact(request, number, contact_id)))


@router.post(
    "/agreements/{number}/contacts",
    response={200: schemas.Contact, 201: schemas.Contact},
    operation_id="createContact",
)
def create_contact(request: ApiRequest, number: str, payload: schemas.ContactIn) -> HttpResponse:
    """Name an address in a contact role; an address new to the agreement gets a welcome email,
    one with access there already the access change email a few minutes later. An Online
    Administrator carries Administrator: it needs a delegated token with a recent sign-in."""
    caller = request.auth
    agreement = scope.managed_agreement(caller, number, write=True).agreement
    if payload.role.value in agreement_selectors.ADMIN_ROLES:
        refuse_administrator_change_for_applications(caller)

    def produce() -> HttpResponse:
        with changing(caller):
            email = canonical_email(payload.email)
            existing = AgreementContact.objects.filter(
                agreement=agreement, role=payload.role.value, email=email
            ).first()
            if existing is not None:
                return conventions.json_response(_contact(existing))
            contact = services.contact_save(
                contact=AgreementContact(
                    agreement=agreement, role=payload.role.value, name=payload.name, email=email
                ),
                actor=caller.user,
                step_up_at=caller.auth_time,
            )
        location = f"/api/v1/agreements/{agreement.number}/contacts/{contact.pk}"
        return conventions.json_response(
            _contact(contact), status=201, headers={"Location": location}
        )

    return conventions.idempotent(request, caller, produce)


@router.delete(
    "/agreements/{number}/contacts/{contact_id}",
    response={204: None},
    operation_id="deleteContact",
)
def delete_contact(request: ApiRequest, number: str, contact_id: int) -> HttpResponse:
    caller = request.auth
    contact = _one_contact(request, number, contact_id, write=True)
    conventions.require_match(request, conventions.etag(_contact(contact)))
    if contact.role in agreement_selectors.ADMIN_ROLES:
        refuse_administrator_change_for_applications(caller)
    with changing(caller):
        services.contact_remove(contact=contact, actor=caller.user, step_up_at=caller.auth_time)
    return HttpResponse(status=204)
