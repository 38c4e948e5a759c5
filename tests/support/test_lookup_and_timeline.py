"""Lookup by each key, one merged timeline per person, constant queries, bad input → 400."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Conversion, Registration, SignInEvent
from agreements.models import Agreement, AgreementContact, AuditEvent, PermissionGrant
from notifications.models import OutboundEmail
from support import selectors, services
from support.models import SupportRequest

pytestmark = pytest.mark.django_db


def sign_in_event(ref: str, **fields) -> SignInEvent:
    return SignInEvent.objects.create(
        reference_id=ref, outcome=fields.pop("outcome", "refused"), **fields
    )


def test_it_finds_a_person_by_email_case_insensitively(support_client, bob, pending):
    response = support_client.get("/support/?q=LICENSING@Fabrikam.com")
    assert response.status_code == 302
    assert response["Location"] == f"/support/person/?user={bob.pk}"
    page = support_client.get(response["Location"]).content.decode()
    assert "licensing@fabrikam.com" in page and "Waiting for verification" in page


def test_it_finds_an_address_nobody_registered(support_client):
    sign_in_event("AAAAAAAAAAAA", address="Frank@Adatum.com", error_code="E05")
    response = support_client.get("/support/?q=frank@adatum.com", follow=True)
    page = response.content.decode()
    assert "No portal user has these addresses." in page
    assert "AAAAAAAAAAAA" in page and "E05" in page


def test_it_finds_the_person_of_a_sign_in_reference_id(support_client, bob):
    sign_in_event("BBBBBBBBBBBB", user=bob, address="bob@fabrikam.com")
    response = support_client.get("/support/?q=bbbbbbbbbbbb")
    assert response["Location"] == f"/support/person/?user={bob.pk}"


def test_a_reference_id_naming_nobody_finds_the_request_that_quoted_it(support_client, bob):
    sign_in_event("CCCCCCCCCCCC", outcome="invalid_callback", detail="no flow")
    services.open_support_request(
        name="Bob",
        email="bob@fabrikam.com",
        topic="sign_in",
        message="Start again page.",
        error_reference="CCCCCCCCCCCC",
        user=bob,
    )
    response = support_client.get("/support/?q=CCCCCCCCCCCC")
    assert response["Location"] == f"/support/person/?user={bob.pk}"
    page = support_client.get(response["Location"]).content.decode()
    assert "Forged, replayed or stale callback" in page  # the error is on bob's timeline


def test_it_finds_the_person_of_a_support_request_reference(support_client, bob):
    ref = services.open_support_request(
        name="Bob", email="bob@fabrikam.com", topic="other", message="Hello there."
    ).reference
    response = support_client.get(f"/support/?q={ref.lower()}", follow=True)
    assert response.context["subject"].user == bob  # sent signed out: found by its address


def test_an_agreement_number_lists_its_contacts_and_grants(support_client, bob):
    agreement = Agreement.objects.create(
        number="V1234567", program="vla", customer="Fabrikam", start_date=date(2024, 1, 1)
    )
    AgreementContact.objects.create(
        agreement=agreement, role="primary_contact", email="bob@fabrikam.com"
    )
    PermissionGrant.objects.create(agreement=agreement, email="ann@fabrikam.com", kind="downloads")
    response = support_client.get("/support/?q=v1234567")
    page = response.content.decode()
    assert response.status_code == 200
    assert "bob@fabrikam.com" in page and "Primary Contact" in page
    assert "ann@fabrikam.com" in page and "Downloads" in page
    assert f"?user={bob.pk}" in page


@pytest.mark.parametrize(
    "query",
    ["not an address!", "x" * 300, "a@", "bob@@fabrikam.com", "\x00abc", "ab"],
)
def test_malformed_queries_are_400_with_a_message(support_client, query):
    response = support_client.get("/support/", {"q": query})
    assert response.status_code == 400
    page = response.content.decode()
    # A NUL byte is refused before the view runs, by the 400 page; the rest by the form.
    assert "There is a problem" in page or "We could not understand that request" in page


def test_unknown_numbers_and_references_are_404(support_client):
    assert support_client.get("/support/?q=V0000000").status_code == 404
    assert support_client.get("/support/?q=SR-ABCDEFGH").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "user=abc",
        "user=99999999999999999999999",
        # Digits to str.isdigit but not to int(): these were a 500.
        "user=%C2%B2",
        "user=%E2%91%A0",
        "user=1&user=%C2%B2",
        # Digits to int() but not ASCII: no user id is written so.
        "user=%D9%A1",
        "user=%EF%BC%91",
        "user=1&before=%D9%A1.1.1",
        "email=nobody",
        "user=1&before=zzz",
        "user=1&before=999999999999999999.1.1",
        "user=1&before=1764000000000000.1.9999999999999999999",
    ],
)
def test_malformed_person_links_are_400(support_client, bob, query):
    assert support_client.get(f"/support/person/?{query}").status_code == 400


def test_a_missing_person_is_404(support_client):
    assert support_client.get("/support/person/?user=424242").status_code == 404
    assert support_client.get("/support/person/").status_code == 404


def test_the_timeline_joins_every_source_newest_first(bob, pending, support_user):
    base = timezone.now() - timedelta(days=1)
    sign_in_event("DDDDDDDDDDDD", user=bob, address="bob@fabrikam.com", outcome="signed_in")
    OutboundEmail.objects.create(
        kind="verification", to="Licensing@fabrikam.com", subject="Verify", body="", queued_at=base
    )
    Conversion.objects.create(
        user=bob,
        personal_uid="p",
        personal_address="bob@outlook.com",
        name="Bob",
        work_email="bob@fabrikam.com",
        expires_at=base + timedelta(days=1),
    )
    AuditEvent.objects.create(action="permission_granted", subject_email="bob@fabrikam.com")
    services.open_support_request(
        name="Bob", email="bob@fabrikam.com", topic="other", message="Please help me."
    )
    request = SupportRequest.objects.get()
    services.assign_to_self(support_request=request, actor=support_user)
    subject = selectors.person(user_id=bob.pk)
    sources = [e.source for e in selectors.timeline(subject=subject).entries]
    assert set(sources) == {
        "sign_in",
        "registration",
        "email",
        "conversion",
        "agreement",
        "support_request",
        "support_action",
    }
    times = [e.at for e in selectors.timeline(subject=subject).entries]
    assert times == sorted(times, reverse=True)


def _many_events(bob, count: int) -> None:
    now = timezone.now()
    SignInEvent.objects.bulk_create(
        SignInEvent(
            reference_id=f"R{i:011d}", outcome="refused", user=bob, address="bob@fabrikam.com"
        )
        for i in range(count)
    )
    OutboundEmail.objects.bulk_create(
        OutboundEmail(kind="k", to="bob@fabrikam.com", subject=f"s{i}", body="", queued_at=now)
        for i in range(count)
    )
    # Equal times within and across sources: the cursor's tie-breaks (id, then source) are tested.
    SignInEvent.objects.update(created_at=now)
    OutboundEmail.objects.update(created_at=now)
    Registration.objects.update(created_at=now)


@pytest.mark.parametrize("count", [3, 300])
def test_the_query_count_does_not_grow_with_the_data(
    bob, pending, count, django_assert_max_num_queries
):
    _many_events(bob, count)
    with django_assert_max_num_queries(12):
        subject = selectors.person(user_id=bob.pk)
        selectors.timeline(subject=subject, page_size=25)


def test_keyset_pages_cover_every_entry_once(bob, pending):
    _many_events(bob, 60)
    subject = selectors.person(user_id=bob.pk)
    seen, cursor = [], None
    for _ in range(20):
        page = selectors.timeline(subject=subject, before=cursor, page_size=25)
        seen += [(e.source, e.pk) for e in page.entries]
        if not page.next_cursor:
            break
        cursor = selectors.Cursor.decode(page.next_cursor)
    assert len(seen) == len(set(seen)) == 60 + 60 + 1


def test_the_person_page_pages_to_older_events(support_client, bob, pending):
    _many_events(bob, 40)
    page = support_client.get(f"/support/person/?user={bob.pk}").content.decode()
    assert "Older events" in page
    link = page.split('href="/support/person/?')[-1].split('"')[0].replace("&amp;", "&")
    older = support_client.get(f"/support/person/?{link}")
    assert older.status_code == 200 and "Newest events" in older.content.decode()


def _sqlite_plans(run) -> list[str]:
    """The SQLite query plan of each statement ``run()`` executes."""
    if connection.vendor != "sqlite":
        pytest.skip("the plan is checked on SQLite")
    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
            plans.append("\n".join(str(row) for row in cursor.fetchall()))
    return plans


def test_every_part_of_the_address_lookup_is_an_index_search(bob):
    [plan] = _sqlite_plans(lambda: selectors.users_with_address("bob@fabrikam.com"))
    assert "SCAN" not in plan, plan
    for index in (
        "accounts_user_email",
        "account_emailaddress_email",
        "registration_invitation_idx",
        "accounts_conversion_work_email",
        "conversion_personal_idx",
        "signin_address_time",
    ):
        assert f"INDEX {index}" in plan, plan


def test_every_timeline_query_searches_by_index_never_scans(bob, pending):
    services.open_support_request(
        name="Bob",
        email="bob@fabrikam.com",
        topic="sign_in",
        message="Start again page.",
        error_reference="EEEEEEEEEEEE",
    )
    subject = selectors.person(user_id=bob.pk)
    assert subject.references == ["EEEEEEEEEEEE"]
    cursor = selectors.Cursor(at=timezone.now(), rank=3, pk=7)
    plans = _sqlite_plans(lambda: selectors.timeline(subject=subject, before=cursor))
    assert len(plans) == 7
    for plan in plans:
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
    assert "signin_address_time" in plans[0] and "signin_user_time" in plans[0], plans[0]


def test_the_address_lookup_finds_each_user_once_through_every_kind_of_record(bob, pending):
    from tests.support.conftest import make_user

    carol = make_user("carol@contoso.com")
    dave = make_user("dave@contoso.com")
    erin = make_user("erin@contoso.com")
    frank = make_user("frank@contoso.com")
    Conversion.objects.create(
        user=carol,
        personal_uid="p1",
        personal_address="shared@outlook.com",
        name="Carol",
        work_email="carol@contoso.com",
        expires_at=timezone.now(),
    )
    Conversion.objects.create(
        user=dave,
        personal_uid="p2",
        personal_address="dave@outlook.com",
        name="Dave",
        work_email="shared@outlook.com",
        expires_at=timezone.now(),
    )
    for n in range(3):  # many attempts, one user
        sign_in_event(f"S{n:011d}", user=erin, address="shared@outlook.com")
    sign_in_event("SNOBODY00000", address="shared@outlook.com")  # names no user
    EmailAddress.objects.create(user=frank, email="shared@outlook.com")
    sign_in_event("SFRANK000000", user=frank, address="shared@outlook.com")  # two kinds
    Registration.objects.filter(pk=pending.pk).update(invitation_address="shared@outlook.com")
    gina = make_user("shared@outlook.com")  # her sign-in address

    found = selectors.users_with_address("shared@outlook.com")

    assert found == sorted([bob, carol, dave, erin, frank, gina], key=lambda u: u.pk)
    assert selectors.users_with_address("bob@fabrikam.com") == [bob]  # sign-in address
    assert selectors.users_with_address("nobody@contoso.com") == []


def test_the_address_lookup_lists_at_most_twenty_users():
    from tests.support.conftest import make_user

    users = [make_user(f"u{n}@contoso.com") for n in range(22)]
    for user in users:
        EmailAddress.objects.create(user=user, email="team@contoso.com")
    assert selectors.users_with_address("team@contoso.com") == users[:20]


def test_a_timeline_shows_only_its_own_persons_rows_each_once(bob, pending):
    from tests.support.conftest import make_user

    alice = make_user("alice@fabrikam.com")
    sign_in_event("ALICE0000000", user=alice, address="alice@fabrikam.com")
    OutboundEmail.objects.create(
        kind="k", to="alice@fabrikam.com", subject="A", body="", queued_at=timezone.now()
    )
    # One event that matches bob three ways (user, address, quoted reference) and one email
    # that matches him two ways (user and address).
    sign_in_event("BOB000000000", user=bob, address="bob@fabrikam.com")
    OutboundEmail.objects.create(
        kind="k", to="bob@fabrikam.com", user=bob, subject="B", body="", queued_at=timezone.now()
    )
    services.open_support_request(
        name="Bob",
        email="bob@fabrikam.com",
        topic="other",
        message="Help.",
        user=bob,
        error_reference="BOB000000000",
    )
    bob_entries = selectors.timeline(subject=selectors.person(user_id=bob.pk)).entries
    keys = [(e.source, e.pk) for e in bob_entries]
    assert len(keys) == len(set(keys))
    assert [e.reference for e in bob_entries if e.source == "sign_in"] == ["BOB000000000"]
    assert [e.title for e in bob_entries].count("Email “B”") == 1
    alice_entries = selectors.timeline(subject=selectors.person(user_id=alice.pk)).entries
    assert [(e.source, e.reference or e.title) for e in alice_entries] == [
        ("email", "Email “A”"),
        ("sign_in", "ALICE0000000"),
    ]


def test_addresses_holding_sql_characters_are_only_ever_values(bob):
    from tests.support.conftest import make_user

    hostile = 'o\'brien%(address)s--"x"@contoso.com'  # quote, placeholder, comment, quotes
    user = make_user(hostile)
    sign_in_event("QUOTE0000000", user=user, address=hostile)
    assert selectors.users_with_address(hostile) == [user]
    assert selectors.users_with_address("' OR 1=1 --") == []
    entries = selectors.timeline(subject=selectors.person(user_id=user.pk)).entries
    assert [e.reference for e in entries] == ["QUOTE0000000"]
    assert selectors.person(user_id=user.pk).addresses == [hostile]


@pytest.mark.parametrize(
    ("query", "address"),
    [
        ("bob@fabr\u0131kam.com", "bob@xn--fabrkam-ufb.com"),  # dotless ı: another domain
        ("b\u0131b@fabrikam.com", None),  # a non-ASCII local part is no address
    ],
)
def test_a_look_alike_address_finds_nobody_on_any_database(bob, query, address):
    # PostgreSQL's UPPER('ı') is 'I': the case-insensitive lookup this replaced found bob there.
    if address is None:
        with pytest.raises(selectors.BadQuery):
            selectors.lookup(query=query)
        return
    result = selectors.lookup(query=query)
    assert result.query == address
    assert [(m.email, m.user) for m in result.matches] == [(address, None)]
    assert selectors.users_with_address("bob@fabrikam.com") == [bob]


@pytest.mark.parametrize(
    ("state", "shown"),
    [("pending", True), ("expired", True), ("completed", False), ("cancelled", False)],
)
def test_a_registrations_deadline_shows_only_while_it_is_or_was_one(
    support_client, bob, pending, state, shown
):
    """A completed or cancelled registration has no deadline left to show."""
    Registration.objects.filter(pk=pending.pk).update(state=state)
    page = support_client.get(f"/support/person/?user={bob.pk}").content.decode()
    assert ("Expires" in page) is shown
