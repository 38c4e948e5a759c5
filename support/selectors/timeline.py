"""The person timeline.

``timeline`` reads each source table with one indexed query (newest first, keyset paginated,
``page_size + 1`` rows) and merges them in Python, so the number of queries is the same whether a
person has ten events or ten million, and nothing is written twice to make it.

The seven queries are SQL statements written out, each run with a dict of named parameters
through ``Model.objects.raw`` (on SQLite and PostgreSQL alike), not querysets: with querysets,
Django spent longer compiling them (about 6 ms a page on the benchmark machine) than PostgreSQL
spent answering them, on a page whose p95 must stay under 50 ms at 5,000,000 sign-in events
(README, "Benchmarks"). The person page's other queries are querysets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from accounts.models import Conversion, Registration, SignInEvent
from agreements.models import AuditEvent
from notifications.models import OutboundEmail
from support.models import SupportAction, SupportRequest
from support.selectors.errors import BadQuery
from support.selectors.people import Person
from vlsc_portal.choices import choice_label

PAGE_SIZE = 25
_CURSOR = re.compile(r"^([0-9]{1,18})\.([0-9]{1,2})\.([0-9]{1,19})$")
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
        if pk > _LAST_ID:
            raise BadQuery(_("That page link is not valid. Start from the newest events."))
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


# One statement per source: who (the user's id, their addresses, for sign-in events also the
# reference ids their support requests quoted) and where the page starts (strictly older than
# the cursor in the merged order), newest first, served by the (who, time) indexes. Only the
# placeholder lists of the IN clauses vary with the person; every value is a named parameter.
_SOURCES = (
    (
        1,
        SignInEvent,
        """
        SELECT * FROM accounts_signinevent
        WHERE (user_id = %(user)s OR address IN ({addresses})
               OR reference_id IN ({references}))
          AND (created_at < %(at)s OR (created_at = %(at)s AND id < %(pk)s))
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        2,
        Registration,
        """
        SELECT * FROM accounts_registration
        WHERE (user_id = %(user)s OR invitation_address IN ({addresses}))
          AND (created_at < %(at)s OR (created_at = %(at)s AND id < %(pk)s))
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        3,
        OutboundEmail,
        """
        SELECT * FROM notifications_outboundemail
        WHERE (user_id = %(user)s OR "to" IN ({addresses}))
          AND (created_at < %(at)s OR (created_at = %(at)s AND id < %(pk)s))
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        4,
        Conversion,
        """
        SELECT * FROM accounts_conversion
        WHERE (user_id = %(user)s OR work_email IN ({addresses})
               OR personal_address IN ({addresses}))
          AND (created_at < %(at)s OR (created_at = %(at)s AND id < %(pk)s))
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        5,
        AuditEvent,
        """
        SELECT * FROM agreements_auditevent
        WHERE (actor_id = %(user)s OR subject_email IN ({addresses}))
          AND (at < %(at)s OR (at = %(at)s AND id < %(pk)s))
        ORDER BY at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        6,
        SupportRequest,
        """
        SELECT * FROM support_supportrequest
        WHERE (user_id = %(user)s OR email IN ({addresses}))
          AND (created_at < %(at)s OR (created_at = %(at)s AND id < %(pk)s))
        ORDER BY created_at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
    (
        7,
        SupportAction,
        """
        SELECT * FROM support_supportaction
        WHERE (subject_user_id = %(user)s OR subject_email IN ({addresses}))
          AND (at < %(at)s OR (at = %(at)s AND id < %(pk)s))
        ORDER BY at DESC, id DESC
        LIMIT %(limit)s
        """,
    ),
)
_LAST_ID = 2**63 - 1  # ids are 64-bit
_END_OF_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _in_list(name: str, values: list[str]) -> tuple[str, dict[str, str]]:
    """The placeholders of an IN list (``%(name_0)s, %(name_1)s``) and their parameters; an
    empty list is ``NULL``, which matches nothing (SQL has no empty IN list)."""
    params = {f"{name}_{i}": value for i, value in enumerate(values)}
    return ", ".join(f"%({key})s" for key in params) or "NULL", params


def _rows(subject: Person, before: Cursor | None, n: int) -> dict[int, list[Any]]:
    """Each source's ``n`` newest rows for ``subject`` older than ``before``, by source rank."""
    addresses, address_params = _in_list("address", subject.addresses)
    references, reference_params = _in_list("reference", subject.references)
    at = before.at if before is not None else _END_OF_TIME
    params = {
        "user": subject.user.pk if subject.user is not None else None,
        "at": connection.ops.adapt_datetimefield_value(at),
        "limit": n,
        **address_params,
        **reference_params,
    }
    rows: dict[int, list[Any]] = {}
    for rank, model, sql in _SOURCES:
        # At the cursor's own time, a lower-ranked source's rows all come after it in the merged
        # order, a higher-ranked one's none, and its own source's those with a smaller id.
        if before is None or rank > before.rank:
            pk = 0
        elif rank < before.rank:
            pk = _LAST_ID
        else:
            pk = before.pk
        statement = sql.format(addresses=addresses, references=references)
        rows[rank] = list(model.objects.raw(statement, {**params, "pk": pk}))
    return rows


def timeline(
    *, subject: Person, before: Cursor | None = None, page_size: int = PAGE_SIZE
) -> Timeline:
    """One page of everything that happened to ``subject``, newest first: sign-in outcomes,
    registrations, emails, conversions, agreement changes, support requests and support actions.
    Seven queries at most, whatever the size of the tables."""
    rows = _rows(subject, before, page_size + 1)
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
                detail=_("Expires %(when)s UTC") % {"when": f"{r.expires_at:%Y-%m-%d %H:%M}"}
                if r.has_deadline
                else "",
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
