"""The dashboard's reads: one page of the agreements a person reaches (contact roles ∪ grants on
their verified addresses, as ``agreements.selectors.access_by_agreement`` computes them), filtered
and sorted in the database, with what they may do on each.

One SQL statement whatever the person holds (:func:`_page_statement`): the page of at most
``PER_PAGE`` agreements, each with the person's contact roles and granted kinds on it as two bit
masks, and the number of matching agreements (``COUNT(*) OVER ()``). It is written out rather
than built with the ORM because building the ORM's version (two correlated aggregates over
``Case`` expressions, a window, the filter) cost several times what the database took to answer
it, on every request. The same statement answers the unusual paths: a page past the end (the
count, then the last page) and a filter that matches nothing (does the person reach any
agreement at all?). Nothing is cached but label texts, which depend only on the code and the
language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from urllib.parse import quote, urlencode

from django.core.paginator import Page, Paginator
from django.db import connection
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, AgreementContact, PermissionGrant
from agreements.roles import KIND_ALLOWS, kinds_for

PER_PAGE = 50
# A page number past this is past the end of any list: the last page is shown, unqueried.
MAX_PAGE = 1_000_000
FILTER_MAX_LENGTH = 100
ROLE_BITS = {role: 1 << bit for bit, role in enumerate(AgreementContact.Role.values)}
KIND_BITS = {kind: 1 << bit for bit, kind in enumerate(PermissionGrant.Kind.values)}
DEFAULT_SORT = "number"
# Sortable columns, in the table's order: (key, header).
COLUMNS = (
    ("number", _("Agreement")),
    ("program", _("Program")),
    ("customer", _("Customer")),
    ("status", _("Status")),
)
SORTS = frozenset(key for key, _header in COLUMNS) | {f"-{key}" for key, _header in COLUMNS}


@dataclass
class DashboardPage:
    """What the dashboard shows. ``page.object_list`` holds one dict per agreement (``number``,
    ``url``, ``program``, ``customer``, ``status``, ``roles``, ``kinds``, ``may``: plain text but
    ``may``, a safe list). ``missing_page`` is the page asked for when it does not exist (the
    first or last page is shown instead); ``reaches_any``: the person reaches some agreement,
    whatever the filter. ``columns`` and ``links`` (``first``, ``previous``, ``next``, ``last``,
    those that exist) carry the query strings of the sort and page links: this page's query with
    ``sort`` or ``page`` changed, as Django's ``{% querystring %}`` makes them, built once here
    rather than by eight tags each copying the request's ``QueryDict``."""

    page: Page
    sort: str
    text: str
    missing_page: str | None
    reaches_any: bool
    columns: list[dict]
    links: dict[str, str] = dataclass_field(default_factory=dict)

    @property
    def summary(self) -> str:
        """Which agreements these are, of how many, on which page (one translated sentence:
        cheaper than a ``blocktranslate`` of six numbers on every request)."""
        page, total = self.page, self.page.paginator.count
        values = {
            "first": page.start_index(),
            "last": page.end_index(),
            "total": total,
            "text": self.text,
            "number": page.number,
            "pages": page.paginator.num_pages,
        }
        if self.text:
            return (
                ngettext(
                    "%(first)s–%(last)s of %(total)s agreement matching “%(text)s”, "
                    "page %(number)s of %(pages)s.",
                    "%(first)s–%(last)s of %(total)s agreements matching “%(text)s”, "
                    "page %(number)s of %(pages)s.",
                    total,
                )
                % values
            )
        return (
            ngettext(
                "%(first)s–%(last)s of %(total)s agreement, page %(number)s of %(pages)s.",
                "%(first)s–%(last)s of %(total)s agreements, page %(number)s of %(pages)s.",
                total,
            )
            % values
        )

    @property
    def position(self) -> str:
        return gettext("Page %(number)s of %(pages)s") % {
            "number": self.page.number,
            "pages": self.page.paginator.num_pages,
        }


@lru_cache(maxsize=16)
def _choice_texts(language: str | None) -> dict[str, dict[str, str]]:
    """Program and status names in ``language`` (the active one), and their alphabetical rank."""
    texts: dict[str, dict] = {}
    for field, choices in (("program", Agreement.Program), ("status", Agreement.Status)):
        names = {value: str(label) for value, label in choices.choices}
        texts[field] = names
        ranked = sorted(names, key=lambda value: names[value].casefold())
        texts[f"{field}_rank"] = {value: rank for rank, value in enumerate(ranked)}
    return texts


@lru_cache(maxsize=1024)
def _access_texts(language: str | None, roles: int, grants: int) -> tuple[str, str, SafeString]:
    """Roles, kinds and what they allow, as a row shows them, for one combination of role and
    kind bit masks (in the active ``language``, which keys the cache)."""
    role_set = {role for role, bit in ROLE_BITS.items() if roles & bit}
    kinds = kinds_for(roles=role_set, grants={k for k, bit in KIND_BITS.items() if grants & bit})
    role_names = [str(role.label) for role in AgreementContact.Role if role in role_set]
    kind_names = [str(PermissionGrant.Kind(kind).label) for kind in kinds]
    may = format_html_join("", "<li>{}</li>", ((str(KIND_ALLOWS[kind]),) for kind in kinds))
    return ", ".join(role_names) or "—", ", ".join(kind_names), may


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _path_segment(text: str) -> str:
    """``text`` as one segment of a URL path (``quote(text, safe="")``), without the call for
    the usual agreement number, which needs no quoting: ``quote`` cost a tenth of a millisecond
    for a page's fifty."""
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def _case(column: str, values: dict[str, int]) -> str:
    """SQL mapping ``column``'s choice codes (constants of the code, never input) to numbers."""
    assert all(re.fullmatch(r"[a-z_]+", value) for value in values)  # noqa: S101
    whens = " ".join(f"WHEN '{value}' THEN {number}" for value, number in values.items())
    return f"CASE {column} {whens} ELSE 0 END"


def _in(name: str, values: list[str], params: dict) -> str:
    """``IN (%(name_0)s, ...)`` with the values added to ``params``."""
    names = [f"{name}_{n}" for n in range(len(values))]
    params.update(zip(names, values, strict=True))
    return "IN (" + ", ".join(f"%({n})s" for n in names) + ")"


_AGREEMENTS = Agreement._meta.db_table
_CONTACTS = AgreementContact._meta.db_table
_GRANTS = PermissionGrant._meta.db_table
_HELD = (
    "(SELECT SUM(DISTINCT {bit}) FROM {table} h WHERE h.agreement_id = a.id AND h.email {emails})"
)


def _page_statement(
    *, emails: list[str], text: str, sort: str, texts: dict, limit: int, offset: int
) -> tuple[str, dict]:
    """The statement and its named parameters. Rows: number, program, customer, status, role
    mask, kind mask, total. ``text`` matches the agreement number or customer (containing it,
    ignoring case, as ``icontains``) or a program whose name (in the active language) contains
    it. Sorted by ``sort`` (one of ``SORTS``), then by agreement number."""
    # Only table names, choice codes, ranks and placeholders go into the text; every value the
    # person gave (addresses, filter) is a named parameter.
    params: dict = {"limit": limit, "offset": offset}
    in_emails = _in("email", emails, params)
    where = [
        f"(a.id IN (SELECT agreement_id FROM {_GRANTS} WHERE email {in_emails})"  # noqa: S608
        f" OR a.id IN (SELECT agreement_id FROM {_CONTACTS} WHERE email {in_emails}))"
    ]
    if text:
        escaped = text.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["like"] = f"%{escaped}%"
        matches = [
            "UPPER(a.number) LIKE %(like)s ESCAPE '\\'",
            "UPPER(a.customer) LIKE %(like)s ESCAPE '\\'",
        ]
        needle = text.casefold()
        programs = [code for code, name in texts["program"].items() if needle in name.casefold()]
        if programs:
            matches.append("a.program " + _in("program", programs, params))
        where.append("(" + " OR ".join(matches) + ")")
    key = sort.lstrip("-")
    column = _case(f"a.{key}", texts[f"{key}_rank"]) if key in ("program", "status") else f"a.{key}"
    order = f"{column} {'DESC' if sort.startswith('-') else 'ASC'}"
    if key != "number":
        order += ", a.number ASC"
    roles = _HELD.format(bit=_case("h.role", ROLE_BITS), table=_CONTACTS, emails=in_emails)
    kinds = _HELD.format(bit=_case("h.kind", KIND_BITS), table=_GRANTS, emails=in_emails)
    sql = (
        f"SELECT a.number, a.program, a.customer, a.status, COALESCE({roles}, 0),"  # noqa: S608
        f" COALESCE({kinds}, 0), COUNT(*) OVER ()"
        f" FROM {_AGREEMENTS} a WHERE {' AND '.join(where)}"
        f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
    )
    return sql, params


def _rows(**kwargs) -> list[tuple]:
    sql, params = _page_statement(**kwargs)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def query_string(query: Mapping[str, list[str]], **changes: str | int | None) -> str:
    """``query`` (a query string's parameters, each with its values) with ``changes`` made, as
    ``?...``: a value replaces the parameter's values, None removes it (Django's
    ``{% querystring %}``, without copying a ``QueryDict``)."""
    params = dict(query)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = [str(value)]
    if not params and not query:
        return ""
    return "?" + urlencode([(key, value) for key, values in params.items() for value in values])


def page_links(page: Page, query: Mapping[str, list[str]]) -> dict[str, str]:
    """The query strings of the first, previous, next and last pages, those there are."""
    links = {}
    if page.has_previous():
        links["first"] = query_string(query, page=1)
        links["previous"] = query_string(query, page=page.previous_page_number())
    if page.has_next():
        links["next"] = query_string(query, page=page.next_page_number())
        links["last"] = query_string(query, page=page.paginator.num_pages)
    return links


def sort_columns(sort: str, query: Mapping[str, list[str]] | None = None) -> list[dict]:
    """Each sortable header: its key, text, ``aria_sort`` (for the sorted one), the sort its
    link asks for (the other direction when it is the sorted one, else ascending) and that
    link's query string (``query`` with the sort changed, back to the first page)."""
    columns: list[dict] = []
    for key, header in COLUMNS:
        aria_sort = None
        if sort.lstrip("-") == key:
            aria_sort = "descending" if sort.startswith("-") else "ascending"
        link_sort = key if aria_sort == "descending" else f"-{key}" if aria_sort else key
        columns.append(
            {
                "key": key,
                "header": header,
                "aria_sort": aria_sort,
                "link_sort": link_sort,
                "href": query_string(query or {}, sort=link_sort, page=None),
            }
        )
    return columns


def _asked_page(asked: str | None) -> tuple[int, bool]:
    """The page number asked for and whether it names a page: anything but a whole number from
    1 is the first page; a number too large for any list (or for ``int``), ``MAX_PAGE + 1``."""
    if asked in (None, ""):
        return 1, True
    try:
        number = int(asked)
    except ValueError:
        too_large = asked.isascii() and asked.isdigit()
        return (MAX_PAGE + 1 if too_large else 1), False
    if number < 1:
        return 1, False
    return min(number, MAX_PAGE + 1), True


class _CountedPaginator(Paginator):
    """Django's paginator, told the count that came with the page."""

    def __init__(self, count: int) -> None:
        super().__init__([], PER_PAGE)
        self.__dict__["count"] = count  # primes the cached property


def dashboard_page(
    *,
    emails: list[str],
    text: str = "",
    sort: str | None = None,
    page: str | None = None,
    query: Mapping[str, list[str]] | None = None,
) -> DashboardPage:
    """One page of ``PER_PAGE`` agreements reached by ``emails`` (verified, canonical), those
    matching ``text`` when given, sorted by ``sort`` (a key of ``SORTS``; anything else sorts
    by agreement number): see :func:`_page_statement`. ``page`` is the page number as asked
    (any string): one that is not a page number shows the first page, one past the end the
    last; either way ``missing_page`` says what was asked. ``query`` is the page's query string
    (each parameter with its values), which the sort and page links keep."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    language = get_language()
    texts = _choice_texts(language)
    number, exists = _asked_page(page)
    found: list[tuple] = []
    total = 0
    if emails:
        statement = {"emails": emails, "text": text, "sort": sort, "texts": texts}
        if number <= MAX_PAGE:
            found = _rows(**statement, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
        if found:
            total = found[0][-1]
        elif number > 1:  # past the end: count, then the last page
            first = _rows(**statement, limit=1, offset=0)
            total = first[0][-1] if first else 0
            number, exists = max(1, -(-total // PER_PAGE)), False
            if total:
                found = _rows(**statement, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    elif number > 1:  # no verified address yet (a registration pending): only the first page
        number, exists = 1, False
    url = reverse("agreements:detail", args=["-"]).removesuffix("-/")  # once, not per row
    programs, statuses = texts["program"], texts["status"]
    listed = []
    for agreement_number, program, customer, status, roles, grants, _total in found:
        role_text, kind_text, may = _access_texts(language, int(roles), int(grants))
        listed.append(
            {
                "number": agreement_number,
                "url": f"{url}{_path_segment(agreement_number)}/",
                "program": programs.get(program, program),
                "customer": customer,
                "status": statuses.get(status, status),
                "roles": role_text,
                "kinds": kind_text,
                "may": may,
            }
        )
    shown = Page(listed, number, _CountedPaginator(total))
    reaches_any = total > 0 or (
        bool(text and emails)
        and bool(_rows(emails=emails, text="", sort=sort, texts=texts, limit=1, offset=0))
    )
    missing = None if exists else page
    query = query or {}
    return DashboardPage(
        shown,
        sort,
        text,
        missing,
        reaches_any,
        sort_columns(sort, query),
        page_links(shown, query),
    )
