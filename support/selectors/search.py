"""Finding people by email address, agreement number or reference id."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.utils.translation import gettext as _

from accounts.models import SignInEvent, User
from agreements.models import Agreement
from support.models import SupportRequest
from support.selectors.errors import BadQuery
from vlsc_portal.addresses import InvalidEmailAddress, canonical_email

MAX_QUERY_LENGTH = 254
REQUEST_REFERENCE = re.compile(r"^SR-[A-Z2-9]{8}$")
SIGN_IN_REFERENCE = re.compile(r"^[A-Z2-9]{12}$")
AGREEMENT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


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
        address = canonical_or_bad_query(text)
        return LookupResult(kind="email", query=address, matches=people_with_address(address))
    if SIGN_IN_REFERENCE.match(upper):
        result = _by_sign_in_reference(upper)
        if result.matches or result.note:
            return result
    if AGREEMENT_NUMBER.match(upper):
        return _by_agreement(upper)
    raise BadQuery(_("That is not an email address, an agreement number or a reference id."))


def canonical_or_bad_query(text: str) -> str:
    """``text``'s canonical address; raises BadQuery (with the reason) when it has none."""
    try:
        return canonical_email(text)
    except InvalidEmailAddress as exc:
        raise BadQuery(
            _("That is not a valid email address: %(why)s") % {"why": exc.messages[0]}
        ) from exc


# Exact comparisons on canonical addresses, each served by a plain index on its column (a
# case-insensitive UPPER or LOWER would let the database fold look-alike letters such as dotless
# ı onto ASCII ones). A UNION of index lookups: an OR of subqueries would scan every user.
_USERS_WITH_ADDRESS = """
    SELECT * FROM accounts_user
    WHERE id IN (
        SELECT id FROM accounts_user WHERE email = %(address)s
        UNION SELECT user_id FROM account_emailaddress WHERE email = %(address)s
        UNION SELECT user_id FROM accounts_registration WHERE invitation_address = %(address)s
        UNION SELECT user_id FROM accounts_conversion WHERE work_email = %(address)s
        UNION SELECT user_id FROM accounts_conversion WHERE personal_address = %(address)s
        UNION SELECT user_id FROM accounts_signinevent
              WHERE address = %(address)s AND user_id IS NOT NULL
    )
    ORDER BY id
    LIMIT 20
"""


def users_with_address(address: str) -> list[User]:
    """Users who have ``address`` (canonical) as sign-in address, allauth address (verified or
    not), registration, conversion or sign-in attempt: at most 20, by id, each once.

    One SQL statement with one named parameter, written out rather than built from querysets:
    Django took longer to compile the six-part UNION (about 2.5 ms) than PostgreSQL took to
    answer it, on a page that is timed (README, "Benchmarks")."""
    return list(User.objects.raw(_USERS_WITH_ADDRESS, {"address": address}))


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
