"""The queue (due time, overdue flag), assign, answer, close; resend and cancel, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Registration
from agreements.models import AccessRequest
from notifications.models import OutboundEmail
from support import selectors, services
from support.models import SupportAction, SupportRequest

pytestmark = pytest.mark.django_db
State = SupportRequest.State


def open_request(**extra) -> SupportRequest:
    fields = {"name": "Bob", "email": "bob@fabrikam.com", "topic": "other", "message": "Help me."}
    return services.open_support_request(**{**fields, **extra})


def test_the_queue_orders_by_due_time_and_flags_overdue_in_text(support_client, support_user):
    now = timezone.now()
    late = open_request(now=now - timedelta(hours=25))
    fresh = open_request(now=now - timedelta(hours=1))
    rows = selectors.open_queue(user=support_user, now=now)
    assert [(r.request, r.overdue) for r in rows] == [(late, True), (fresh, False)]
    # An hour before it is due it is not overdue; at its due time it is.
    assert not fresh.is_overdue(now=fresh.due_at - timedelta(seconds=1))
    assert fresh.is_overdue(now=fresh.due_at)
    page = support_client.get("/support/queue/").content.decode()
    assert page.count("Overdue") == 1 and page.index(late.reference) < page.index(fresh.reference)


def test_answered_requests_are_not_overdue_and_closed_ones_leave_the_queue(support_user):
    now = timezone.now()
    answered = open_request(now=now - timedelta(hours=30))
    closed = open_request(now=now - timedelta(hours=30))
    services.answer_support_request(support_request=answered, actor=support_user, answer="Done")
    services.close_support_request(support_request=closed, actor=support_user)
    rows = selectors.open_queue(user=support_user, now=now)
    assert [(r.request.pk, r.overdue) for r in rows] == [(answered.pk, False)]


def test_access_requests_needing_support_are_listed(support_client, bob):
    AccessRequest.objects.create(
        requester=bob,
        email="bob@fabrikam.com",
        agreement_number="V7654321",
        kind="downloads",
        needs_support=True,
    )
    assert "V7654321" in support_client.get("/support/queue/").content.decode()


def test_assign_answer_and_close_are_audited_and_the_answer_is_emailed(
    support_client, support_user, django_capture_on_commit_callbacks, eager_celery
):
    request = open_request()
    base = f"/support/requests/{request.reference}"
    assert support_client.post(f"{base}/assign/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(f"{base}/answer/", {"answer": "Sign in again."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == State.ANSWERED and request.answer == "Sign in again."
    assert request.assigned_to == support_user
    # The answer's delivery also sends, in the same batch, the acknowledgement queued when the
    # request was opened (its own task never ran here): find the answer by its subject.
    answers = [m for m in mail.outbox if m.subject == f"Answer to your request {request.reference}"]
    assert len(answers) == 1 and "Sign in again." in answers[0].body
    assert support_client.post(f"{base}/answer/", {"answer": "Twice?"}).status_code == 409
    assert support_client.post(f"{base}/close/", {"close-reason": "solved"}).status_code == 302
    assert support_client.post(f"{base}/close/", {"close-reason": "again"}).status_code == 409
    actions = list(SupportAction.objects.order_by("at").values_list("action", "actor_email"))
    assert actions == [
        ("request_assigned", "support@vlsc.example"),
        ("request_answered", "support@vlsc.example"),
        ("request_closed", "support@vlsc.example"),
    ]


def test_an_empty_or_oversized_answer_is_400(support_client):
    request = open_request()
    url = f"/support/requests/{request.reference}/answer/"
    assert support_client.post(url, {"answer": ""}).status_code == 400
    assert support_client.post(url, {"answer": "x" * 4001}).status_code == 400
    assert support_client.get("/support/requests/SR-NOTTHERE/").status_code == 404
    assert support_client.get("/support/requests/garbage/").status_code == 404


def test_resend_needs_a_reason_and_is_audited(support_client, support_user, pending):
    url = f"/support/registrations/{pending.pk}/resend/"
    assert support_client.post(url, {f"resend-{pending.pk}-reason": ""}).status_code == 400
    response = support_client.post(url, {f"resend-{pending.pk}-reason": "asked by phone"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.resends == 1
    assert OutboundEmail.objects.filter(to="licensing@fabrikam.com", kind="verification").exists()
    action = SupportAction.objects.get()
    assert (action.action, action.reason, action.actor, action.subject_user) == (
        "verification_resent",
        "asked by phone",
        support_user,
        pending.user,
    )


def test_resend_shares_the_persons_rate_limit(support_client, bob, pending):
    from django.test import Client

    # bob's own resend a moment ago used this minute's allowance (same action and key).
    own = Client()
    own.force_login(bob)
    assert own.post("/register/resend/").status_code == 302
    url = f"/support/registrations/{pending.pk}/resend/"
    response = support_client.post(url, {f"resend-{pending.pk}-reason": "again"})
    assert response.status_code == 429
    assert "sent too recently" in response.content.decode()
    assert "Try again after" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 60
    assert not SupportAction.objects.exists()


def test_cancel_lets_the_person_register_again_at_once(support_client, pending, bob):
    url = f"/support/registrations/{pending.pk}/cancel/"
    response = support_client.post(url, {f"cancel-{pending.pk}-reason": "wrong address"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.state == Registration.State.CANCELLED
    assert SupportAction.objects.get().action == "registration_cancelled"
    support_client.force_login(bob)
    assert support_client.get("/register/").status_code == 200  # no pending registration left


def test_actions_on_a_closed_registration_change_nothing(support_client, pending):
    Registration.objects.filter(pk=pending.pk).update(state="expired", expired_at=timezone.now())
    for kind in ("resend", "cancel"):
        url = f"/support/registrations/{pending.pk}/{kind}/"
        assert support_client.post(url, {f"{kind}-{pending.pk}-reason": "x"}).status_code == 302
    assert not SupportAction.objects.exists()
    assert support_client.post("/support/registrations/999/cancel/", {}).status_code == 404
