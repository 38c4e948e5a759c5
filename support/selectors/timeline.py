"""The person timeline.

``timeline`` reads each source table with one indexed query (newest first, keyset paginated,
``page_size + 1`` rows) and merges them in Python, so the number of queries is the same whether a
person has ten events or ten million, and nothing is written twice to make it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Conversion, Registration, SignInEvent, User
from agreements.models import AuditEvent
from notifications.models import OutboundEmail
from support.models import SupportAction, SupportRequest
from support.selectors.compiled import run_compiled
from support.selectors.errors import BadQuery
from support.selectors.people import Person
from vlsc_portal.choices import choice_label

PAGE_SIZE = 25
_CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,2})\.(\d{1,19})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def timeline_querysets(subject: Person, before: Cursor | None, n: int) -> dict[int, QuerySet[Any]]:
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


def timeline_rows(subject: Person, before: Cursor | None, n: int) -> dict[int, list[Any]]:
    """Run :func:`timeline_querysets` compiled once per shape of page (whether there is a
    user, how many addresses and references, which cursor, page size): Django spends about three
    times as long compiling these seven queries as the database spends answering them."""
    ops = connection.ops
    sentinel_addresses = [f"sentinel-{i}@compiled.invalid" for i in range(len(subject.addresses))]
    sentinel_references = [f"SENTINEL{i:08d}" for i in range(len(subject.references))]
    values: dict[Any, Any] = {
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
    return run_compiled(shape, lambda: timeline_querysets(stand_in, cursor, n), values)


def timeline(
    *, subject: Person, before: Cursor | None = None, page_size: int = PAGE_SIZE
) -> Timeline:
    """One page of everything that happened to ``subject``, newest first: sign-in outcomes,
    registrations, emails, conversions, agreement changes, support requests and support actions.
    Seven queries at most, whatever the size of the tables."""
    rows = timeline_rows(subject, before, page_size + 1)
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
