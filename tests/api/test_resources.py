"""The API's resources through the agreements services: what an administrator can do, and the
conventions (problem documents, ETag/If-Match, Idempotency-Key, cursors, rate limits)."""

import time

import pytest

from agreements.models import (
    AccessRequest,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from notifications.models import OutboundEmail

from .conftest import app_token, person_token

pytestmark = pytest.mark.usefixtures("authority")

Kind = PermissionGrant.Kind
PROBLEM = "application/problem+json"


def test_it_lists_only_the_callers_agreements(api, contoso_admin, fabrikam):
    response = api(person_token(contoso_admin)).get("/agreements")
    assert response.status_code == 200, response.content
    assert [a["number"] for a in response.json()["items"]] == ["V1234567"]
    assert response.json()["items"][0]["administered"] is True
    assert response["RateLimit"].startswith('"api";r=')
    assert "RateLimit-Policy" in response


def test_it_grants_lists_and_removes_a_permission_with_audit_and_email(api, contoso_admin):
    caller = api(person_token(contoso_admin))
    created = caller.post(
        "/agreements/v1234567/permissions", {"email": " Jane@Contoso.COM ", "kind": "downloads"}
    )
    assert created.status_code == 201, created.content
    grant = created.json()
    assert grant["email"] == "jane@contoso.com"  # canonical, as everywhere
    assert created["Location"] == f"/api/v1/agreements/V1234567/permissions/{grant['id']}"
    assert OutboundEmail.objects.filter(to="jane@contoso.com").count() == 1
    event = AuditEvent.objects.get(action="permission_granted", subject_email="jane@contoso.com")
    assert event.actor == contoso_admin and event.via.startswith("API (delegated")

    listed = caller.get("/agreements/V1234567/permissions", kind="downloads").json()
    assert [g["id"] for g in listed["items"]] == [grant["id"]]

    removed = caller.delete(
        f"/agreements/V1234567/permissions/{grant['id']}", {"If-Match": created["ETag"]}
    )
    assert removed.status_code == 204
    assert not PermissionGrant.objects.filter(pk=grant["id"]).exists()


def test_a_stale_if_match_is_refused_and_changes_nothing(api, contoso_admin, contoso):
    grant = PermissionGrant.objects.create(
        agreement=contoso, email="a@contoso.com", kind="downloads"
    )
    response = api(person_token(contoso_admin)).delete(
        f"/agreements/V1234567/permissions/{grant.pk}", {"If-Match": '"not-the-current-one"'}
    )
    assert response.status_code == 412
    assert response["Content-Type"] == PROBLEM
    assert response.json()["reference_id"] == response["X-Reference-Id"]
    assert PermissionGrant.objects.filter(pk=grant.pk).exists()


def test_a_replayed_idempotency_key_creates_nothing(api, contoso_admin):
    caller = api(person_token(contoso_admin))
    body = {"role": "primary_contact", "email": "pat@contoso.com", "name": "Pat"}
    first = caller.post("/agreements/V1234567/contacts", body, {"Idempotency-Key": "k-1"})
    AgreementContact.objects.filter(pk=first.json()["id"]).delete()  # even if it is gone now
    again = caller.post("/agreements/V1234567/contacts", body, {"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert not AgreementContact.objects.filter(email="pat@contoso.com").exists()
    assert AuditEvent.objects.filter(action="contact_added").count() == 1
    other = caller.post(
        "/agreements/V1234567/contacts", {**body, "name": "Other"}, {"Idempotency-Key": "k-1"}
    )
    assert (
        other.status_code == 422 and other.json()["type"] == "/api/problems/idempotency-key-reused"
    )


def test_app_only_access_is_the_authorisation_and_ends_when_revoked(
    api, contoso_app, contoso_admin
):
    from api import services

    caller = api(app_token())
    created = caller.post(
        "/agreements/V1234567/permissions", {"email": "ops@contoso.com", "kind": "product_keys"}
    )
    assert created.status_code == 201, created.content
    event = AuditEvent.objects.get(action="permission_granted")
    assert event.actor is None and "application 3f8c2a91" in event.via
    assert (
        caller.post(
            "/agreements/V1234567/permissions",
            {"email": "boss@contoso.com", "kind": "administrator"},
        ).status_code
        == 403
    )

    services.application_revoke(authorisation=contoso_app, actor=contoso_admin)
    for response in (
        caller.get("/agreements/V1234567/permissions"),
        caller.get(f"/agreements/V1234567/permissions/{created.json()['id']}"),
        caller.delete(f"/agreements/V1234567/permissions/{created.json()['id']}"),
    ):
        assert response.status_code == 404, response.content
    assert caller.get("/agreements").json()["items"] == []


def test_a_read_only_token_or_authorisation_cannot_write(api, contoso_admin, contoso_app):
    body = {"email": "x@contoso.com", "kind": "downloads"}
    read_scope = api(person_token(contoso_admin, scp="Permissions.Read"))
    assert read_scope.get("/agreements/V1234567/permissions").status_code == 200
    refused = read_scope.post("/agreements/V1234567/permissions", body)
    assert refused.status_code == 403 and "insufficient_scope" in refused["WWW-Authenticate"]
    contoso_app.access = "read"
    contoso_app.save()
    assert api(app_token()).post("/agreements/V1234567/permissions", body).status_code == 403
    assert not PermissionGrant.objects.filter(email="x@contoso.com").exists()


def test_administrator_needs_a_recent_sign_in(api, contoso_admin):
    body = {"email": "deputy@contoso.com", "kind": "administrator"}
    stale = api(person_token(contoso_admin, auth_time=int(time.time()) - 3600))
    refused = stale.post("/agreements/V1234567/permissions", body)
    assert refused.status_code == 401
    assert "insufficient_user_authentication" in refused["WWW-Authenticate"]
    fresh = api(person_token(contoso_admin, auth_time=int(time.time()) - 60))
    assert fresh.post("/agreements/V1234567/permissions", body).status_code == 201
    assert AuditEvent.objects.get(subject_email="deputy@contoso.com").step_up_at is not None


def test_the_last_administrator_cannot_remove_their_own(api, contoso_admin, contoso):
    grant = PermissionGrant.objects.get(email="admin@contoso.com")
    response = api(person_token(contoso_admin, auth_time=int(time.time()))).delete(
        f"/agreements/V1234567/permissions/{grant.pk}"
    )
    assert response.status_code == 409 and response["Content-Type"] == PROBLEM


def test_cursor_pages_cover_every_grant_once(api, contoso_admin, contoso):
    PermissionGrant.objects.bulk_create(
        PermissionGrant(agreement=contoso, email=f"p{i}@contoso.com", kind="downloads")
        for i in range(7)
    )
    caller = api(person_token(contoso_admin))
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = caller.get("/agreements/V1234567/permissions", **params).json()
        seen += [g["id"] for g in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == seen and len(seen) == len(set(seen)) == 8
    bad = caller.get("/agreements/V1234567/permissions", cursor="!!!")
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM


def test_invitations_access_requests_and_audit_over_the_api(api, contoso_admin, contoso):
    from .conftest import make_person

    caller = api(person_token(contoso_admin))
    caller.post(
        "/agreements/V1234567/permissions", {"email": "new@contoso.com", "kind": "downloads"}
    )
    invitations = caller.get("/agreements/V1234567/invitations").json()["items"]
    assert [(i["email"], i["state"]) for i in invitations] == [("new@contoso.com", "sent")]
    too_soon = caller.post(f"/agreements/V1234567/invitations/{invitations[0]['id']}/resend")
    assert too_soon.status_code == 409 and "Retry-After" in too_soon
    Invitation.objects.update(last_sent_at=Invitation.objects.get().last_sent_at.replace(year=2020))
    assert (
        caller.post(f"/agreements/V1234567/invitations/{invitations[0]['id']}/resend").status_code
        == 200
    )

    requester = make_person("req@contoso.com", "81d2f501-53b9-5d41-8823-64b2dd3f90e9")
    row = AccessRequest.objects.create(
        requester=requester,
        email="req@contoso.com",
        agreement_number="V1234567",
        agreement=contoso,
        kind="downloads",
    )
    read = caller.get(f"/agreements/V1234567/access-requests/{row.pk}")
    decided = caller.post(
        f"/agreements/V1234567/access-requests/{row.pk}/decision",
        {"accept": True, "message": "ok"},
        {"If-Match": read["ETag"]},
    )
    assert decided.status_code == 200 and decided.json()["state"] == "accepted"
    other = make_person("req2@contoso.com", "5b0e1f7c-2a44-4f0e-9d6b-3c1f2e4a5b6c")
    pending = AccessRequest.objects.create(
        requester=other,
        email="req2@contoso.com",
        agreement_number="V1234567",
        agreement=contoso,
        kind="downloads",
    )
    # Not a JSON boolean: pydantic would read "yes", "on" and 1 as true. 422, nothing decided.
    for accept in ('"yes"', '"true"', "1", '"on"', "null"):
        refused = caller.client.post(
            f"/api/v1/agreements/V1234567/access-requests/{pending.pk}/decision",
            '{"accept": ' + accept + "}",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {caller.bearer}",
        )
        assert refused.status_code == 422, (accept, refused.content)
        pending.refresh_from_db()
        assert pending.state == AccessRequest.State.PENDING
    for message in ("\\u0000", "\\udae6"):  # NUL, an unpaired surrogate: 422, nothing decided
        refused = caller.client.post(
            f"/api/v1/agreements/V1234567/access-requests/{pending.pk}/decision",
            '{"accept": false, "message": "' + message + '"}',
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {caller.bearer}",
        )
        assert refused.status_code == 422, refused.content
        pending.refresh_from_db()
        assert pending.state == AccessRequest.State.PENDING
    again = caller.post(
        f"/agreements/V1234567/access-requests/{row.pk}/decision",
        {"accept": False},
        {"If-Match": read["ETag"]},
    )
    assert again.status_code == 412
    actions = [e["action"] for e in caller.get("/agreements/V1234567/audit-events").json()["items"]]
    assert actions[:2] == ["permission_granted", "access_accepted"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('{"email": "a@contoso.com"}', "application/json", 422),
        ('{"email": "a b@contoso.com", "kind": "downloads"}', "application/json", 422),
        ('{"email": "a@contoso.com", "kind": "emperor"}', "application/json", 422),
        ("email=a@contoso.com", "application/x-www-form-urlencoded", 415),
        ("[" * 70000, "application/json", 413),
        # Text the database cannot keep (PostgreSQL refuses NUL; a lone surrogate has no UTF-8):
        # found by schemathesis as a 500 on PostgreSQL.
        ('{"email": "a@contoso.com\\u0000", "kind": "downloads"}', "application/json", 422),
        ('{"email": "a\\ud800@contoso.com", "kind": "downloads"}', "application/json", 422),
    ],
)
def test_bad_bodies_get_problem_documents(api, contoso_admin, body, content_type, status):
    response = api(person_token(contoso_admin)).post(
        "/agreements/V1234567/permissions", body, content_type=content_type
    )
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == status


def test_unknown_paths_and_methods_are_problem_documents(api, contoso_admin):
    caller = api(person_token(contoso_admin))
    assert caller.get("/nowhere")["Content-Type"] == PROBLEM
    wrong = caller.client.put("/api/v1/agreements", HTTP_AUTHORIZATION=f"Bearer {caller.bearer}")
    assert wrong.status_code == 405 and wrong["Content-Type"] == PROBLEM


def test_rate_limit_answers_429_with_retry_after(api, contoso_admin, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "api": "2/m/key"}
    caller = api(person_token(contoso_admin))
    assert [caller.get("/agreements").status_code for _ in range(2)] == [200, 200]
    refused = caller.get("/agreements")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused["Content-Type"] == PROBLEM


def _grant_page_queries(api, user, contoso, count, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PermissionGrant.objects.bulk_create(
        PermissionGrant(agreement=contoso, email=f"q{count}-{i}@contoso.com", kind="downloads")
        for i in range(count)
    )
    caller = api(person_token(user))
    with CaptureQueriesContext(connection) as queries:
        response = caller.get("/agreements/V1234567/permissions", limit=100)
    assert response.status_code == 200 and len(response.json()["items"]) == 100
    return len(queries)


def test_a_page_of_grants_takes_the_same_queries_whatever_the_data(
    api, contoso_admin, contoso, django_assert_max_num_queries
):
    few = _grant_page_queries(api, contoso_admin, contoso, 120, django_assert_max_num_queries)
    many = _grant_page_queries(api, contoso_admin, contoso, 2000, django_assert_max_num_queries)
    assert few == many <= 12


def test_idempotency_keys_are_forgotten_after_a_day(api, contoso_admin):
    from datetime import timedelta

    from django.utils import timezone

    from api.models import IdempotentRequest
    from api.tasks import purge_idempotency_keys

    body = {"email": "k@contoso.com", "kind": "downloads"}
    api(person_token(contoso_admin)).post(
        "/agreements/V1234567/permissions", body, {"Idempotency-Key": "day-old"}
    )
    assert purge_idempotency_keys() == 0
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_create_one_grant(contoso_admin):
    """The second waits on the first's key (its row is locked until the first commits), then
    replays its answer."""
    import threading

    from django.db import connection
    from django.test import Client

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL (CI runs it)")
    bearer = person_token(contoso_admin)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def post() -> None:
        barrier.wait()
        response = Client().post(
            "/api/v1/agreements/V1234567/permissions",
            '{"email": "race@contoso.com", "kind": "downloads"}',
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {bearer}",
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
        answers.append((response.status_code, response.content))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert PermissionGrant.objects.filter(email="race@contoso.com").count() == 1


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "\u0661\u0662", "12 "])
def test_a_content_length_that_is_not_a_number_is_a_400_problem(api, contoso_admin, length):
    """gunicorn refuses these itself; Django's development server passes them on, and Django's
    int() of it was a 500 (found by hand against ``make run``)."""
    caller = api(person_token(contoso_admin))
    response = caller.client.post(
        "/api/v1/agreements/V1234567/permissions",
        '{"email": "a@contoso.com", "kind": "downloads"}',
        content_type="application/json",
        CONTENT_LENGTH=length,
        HTTP_AUTHORIZATION=f"Bearer {caller.bearer}",
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert not PermissionGrant.objects.filter(email="a@contoso.com").exists()
