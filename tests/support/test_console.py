"""The console as a work tool (issue 15 item 2): its home (lookup, queue counts, newest open
requests), "Assign to me" only while the request is not the viewer's, one reason per action."""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from support import services
from support.models import SupportAction
from support.selectors import SUPPORT_GROUP
from tests.support.conftest import make_user

pytestmark = pytest.mark.django_db


def open_request(**extra):
    fields = {"name": "Bob", "email": "bob@fabrikam.com", "topic": "other", "message": "Help me."}
    return services.open_support_request(**{**fields, **extra})


@pytest.fixture
def colleague(db) -> User:
    user = make_user("carol@vlsc.example", first_name="Carol", last_name="Colleague")
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    return user


def test_the_home_counts_open_requests_and_lists_the_newest(
    support_client, support_user, colleague
):
    now = timezone.now()
    late = open_request(now=now - timedelta(hours=30))
    mine = open_request(now=now - timedelta(hours=2))
    theirs = open_request(now=now - timedelta(hours=1))
    answered = open_request(now=now - timedelta(minutes=5))
    services.assign_to_self(support_request=mine, actor=support_user)
    services.assign_to_self(support_request=theirs, actor=colleague)
    services.answer_support_request(support_request=answered, actor=colleague, answer="Done.")
    response = support_client.get("/support/")
    assert response.status_code == 200
    summary = response.context["queue"]
    assert (summary.open, summary.unassigned, summary.assigned_to_viewer, summary.overdue) == (
        3,
        1,
        1,
        1,
    )
    assert summary.newest == [theirs, mine, late]  # newest first; the answered one is not open
    page = response.content.decode()
    assert page.index(theirs.reference) < page.index(mine.reference) < page.index(late.reference)
    assert answered.reference not in page
    assert 'href="/support/overview/"' in page and 'href="/support/queue/"' in page
    assert 'role="search"' in page


def test_the_home_counts_nothing_for_nobody(support_client):
    summary = support_client.get("/support/").context["queue"]
    assert (summary.open, summary.overdue, summary.newest) == (0, 0, [])
    assert "No open requests." in support_client.get("/support/").content.decode()


def _assign_form(page: str) -> bool:
    return "/assign/" in page


def test_assign_to_me_shows_until_the_request_is_the_viewers(support_client, support_user):
    request = open_request()
    url = f"/support/requests/{request.reference}/"
    page = support_client.get(url).content.decode()
    assert _assign_form(page) and ">Assign to me<" in page and "Nobody yet" in page

    support_client.post(f"{url}assign/")
    page = support_client.get(url).content.decode()
    assert not _assign_form(page) and "Assign to me" not in page
    assert "Assigned to you" in page


def test_a_request_assigned_to_a_colleague_says_who_and_can_be_taken_over(
    support_client, support_user, colleague
):
    request = open_request()
    services.assign_to_self(support_request=request, actor=colleague)
    url = f"/support/requests/{request.reference}/"
    page = support_client.get(url).content.decode()
    assert "Carol Colleague (carol@vlsc.example)" in page and "Assigned to you" not in page
    assert "Assign to me instead" in page
    support_client.post(f"{url}assign/")
    request.refresh_from_db()
    assert request.assigned_to == support_user
    assert SupportAction.objects.filter(action="request_assigned").count() == 2  # both audited


def test_a_closed_request_offers_no_assignment(support_client, support_user):
    request = open_request()
    services.close_support_request(support_request=request, actor=support_user)
    page = support_client.get(f"/support/requests/{request.reference}/").content.decode()
    assert not _assign_form(page) and "/close/" not in page


def test_each_action_has_its_own_labelled_reason_field(support_client, pending):
    page = support_client.get(f"/support/person/?user={pending.user_id}").content.decode()
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', page)
    reasons = {f: text for f, text in labels if f.endswith("-reason")}
    assert reasons == {
        f"id_resend-{pending.pk}-reason": "Why resend it (kept in the audit record)",
        f"id_cancel-{pending.pk}-reason": "Why cancel it (kept in the audit record)",
    }
    request = open_request()
    page = support_client.get(f"/support/requests/{request.reference}/").content.decode()
    labels = dict(re.findall(r'<label for="([^"]+)">([^<]+)</label>', page))
    labels.pop("language-switcher")  # the footer's, on every page
    assert labels == {
        "id_answer": "Answer",
        "id_close-reason": "Why close it (optional, kept in the audit record)",
    }


def test_a_reason_given_to_one_action_is_not_taken_by_the_other(support_client, pending):
    # The cancel form's reason does not count for a resend (and the other way round).
    response = support_client.post(
        f"/support/registrations/{pending.pk}/resend/", {f"cancel-{pending.pk}-reason": "x"}
    )
    assert response.status_code == 400
    assert not SupportAction.objects.exists()


def test_the_person_page_puts_times_in_utc_time_elements(support_client, pending):
    page = support_client.get(f"/support/person/?user={pending.user_id}").content.decode()
    made = pending.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{made}" title="' in page
    assert 'class="person-layout"' in page
    assert re.search(r'<link rel="stylesheet" href="[^"]*/css/support\.css">', page)


def test_a_search_that_finds_one_person_does_not_count_the_queue(support_client, bob):
    with CaptureQueriesContext(connection) as queries:
        response = support_client.get("/support/?q=bob@fabrikam.com")
    assert response.status_code == 302
    assert not any("support_supportrequest" in q["sql"] for q in queries.captured_queries)
