"""Access requests: private answers, rate limit, decisions in the admin, routing to support."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client

from agreements import services
from agreements.models import AccessRequest, AuditEvent, PermissionGrant
from notifications.models import OutboundEmail
from tests.agreements.conftest import make_user

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind


@pytest.fixture
def requester(client):
    user = make_user("harry@woodgrove.com")
    client.force_login(user)
    return user


def ask(client, number, **extra):
    data = {
        "agreement_number": number,
        "kind": Kind.LICENSING_INFO_VIEWER,
        "email": "harry@woodgrove.com",
    }
    data.update(extra)
    return client.post("/agreements/request-access/", data)


def test_the_answer_is_the_same_whether_or_not_the_number_exists(
    client, requester, contoso, administrator
):
    known = ask(client, "V1234567")
    unknown = ask(client, "Z9999999")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    page = client.get(known["Location"]).content.decode()
    assert "admin@contoso.com" not in page and "V1234567" not in page
    pending = AccessRequest.objects.get(agreement_number="V1234567")
    assert pending.state == AccessRequest.State.PENDING and not pending.needs_support
    assert (
        AccessRequest.objects.get(agreement_number="Z9999999").state
        == AccessRequest.State.UNMATCHED
    )
    assert not OutboundEmail.objects.exists()  # nothing emailed that could differ


def test_it_is_rate_limited(client, requester):
    from vlsc_portal import ratelimits

    (per_hour,) = ratelimits.rates("access_request")
    assert (per_hour.amount, per_hour.duration, per_hour.per) == (5, 3600, "user")
    for i in range(per_hour.amount):
        assert ask(client, f"Z{i:07d}").status_code == 302
    response = ask(client, "Z7654321")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many requests" in page
    # The date is there too when the hour ends tomorrow.
    when = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d UTC"
    assert re.search(rf"Try again after {when} \(in about (60|59) minutes\)", page)
    assert 3590 <= int(response["Retry-After"]) <= 3600
    assert AccessRequest.objects.count() == per_hour.amount


@pytest.mark.django_db(transaction=True)
def test_twelve_parallel_requests_let_exactly_five_through_the_service():
    """Each thread has its own database connection; they are released at once."""
    from vlsc_portal import ratelimits

    user = make_user("harry@woodgrove.com")
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def request_access(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            services.request_access(
                requester=user,
                email="harry@woodgrove.com",
                agreement_number=f"Z{i:07d}",
                kind=Kind.DOWNLOADS,
            )
            outcomes.append("accepted")
        except ratelimits.RateLimited:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=request_access, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["accepted"] * 5 + ["refused"] * 7
    assert AccessRequest.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_twelve_parallel_requests_to_the_live_server_let_exactly_five_through(live_server):
    """The attack as it was made: twelve browsers of one user posting at once."""
    user = make_user("harry@woodgrove.com")
    signed_in = Client()
    signed_in.force_login(user)
    session_cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_secret = "a" * 32  # any secret works when cookie and field agree
    url = f"{live_server.url}/agreements/request-access/"
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def post(i: int) -> None:
        with requests.Session() as browser:
            browser.trust_env = False
            browser.cookies.set(settings.SESSION_COOKIE_NAME, session_cookie)
            browser.cookies.set(settings.CSRF_COOKIE_NAME, csrf_secret)
            data = {
                "csrfmiddlewaretoken": csrf_secret,
                "agreement_number": f"Z{i:07d}",
                "kind": Kind.DOWNLOADS,
                "email": "harry@woodgrove.com",
            }
            barrier.wait(timeout=60)
            response = browser.post(url, data=data, allow_redirects=False, timeout=120)
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert sorted(statuses) == [302] * 5 + [429] * 7
    assert AccessRequest.objects.count() == 5


@pytest.mark.parametrize(
    "data",
    [
        {"agreement_number": ""},
        {"agreement_number": "<script>"},
        {"agreement_number": "x" * 500},
        {"kind": "root"},
        {"email": "someone-else@contoso.com"},
    ],
)
def test_bad_input_is_a_400_with_a_message(client, requester, data):
    response = ask(client, "V1234567", **data)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_nul_character_is_refused_before_the_form(client, requester):
    response = ask(client, "V1234567\x00")
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()
    assert not AccessRequest.objects.exists()


def test_without_a_verified_address_the_form_explains(client):
    user = make_user("new@contoso.com", verified=False)
    client.force_login(user)
    response = ask(client, "V1234567", email="new@contoso.com")
    assert response.status_code == 400
    assert "no verified address" in response.content.decode()


def test_without_a_verified_address_the_page_says_so_instead_of_an_empty_choice(client):
    client.force_login(make_user("new@contoso.com", verified=False))
    page = client.get("/agreements/request-access/").content.decode()
    assert "You have no verified address yet." in page
    assert 'href="/register/status/"' in page
    assert 'name="agreement_number"' not in page and 'id="id_email"' not in page


def test_each_error_is_tied_to_its_field_and_names_it(client, requester):
    """The error's id is in the field's aria-describedby (after its help), and an empty required
    field's message says which field (Django's "This field is required." did not)."""
    response = ask(client, "")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="id_agreement_number-help id_agreement_number-error-1"' in page
    assert 'id="id_agreement_number-error-1"' in page
    assert "“Agreement number” is required." in page
    assert "This field is required." not in page


def test_no_active_administrator_routes_to_support(client, requester, fabrikam):
    ask(client, "O8880202")
    assert AccessRequest.objects.get().needs_support


def test_the_administrator_accepts_in_the_admin_and_the_requester_is_emailed(
    client, requester, contoso, administrator, vlsc_admin_client
):
    services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="v1234567",
        kind=Kind.DOWNLOADS,
    )
    request = AccessRequest.objects.get()
    response = vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{request.pk}/change/",
        {"decision": "accept", "decision_message": "Welcome aboard"},
        follow=True,
    )
    assert "accepted and the requester was emailed" in response.content.decode()
    request.refresh_from_db()
    assert request.state == AccessRequest.State.ACCEPTED and request.decided_by == administrator
    assert PermissionGrant.objects.filter(
        agreement=contoso, email="harry@woodgrove.com", kind=Kind.DOWNLOADS
    ).exists()
    decision = OutboundEmail.objects.get(kind="access_request_decision")
    assert decision.to == "harry@woodgrove.com" and "Welcome aboard" in decision.body
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_ACCEPTED).exists()
    with pytest.raises(services.RequestAlreadyDecided):
        services.access_request_decide(access_request=request, actor=administrator, accept=False)


def test_the_administrator_denies_with_a_message(
    client, requester, contoso, administrator, vlsc_admin_client
):
    services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="V1234567",
        kind=Kind.DOWNLOADS,
    )
    request = AccessRequest.objects.get()
    vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{request.pk}/change/",
        {"decision": "deny", "decision_message": "Not our company"},
    )
    request.refresh_from_db()
    assert request.state == AccessRequest.State.DENIED
    assert not PermissionGrant.objects.filter(email="harry@woodgrove.com").exists()
    assert "declined" in OutboundEmail.objects.get(kind="access_request_decision").subject


def test_administrators_do_not_see_requests_for_other_agreements(
    client, requester, contoso, fabrikam, administrator, vlsc_admin_client
):
    services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="O8880202",
        kind=Kind.DOWNLOADS,
    )
    request = AccessRequest.objects.get()
    assert (
        vlsc_admin_client.get("/admin/agreements/accessrequest/").content.decode().count("O8880202")
        == 0
    )
    vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{request.pk}/change/", {"decision": "accept"}
    )
    request.refresh_from_db()
    assert request.state == AccessRequest.State.PENDING


def test_repeating_a_pending_request_does_not_duplicate_it(
    client, requester, contoso, administrator
):
    ask(client, "V1234567")
    ask(client, "v1234567")
    assert AccessRequest.objects.count() == 1


@pytest.fixture
def pending_request(requester, contoso, administrator):
    services.request_access(
        requester=requester,
        email="harry@woodgrove.com",
        agreement_number="V1234567",
        kind=Kind.DOWNLOADS,
    )
    return AccessRequest.objects.get()


def test_the_decision_page_preselects_nothing_and_has_one_button(
    pending_request, vlsc_admin_client
):
    page = vlsc_admin_client.get(
        f"/admin/agreements/accessrequest/{pending_request.pk}/change/"
    ).content.decode()
    assert 'type="radio" name="decision" value="accept"' in page
    assert "checked" not in page.split('name="decision"', 1)[1].split("</div>", 1)[0]
    assert 'name="_save"' in page
    assert 'name="_continue"' not in page and 'name="_addanother"' not in page


@pytest.mark.parametrize("decision", ["", "maybe", "ACCEPT"])
def test_saving_without_a_decision_is_a_form_error_not_changed_successfully(
    pending_request, vlsc_admin_client, decision
):
    response = vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{pending_request.pk}/change/",
        {"decision": decision, "decision_message": "Thinking about it"},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "changed successfully" not in page
    assert (
        "Choose Accept or Deny. Nothing is saved without a decision." in page
        or "Select a valid choice" in page
    )
    pending_request.refresh_from_db()
    assert pending_request.state == AccessRequest.State.PENDING
    assert pending_request.decision_message == ""
    assert not OutboundEmail.objects.filter(kind="access_request_decision").exists()


def test_a_decided_request_has_no_save_and_a_replayed_decision_changes_nothing(
    pending_request, vlsc_admin_client
):
    url = f"/admin/agreements/accessrequest/{pending_request.pk}/change/"
    accepted = vlsc_admin_client.post(url, {"decision": "accept", "decision_message": "Yes"})
    assert accepted["Location"] == "/admin/agreements/accessrequest/"
    assert 'name="_save"' not in vlsc_admin_client.get(url).content.decode()
    for replay in ({"decision": "deny", "decision_message": "No"}, {}):
        response = vlsc_admin_client.post(url, replay, follow=True)
        page = response.content.decode()
        assert response.status_code == 200
        assert "This request was already decided. Nothing was changed." in page
        assert "changed successfully" not in page
    pending_request.refresh_from_db()
    assert (pending_request.state, pending_request.decision_message) == (
        AccessRequest.State.ACCEPTED,
        "Yes",
    )
    assert OutboundEmail.objects.filter(kind="access_request_decision").count() == 1


def test_a_decision_that_loses_a_race_says_so_and_not_changed_successfully(
    pending_request, administrator, vlsc_admin_client, monkeypatch
):
    url = f"/admin/agreements/accessrequest/{pending_request.pk}/change/"
    vlsc_admin_client.get(url)
    # another administrator decides after this page's form was validated, before it saves
    original = services.access_request_decide

    def decided_meanwhile(**kwargs):
        original(access_request=kwargs["access_request"], actor=administrator, accept=False)
        return original(**kwargs)

    monkeypatch.setattr(services, "access_request_decide", decided_meanwhile)
    response = vlsc_admin_client.post(url, {"decision": "accept"}, follow=True)
    page = response.content.decode()
    assert "This request was already decided. Nothing was changed." in page
    assert "changed successfully" not in page
    pending_request.refresh_from_db()
    assert pending_request.state == AccessRequest.State.DENIED
