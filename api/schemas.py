"""The API's representations: what the OpenAPI document says. Plain pydantic models (django-ninja
takes them as they are): the views build them from rows explicitly, so ninja's ``Schema`` (which
also reads ORM objects, through a slower validator) is not needed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic import BaseModel as Schema
from pydantic.json_schema import JsonDict

from agreements.models import AccessRequest, AgreementContact, AuditEvent, PermissionGrant

# The models' choices under the API's own names (the OpenAPI document's components), built from
# them so the two never drift apart. mypy cannot list members made at run time (its [misc]
# error); it still knows each is a StrEnum, so ``.value`` is a str.
Role = StrEnum("Role", {v: v for v in AgreementContact.Role.values})  # type: ignore[misc]
Kind = StrEnum("Kind", {v: v for v in PermissionGrant.Kind.values})  # type: ignore[misc]
RequestState = StrEnum("RequestState", {v: v for v in AccessRequest.State.values})  # type: ignore[misc]
AuditAction = StrEnum("AuditAction", {v: v for v in AuditEvent.Action.values})  # type: ignore[misc]


class InvitationState(StrEnum):
    sent = "sent"
    expired = "expired"
    accepted = "accepted"


class Agreement(Schema):
    number: str
    program: str
    customer: str
    reseller: str
    status: str
    start_date: date
    end_date: date | None
    administered: bool = Field(description="Whether the caller manages its people over the API.")
    may_write: bool = Field(description="Whether the caller may change them.")


class Contact(Schema):
    id: int
    role: Role
    name: str
    email: str
    created_at: datetime


EMAIL: JsonDict = {"format": "email"}  # checked by the portal's canonical form, not pydantic's


def storable(value: str) -> str:
    """Text the database can keep: PostgreSQL refuses NUL in text, and a lone surrogate (a JSON
    escape such as ``\\ud800`` with no pair) has no UTF-8 form; either is a 422, not a 500."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


# Every string a caller sends that may be stored.
Text = Annotated[str, AfterValidator(storable)]


class ContactIn(Schema):
    role: Role
    email: Text = Field(min_length=1, max_length=254, json_schema_extra=EMAIL)
    name: Text = Field(default="", max_length=200)


class Grant(Schema):
    id: int
    email: str
    kind: Kind
    granted_at: datetime
    granted_by: str | None = Field(description="The address of who granted it, if a person.")


class GrantIn(Schema):
    email: Text = Field(min_length=1, max_length=254, json_schema_extra=EMAIL)
    kind: Kind


class Invitation(Schema):
    id: int
    email: str
    state: InvitationState
    first_sent_at: datetime
    last_sent_at: datetime
    times_sent: int


class AccessRequestOut(Schema):
    id: int
    email: str
    kind: Kind
    reason: str
    state: RequestState
    needs_support: bool
    created_at: datetime
    decided_at: datetime | None
    decision_message: str


class Decision(Schema):
    # Strict: JSON true or false only. Pydantic would otherwise read "yes", "on" or 1 as true,
    # and a decision that gives access must be what the caller meant.
    accept: bool = Field(strict=True)
    message: Text = Field(default="", max_length=1000)


class AuditEventOut(Schema):
    id: int
    at: datetime
    action: AuditAction
    actor_email: str
    subject_email: str
    detail: str
    via: str


class Page(Schema):
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class AgreementPage(Page):
    items: list[Agreement]


class ContactPage(Page):
    items: list[Contact]


class GrantPage(Page):
    items: list[Grant]


class InvitationPage(Page):
    items: list[Invitation]


class AccessRequestPage(Page):
    items: list[AccessRequestOut]


class AuditEventPage(Page):
    items: list[AuditEventOut]


class ProblemDocument(Schema):
    """RFC 9457 problem details, served as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    reference_id: str = Field(description="Quote it to support: it is in the portal's logs.")
