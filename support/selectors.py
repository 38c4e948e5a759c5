"""What support staff may see, and how a person is found and shown.

``timeline`` reads each source table with one indexed query (newest first, keyset paginated,
``page_size + 1`` rows) and merges them in Python, so the number of queries is the same whether a
person has ten events or ten million, and nothing is written twice to make it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Conversion, Registration, SignInEvent, User
from agreements.models import AccessRequest, Agreement, AuditEvent
from notifications.models import OutboundEmail
from support.models import SupportAction, SupportRequest
from vlsc_portal.addresses import InvalidEmailAddress, canonical_email
from vlsc_portal.choices import choice_label

SUPPORT_GROUP = "Support staff"  # made by migration 0004 and holds SUPPORT_PERMISSION
SUPPORT_PERMISSION = "support.use_support_console"
PAGE_SIZE = 25
MAX_QUERY_LENGTH = 254
REQUEST_REFERENCE = re.compile(r"^SR-[A-Z2-9]{8}$")
SIGN_IN_REFERENCE = re.compile(r"^[A-Z2-9]{12}$")
AGREEMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
_CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,2})\.(\d{1,19})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadQuery(ValueError):
    """The lookup or the page cursor cannot be understood; the message is for support staff."""


class AmbiguousAddress(Exception):
    def __init__(self, users: list[User]) -> None:
        super().__init__("several users have this address")
        self.users = users


# Access ---------------------------------------------------------------------------------------


def is_support_staff(*, user: Any) -> bool:
    """Active users holding ``SUPPORT_PERMISSION`` (through the "Support staff" group or
    directly), and active superusers. Django's permission check keeps the user's permissions for
    the request, so asking again costs no query."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(SUPPORT_PERMISSION)


def support_requests_visible_to(*, user: Any) -> QuerySet[SupportRequest]:
    if is_support_staff(user=user):
        return SupportRequest.objects.all()
    return SupportRequest.objects.none()


def support_actions_visible_to(*, user: Any) -> QuerySet[SupportAction]:
    if is_support_staff(user=user):
        return SupportAction.objects.all()
    return SupportAction.objects.none()


# Lookup ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One person a lookup found: a user, or an address nobody registered."""

    email: str
    user: User | None = None
    why: str = ""


@dataclass
class LookupResult:
    kind: str  # "email", "agreement" or "reference"
    query: str
    matches: list[Match] = field(default_factory=list)
    agreement: Agreement | None = None
    note: str = ""


def lookup(*, query: str) -> LookupResult:
    """Find people by email address, agreement number or reference id (a sign-in event's or a
    support request's). Raises BadQuery for anything that is none of these."""
    text = (query or "").strip()
    if not text:
        raise BadQuery(_("Enter an email address, an agreement number or a reference id."))
    if len(text) > MAX_QUERY_LENGTH or not text.isprintable():
        raise BadQuery(_("That is too long or holds characters no address or number has."))
    upper = text.upper()
    if REQUEST_REFERENCE.match(upper):
        return _by_request_reference(upper)
    if "@" in text:
        address = _canonical_or_bad_query(text)
        return LookupResult(kind="email", query=address, matches=people_with_address(address))
    if SIGN_IN_REFERENCE.match(upper):
        result = _by_sign_in_reference(upper)
        if result.matches or result.note:
            return result
    if AGREEMENT_NUMBER.match(upper):
        return _by_agreement(upper)
    raise BadQuery(_("That is not an email address, an agreement number or a reference id."))


def _canonical_or_bad_query(text: str) -> str:
    try:
        return canonical_email(text)
    except InvalidEmailAddress as exc:
        raise BadQuery(
            _("That is not a valid email address: %(why)s") % {"why": exc.messages[0]}
        ) from exc


def _users_with_address_queryset(address: str) -> QuerySet[User]:
    # Exact comparisons on canonical addresses, each served by a plain index on its column (a
    # case-insensitive UPPER or LOWER would let the database fold look-alike letters such as
    # dotless ı onto ASCII ones).
    ids = (
        User.objects.filter(email=address)
        .order_by()
        .values("pk")
        .union(
            EmailAddress.objects.filter(email=address).order_by().values("user_id"),
            Registration.objects.filter(invitation_address=address).order_by().values("user_id"),
            Conversion.objects.filter(work_email=address).order_by().values("user_id"),
            Conversion.objects.filter(personal_address=address).order_by().values("user_id"),
            SignInEvent.objects.filter(address=address, user__isnull=False)
            .order_by()
            .values("user_id"),
        )
    )
    return User.objects.filter(pk__in=ids).order_by("pk")[:20]


_COMPILED: dict[tuple, dict] = {}


def _run_compiled(key: tuple, build, values: dict) -> dict:
    """Run the querysets ``build()`` makes, as raw SQL compiled once per ``key``.

    Django can take longer to compile a query than the database takes to answer it. ``build``
    returns ``{name: queryset}`` made from sentinel values (the keys of ``values``); the first
    call per ``key`` (which must name everything that changes the SQL's shape) compiles them and
    records which parameter positions hold a sentinel; every call runs them with each such
    position given its real value from ``values``. Returns ``{name: rows}``."""
    compiled = _COMPILED.get((connection.vendor, *key))
    if compiled is None:
        compiled = {}
        for name, queryset in build().items():
            sql, params = queryset.query.sql_with_params()
            places = [
                ("sentinel", p) if _hashable(p) and p in values else ("value", p) for p in params
            ]
            compiled[name] = (queryset.model, sql, places)
        _COMPILED[(connection.vendor, *key)] = compiled
    return {
        name: list(
            model.objects.raw(sql, [values[p] if kind == "sentinel" else p for kind, p in places])
        )
        for name, (model, sql, places) in compiled.items()
    }


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


_SENTINEL_ADDRESS = "sentinel-address@compiled.invalid"


def users_with_address(address: str) -> list[User]:
    """Users who have ``address`` (canonical) as sign-in address, allauth address (verified or
    not), registration, conversion or sign-in attempt. One query: a UNION of index lookups (an OR
    of subqueries would scan every user), compiled once (Django takes about 8 ms to compile it,
    PostgreSQL under 1 ms to run it)."""
    return _run_compiled(
        ("users_with_address",),
        lambda: {"users": _users_with_address_queryset(_SENTINEL_ADDRESS)},
        {_SENTINEL_ADDRESS: address},
    )["users"]


def people_with_address(address: str) -> list[Match]:
    users = users_with_address(address)
    if not users:  # still a person to support staff: failed sign-ins, emails, requests
        return [Match(email=address, why=_("No portal user has this address."))]
    return [Match(email=address, user=user) for user in users]


def _by_request_reference(reference: str) -> LookupResult:
    found = SupportRequest.objects.filter(reference=reference).select_related("user").first()
    matches = [Match(email=found.email, user=found.user)] if found else []
    return LookupResult(kind="reference", query=reference, matches=matches)


def _by_sign_in_reference(reference: str) -> LookupResult:
    """A sign-in event names its person when it knows them; a forged callback does not, but the
    support request sent from that error page quotes the reference id and names its sender."""
    event = SignInEvent.objects.filter(reference_id=reference).select_related("user").first()
    if event is not None and (event.user_id or event.address):
        user = event.user
        return LookupResult(
            kind="reference",
            query=reference,
            matches=[Match(email=user.email if user else event.address, user=user)],
        )
    matches: list[Match] = []
    for request in SupportRequest.objects.filter(error_reference=reference).select_related("user")[
        :20
    ]:
        match = Match(email=request.email, user=request.user)
        if match not in matches:
            matches.append(match)
    note = ""
    if event is not None and not matches:
        note = _("This reference id is a sign-in event that names nobody: %(outcome)s.") % {
            "outcome": event.get_outcome_display()
        }
    return LookupResult(kind="reference", query=reference, matches=matches, note=note)


def _by_agreement(number: str) -> LookupResult:
    """The people on an agreement: its contacts and the addresses it grants permissions to."""
    agreement = Agreement.objects.filter(number=number).first()
    if agreement is None:
        return LookupResult(kind="agreement", query=number)
    why: dict[str, list[str]] = {}
    for contact in agreement.contacts.all():
        why.setdefault(contact.email, []).append(contact.get_role_display())
    for grant in agreement.permissions.all():
        why.setdefault(grant.email, []).append(grant.get_kind_display())
    owners = {
        row.email: row.user
        for row in EmailAddress.objects.filter(email__in=list(why), verified=True).select_related(
            "user"
        )
    }
    matches = [
        Match(email=email, user=owners.get(email), why=", ".join(labels))
        for email, labels in sorted(why.items())
    ]
    return LookupResult(kind="agreement", query=number, matches=matches, agreement=agreement)


# The person -----------------------------------------------------------------------------------


@dataclass
class Identity:
    uid: str
    object_id: str
    tenant_id: str
    personal: bool
    address: str


@dataclass
class Person:
    user: User | None
    addresses: list[str]
    identities: list[Identity]
    registrations: list[Registration]
    references: list[str]

    @property
    def label(self) -> str:
        return self.user.email if self.user and self.user.email else self.addresses[0]


def person(*, user_id: int | None = None, email: str = "") -> Person | None:
    """Who support is looking at: a user (all their addresses), or an address nobody has
    registered. ``email`` alone that several users have raises AmbiguousAddress; one with no
    canonical form raises BadQuery."""
    address = _canonical_or_bad_query(email) if (email or "").strip() else ""
    user: User | None = None
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return None
    elif address:
        users = users_with_address(address)
        if len(users) > 1:
            raise AmbiguousAddress(users)
        user = users[0] if users else None
    else:
        return None

    addresses = {address} if address else set()
    identities: list[Identity] = []
    if user is not None:
        if user.email:
            addresses.add(user.email)
        addresses.update(EmailAddress.objects.filter(user=user).values_list("email", flat=True))
        for account in SocialAccount.objects.filter(user=user).order_by("pk"):
            oid, _dot, tid = account.uid.partition(".")
            identities.append(
                Identity(
                    uid=account.uid,
                    object_id=oid,
                    tenant_id=tid,
                    personal=tid == settings.CONSUMER_TENANT_ID,
                    address=str((account.extra_data or {}).get("preferred_username", "")),
                )
            )
        registrations = list(Registration.objects.filter(user=user).order_by("-created_at")[:20])
    else:
        registrations = list(
            Registration.objects.filter(invitation_address__in=addresses)
            .select_related("user")
            .order_by("-created_at")[:20]
        )
    addresses.update(r.invitation_address for r in registrations)
    addresses.discard("")
    own_requests = Q(email__in=addresses) | (Q(user=user) if user else Q())
    references = list(
        SupportRequest.objects.filter(own_requests)
        .exclude(error_reference="")
        .order_by("-created_at")
        .values_list("error_reference", flat=True)[:50]
    )
    return Person(
        user=user,
        addresses=sorted(addresses),
        identities=identities,
        registrations=registrations,
        references=references,
    )


# The timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in the merged timeline: entries sort by (time, source rank, id), newest first."""

    at: datetime
    rank: int
    pk: int

    def encode(self) -> str:
        micros = (self.at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.rank}.{self.pk}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        match = _CURSOR.match(value or "")
        if not match:
            raise BadQuery(_("That page link is not valid. Start from the newest events."))
        micros, rank, pk = (int(part) for part in match.groups())
        try:
            at = _EPOCH + timedelta(microseconds=micros)
        except OverflowError as exc:
            raise BadQuery(_("That page link is not valid. Start from the newest events.")) from exc
        return cls(at=at, rank=rank, pk=pk)


@dataclass
class Entry:
    at: datetime
    rank: int
    pk: int
    source: str
    title: str
    detail: str = ""
    code: str = ""
    reference: str = ""
    state: str = ""

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, rank=self.rank, pk=self.pk)


@dataclass
class Timeline:
    entries: list[Entry]
    next_cursor: str = ""


def _older_than(cursor: Cursor | None, rank: int, time_field: str) -> Q:
    if cursor is None:
        return Q()
    if rank < cursor.rank:
        return Q(**{f"{time_field}__lte": cursor.at})
    if rank > cursor.rank:
        return Q(**{f"{time_field}__lt": cursor.at})
    return Q(**{f"{time_field}__lt": cursor.at}) | Q(**{time_field: cursor.at, "pk__lt": cursor.pk})


def _any(*conditions: Q | None) -> Q | None:
    """OR of the conditions that apply, or None when none does (then the source is skipped)."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined |= condition
    return combined


def _timeline_querysets(subject: Person, before: Cursor | None, n: int) -> dict[int, QuerySet]:
    """Each source's query for one timeline page, by source rank (sources with nothing to match
    on are left out)."""
    user, addresses = subject.user, subject.addresses
    by_user = (
        (lambda field: Q(**{f"{field}_id": user.pk})) if user is not None else (lambda field: None)
    )
    by_address = (
        (lambda field: Q(**{f"{field}__in": addresses})) if addresses else (lambda field: None)
    )
    sources = [
        (
            1,
            SignInEvent.objects.all(),
            "created_at",
            _any(
                by_user("user"),
                by_address("address"),
                Q(reference_id__in=subject.references) if subject.references else None,
            ),
        ),
        (
            2,
            Registration.objects.all(),
            "created_at",
            _any(by_user("user"), by_address("invitation_address")),
        ),
        (
            3,
            OutboundEmail.objects.all(),
            "created_at",
            _any(by_user("user"), by_address("to")),
        ),
        (
            4,
            Conversion.objects.all(),
            "created_at",
            _any(by_user("user"), by_address("work_email"), by_address("personal_address")),
        ),
        (5, AuditEvent.objects.all(), "at", _any(by_user("actor"), by_address("subject_email"))),
        (
            6,
            SupportRequest.objects.all(),
            "created_at",
            _any(by_user("user"), by_address("email")),
        ),
        (
            7,
            SupportAction.objects.all(),
            "at",
            _any(by_user("subject_user"), by_address("subject_email")),
        ),
    ]
    return {
        rank: queryset.filter(who)
        .filter(_older_than(before, rank, time_field))
        .order_by(f"-{time_field}", "-pk")[:n]
        for rank, queryset, time_field, who in sources
        if who is not None
    }


_SENTINEL_USER_PK = -7_000_001
_SENTINEL_CURSOR_PK = -7_000_002
_SENTINEL_AT = datetime(1999, 12, 31, 23, 59, 58, 123457, tzinfo=UTC)


def _timeline_rows(subject: Person, before: Cursor | None, n: int) -> dict[int, list]:
    """Run :func:`_timeline_querysets` compiled once per shape of page (whether there is a
    user, how many addresses and references, which cursor, page size): Django spends about three
    times as long compiling these seven queries as the database spends answering them."""
    ops = connection.ops
    sentinel_addresses = [f"sentinel-{i}@compiled.invalid" for i in range(len(subject.addresses))]
    sentinel_references = [f"SENTINEL{i:08d}" for i in range(len(subject.references))]
    values = {
        _SENTINEL_USER_PK: subject.user.pk if subject.user is not None else None,
        _SENTINEL_CURSOR_PK: before.pk if before else None,
        ops.adapt_datetimefield_value(_SENTINEL_AT): (
            ops.adapt_datetimefield_value(before.at) if before else None
        ),
        **dict(zip(sentinel_addresses, subject.addresses, strict=True)),
        **dict(zip(sentinel_references, subject.references, strict=True)),
    }
    stand_in = Person(
        user=User(pk=_SENTINEL_USER_PK) if subject.user is not None else None,
        addresses=sentinel_addresses,
        identities=[],
        registrations=[],
        references=sentinel_references,
    )
    cursor = Cursor(at=_SENTINEL_AT, rank=before.rank, pk=_SENTINEL_CURSOR_PK) if before else None
    shape = (
        "timeline",
        subject.user is not None,
        len(subject.addresses),
        len(subject.references),
        before.rank if before else None,
        n,
    )
    return _run_compiled(shape, lambda: _timeline_querysets(stand_in, cursor, n), values)


def timeline(
    *, subject: Person, before: Cursor | None = None, page_size: int = PAGE_SIZE
) -> Timeline:
    """One page of everything that happened to ``subject``, newest first: sign-in outcomes,
    registrations, emails, conversions, agreement changes, support requests and support actions.
    Seven queries at most, whatever the size of the tables."""
    rows = _timeline_rows(subject, before, page_size + 1)
    entries: list[Entry] = []

    for e in rows.get(1, []):
        entries.append(
            Entry(
                e.created_at,
                1,
                e.pk,
                "sign_in",
                choice_label(e, "outcome"),
                detail=" · ".join(x for x in (e.address, e.detail) if x),
                code=" ".join(x for x in (e.error_code, e.provider_code) if x),
                reference=e.reference_id,
            )
        )

    for r in rows.get(2, []):
        entries.append(
            Entry(
                r.created_at,
                2,
                r.pk,
                "registration",
                _("Registration of %(address)s") % {"address": r.invitation_address},
                detail=_("Expires %(when)s UTC") % {"when": f"{r.expires_at:%Y-%m-%d %H:%M}"},
                state=choice_label(r, "state"),
            )
        )

    for m in rows.get(3, []):
        entries.append(
            Entry(
                m.created_at,
                3,
                m.pk,
                "email",
                _("Email “%(subject)s”") % {"subject": m.subject},
                detail=_("To %(to)s") % {"to": m.to}
                + (f" · {m.last_error}" if m.last_error else ""),
                state=choice_label(m, "state"),
            )
        )

    for c in rows.get(4, []):
        entries.append(
            Entry(
                c.created_at,
                4,
                c.pk,
                "conversion",
                _("Conversion from %(personal)s to %(work)s")
                % {"personal": c.personal_address, "work": c.work_email},
                state=choice_label(c, "state"),
            )
        )

    for a in rows.get(5, []):
        entries.append(
            Entry(
                a.at,
                5,
                a.pk,
                "agreement",
                choice_label(a, "action"),
                detail=" · ".join(
                    x for x in (a.agreement_number, a.subject_email, a.detail, a.actor_email) if x
                ),
            )
        )

    for s in rows.get(6, []):
        entries.append(
            Entry(
                s.created_at,
                6,
                s.pk,
                "support_request",
                _("Support request: %(topic)s") % {"topic": choice_label(s, "topic")},
                detail=s.message[:200],
                code=s.error_code,
                reference=s.reference,
                state=choice_label(s, "state"),
            )
        )

    for x in rows.get(7, []):
        entries.append(
            Entry(
                x.at,
                7,
                x.pk,
                "support_action",
                choice_label(x, "action"),
                detail=_("By %(who)s: %(why)s") % {"who": x.actor_email, "why": x.reason or "—"},
            )
        )

    entries.sort(key=lambda entry: (entry.at, entry.rank, entry.pk), reverse=True)
    page = entries[:page_size]
    more = len(entries) > page_size
    return Timeline(entries=page, next_cursor=page[-1].cursor.encode() if more else "")


# The queue ------------------------------------------------------------------------------------


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
