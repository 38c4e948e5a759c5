"""The dashboard: 50 agreements a page, sorted and filtered by query string (a GET form, no
JavaScript), always fresh (nothing cached), a fixed number of queries whatever a person holds,
and a clear answer to any query string."""

from __future__ import annotations

import re
from datetime import date

import pytest
from allauth.account.models import EmailAddress

from agreements.models import Agreement, AgreementContact, PermissionGrant
from tests.agreements.conftest import make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Program = Agreement.Program
EMAIL = "alice@contoso.com"


def holding(count: int, *, email: str = EMAIL, kinds=(Kind.DOWNLOADS,)) -> list[Agreement]:
    """``count`` agreements A0000000… with customers Customer 000… and programs in turn, each
    with ``kinds`` granted to ``email``, and one grant to someone else."""
    programs = [Program.VOLUME_LICENSE_AGREEMENT, Program.OPEN_VALUE, Program.ENTERPRISE_AGREEMENT]
    agreements = Agreement.objects.bulk_create(
        Agreement(
            number=f"A{n:07d}",
            customer=f"Customer {n:03d}",
            program=programs[n % len(programs)],
            start_date=date(2024, 1, 1),
        )
        for n in range(count)
    )
    PermissionGrant.objects.bulk_create(
        [PermissionGrant(agreement=a, email=email, kind=k) for a in agreements for k in kinds]
        + [
            PermissionGrant(agreement=a, email="other@x.com", kind=Kind.DOWNLOADS)
            for a in agreements
        ]
    )
    return agreements


@pytest.fixture
def alice(client):
    user = make_user(EMAIL)
    client.force_login(user)
    return client


def numbers(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/agreements/([^/]+)/">', html)


def get(client, query: str = "", status: int = 200) -> str:
    response = client.get(f"/dashboard/{query}")
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def test_it_shows_fifty_a_page_by_agreement_number_with_a_summary(alice):
    holding(120)
    html = get(alice)
    assert numbers(html) == [f"A{n:07d}" for n in range(50)]
    assert "1–50 of 120 agreements, page 1 of 3." in html
    assert '<caption id="agreements-caption">' in html
    assert 'aria-sort="ascending"' in html and html.count("aria-sort=") == 1
    last = get(alice, "?page=3")
    assert numbers(last) == [f"A{n:07d}" for n in range(100, 120)]
    assert "101–120 of 120 agreements, page 3 of 3." in last


def test_it_sorts_by_each_column_both_ways(alice):
    holding(60)
    html = get(alice, "?sort=-customer")
    assert numbers(html)[:2] == ["A0000059", "A0000058"]
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="\?sort=customer">', html)
    html = get(alice, "?sort=-number&page=2")
    assert numbers(html) == [f"A{n:07d}" for n in range(9, -1, -1)]
    # Programs by the names people read: Enterprise Agreement < Open Value < Volume License...
    html = get(alice, "?sort=program")
    assert numbers(html)[:3] == ["A0000002", "A0000005", "A0000008"]
    assert numbers(get(alice, "?sort=-program"))[0] == "A0000000"
    assert len(numbers(get(alice, "?sort=status"))) == 50


def test_the_filter_matches_number_customer_and_program_and_links_keep_it(alice):
    holding(160)
    assert numbers(get(alice, "?q=a000001")) == [f"A{n:07d}" for n in range(10, 20)]
    assert numbers(get(alice, "?q=CUSTOMER+15")) == [f"A{n:07d}" for n in range(150, 160)]
    html = get(alice, "?q=open+value&sort=-number")
    assert numbers(html)[0] == "A0000157"
    assert "1–50 of 53 agreements matching “open value”, page 1 of 2." in html
    assert 'href="?q=open+value&amp;sort=-number&amp;page=2"' in html  # next page keeps both
    assert 'href="?q=open+value&amp;sort=number"' in html  # a sort link keeps the filter
    assert '<input type="hidden" name="sort" value="-number">' in html  # the form keeps the sort
    assert 'value="open value"' in html


def test_a_filter_that_matches_nothing_says_so(alice):
    holding(3)
    html = get(alice, "?q=zzz")
    assert "No agreements match “zzz”." in html
    assert "<table" not in html
    assert "No permissions are associated with your account" not in html


def test_a_person_with_no_agreements_gets_the_next_steps_whatever_the_filter(alice):
    for query in ("", "?q=zzz"):
        html = get(alice, query)
        assert "No permissions are associated with your account" in html
        assert "No agreements match" not in html


@pytest.mark.parametrize(
    ("query", "shown", "notice"),
    [
        ("?page=abc", "A0000000", "There is no page “abc”: this is page 1."),
        ("?page=99999", "A0000100", "There is no page “99999”: this is page 3."),
        ("?page=0", "A0000000", "There is no page “0”: this is page 1."),
        ("?page=-2", "A0000000", "There is no page “-2”: this is page 1."),
        ("?page=" + "9" * 5000, "A0000100", "this is page 3."),
        ("?page=1.5", "A0000000", "this is page 1."),
        ("?sort=evil", "A0000000", None),
        ("?sort=number;drop", "A0000000", None),
        ("?page=2&page=1", "A0000000", None),
    ],
)
def test_a_bad_page_or_sort_shows_the_nearest_page_and_says_so(alice, query, shown, notice):
    holding(101)
    html = get(alice, query)
    assert numbers(html)[0] == shown
    if notice:
        assert notice in html
    else:
        assert "There is no page" not in html


@pytest.mark.parametrize("text", ["x" * 10_000, "x" * 101])
def test_a_filter_too_long_is_refused_with_a_message(alice, text):
    holding(3)
    response = alice.get("/dashboard/", {"q": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'aria-invalid="true"' in html
    assert "Ensure this value has at most 100 characters" in html
    assert "<table" not in html


def test_a_null_character_is_a_bad_request(alice):
    holding(3)
    response = alice.get("/dashboard/", {"q": "bad\x00null"})
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


def test_the_filter_field_is_labelled(alice):
    holding(1)
    html = get(alice)
    assert '<label for="id_q">Filter by agreement number, customer or program</label>' in html
    assert '<form method="get" action="/dashboard/" role="search"' in html


def test_changes_show_at_once(alice, contoso):
    assert "No permissions are associated with your account" in get(alice)
    grant = PermissionGrant.objects.create(agreement=contoso, email=EMAIL, kind=Kind.DOWNLOADS)
    html = get(alice)
    assert "V1234567" in html and "Download the licensed software" in html
    Agreement.objects.filter(pk=contoso.pk).update(status=Agreement.Status.EXPIRED)
    assert "Expired" in get(alice)
    grant.delete()
    assert "V1234567" not in get(alice)


def test_an_address_losing_its_verification_loses_its_rows(alice, contoso):
    second = EmailAddress.objects.create(
        user=EmailAddress.objects.get(email=EMAIL).user, email="a.smith@contoso.com", verified=True
    )
    PermissionGrant.objects.create(
        agreement=contoso, email="a.smith@contoso.com", kind=Kind.PRODUCT_KEYS
    )
    assert "V1234567" in get(alice)
    EmailAddress.objects.filter(pk=second.pk).update(verified=False)
    assert "V1234567" not in get(alice)


def test_another_persons_agreements_are_never_shown(client, contoso):
    alice = make_user(EMAIL)
    bob = make_user("bob@contoso.com")
    PermissionGrant.objects.create(agreement=contoso, email=EMAIL, kind=Kind.DOWNLOADS)
    client.force_login(alice)
    assert "V1234567" in get(client)
    client.force_login(bob)
    assert "V1234567" not in get(client)
    assert "V1234567" not in get(client, "?q=V1234567")


def test_a_row_shows_roles_kinds_and_what_they_allow(alice, contoso):
    AgreementContact.objects.create(
        agreement=contoso, role=AgreementContact.Role.PRIMARY_CONTACT, email=EMAIL
    )
    PermissionGrant.objects.create(agreement=contoso, email=EMAIL, kind=Kind.ADMINISTRATOR)
    html = get(alice)
    row = re.search(r'<tr><th scope="row">.*?</tr>', html, re.S).group(0)
    assert 'href="/agreements/V1234567/"' in row
    assert "<td>Primary Contact</td>" in row
    assert "<td>Administrator, Licensing Info Viewer, Downloads, Product Keys</td>" in row
    assert "<li>Assign, edit and remove other people&#x27;s permissions" in row


@pytest.mark.parametrize("query", ["", "?q=customer&sort=-program&page=2"])
def test_the_queries_do_not_grow_with_the_agreements(client, query):
    """The user (with whether they hold any permission), their verified addresses and pending
    registration (one statement), the page with its count, roles and kinds (one statement), and
    for these two, administrators of agreements and so members of the administrators' group, their
    permissions (one statement: the navigation shows Support console by permission); the session
    comes from the cache. Someone holding no permission is spared the last
    (tests/accounts/test_backend.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    few, many = make_user("few@contoso.com"), make_user("many@contoso.com")
    holding(60, email="few@contoso.com", kinds=(Kind.ADMINISTRATOR, Kind.DOWNLOADS))
    Agreement.objects.bulk_create(  # 200 more, 5 kinds each for many: 1,000 permissions
        Agreement(
            number=f"M{n:07d}",
            customer=f"Customer M{n}",
            program=Program.MPSA,
            start_date=date(2024, 1, 1),
        )
        for n in range(200)
    )
    PermissionGrant.objects.bulk_create(
        PermissionGrant(agreement=a, email="many@contoso.com", kind=k)
        for a in Agreement.objects.filter(number__startswith="M")
        for k in list(Kind.values)[:5]
    )
    counts = []
    for user in (few, many):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/dashboard/{query}").status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1] <= 4, counts


def test_a_pending_registration_keeps_the_next_steps_until_its_48_hours_run(client):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Registration

    user = make_user("carol@contoso.com", verified=False)
    registration = Registration.objects.create(
        user=user,
        sign_in_address="carol@contoso.com",
        invitation_address="licensing@contoso.com",
        created_at=timezone.now() - timedelta(hours=1),
        expires_at=timezone.now() + timedelta(hours=47),
        nonce="n",
    )
    client.force_login(user)
    page = get(client)
    assert "No permissions are associated with your account" in page
    assert "still waiting for verification (until " in page
    assert registration.expires_at.strftime("%Y-%m-%d %H:%M") in page
    Registration.objects.filter(pk=registration.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/register/"


@pytest.mark.parametrize(
    "query", ["?page=2", "?page=3", "?page=99999999999999999999", "?q=x&page=3", "?page=1.5"]
)
def test_a_page_past_the_first_with_only_a_pending_registration_is_the_first(client, query):
    """Someone whose only invitation address is still waiting for verification has no
    agreements: any page they ask for is the first, with the next steps (it was a 500)."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Registration

    user = make_user("carol@contoso.com", verified=False)
    Registration.objects.create(
        user=user,
        sign_in_address="carol@contoso.com",
        invitation_address="licensing@contoso.com",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=48),
        nonce="n",
    )
    client.force_login(user)
    html = get(client, query)
    assert "No permissions are associated with your account" in html
    assert "still waiting for verification" in html
    assert "page 2 of" not in html and 'href="?page=' not in html


@pytest.mark.parametrize(
    "query",
    ["", "?q=a%26b&sort=-program", "?page=3&q=x&q=y&extra=%C3%A9", "?sort=customer&page=2"],
)
@pytest.mark.parametrize(
    "changes", [{"sort": "-number", "page": None}, {"page": 1}, {"page": 7}, {"q": None}]
)
def test_the_links_query_strings_are_djangos_querystring(rf, query, changes):
    from django.template import RequestContext, Template

    from agreements.dashboard import query_string

    request = rf.get(f"/dashboard/{query}")
    tag = " ".join(
        f"{key}={value!r}" if value is not None else f"{key}=None" for key, value in changes.items()
    )
    expected = Template("{% querystring " + tag + " %}").render(RequestContext(request))
    assert query_string(dict(request.GET.lists()), **changes) == expected.replace("&amp;", "&")


@pytest.mark.parametrize("number", ["V1234567", "ab-c_d.e~f", "A/B", "A B", "Ä1", "a%2F", ""])
def test_a_rows_link_quotes_the_agreement_number_as_one_path_segment(number):
    from urllib.parse import quote

    from agreements.dashboard import _path_segment

    assert _path_segment(number) == quote(number, safe="")
