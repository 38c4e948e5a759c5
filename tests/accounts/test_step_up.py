"""Signing in again to confirm a change (step-up): what the sign-in keeps, what the sign-in again
asks the identity provider for, and the portal's own checks of the answer (identity and
``auth_time``) whatever MSAL let through."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.http import QueryDict

from accounts.entra import client as entra_client
from accounts.models import SignInEvent, User
from accounts.services import step_up
from tests.accounts.test_sign_in import sign_in

pytestmark = pytest.mark.django_db
FORM = "/admin/agreements/permissiongrant/add/"


def test_the_sign_in_keeps_the_id_tokens_auth_time_and_identity(client, entra):
    before = int(time.time())
    sign_in(client, "alice@contoso.com")
    auth_time = client.session[step_up.AUTH_TIME]
    assert isinstance(auth_time, int) and before - 2 <= auth_time <= time.time()
    account = SocialAccount.objects.get(user__email="alice@contoso.com")
    assert client.session[step_up.SIGNED_IN_IDENTITY] == account.uid


class FakeMsal:
    """MSAL's two calls, answering with a token the test chose: the portal's checks after MSAL
    are what is tested (MSAL's own max_age check is not in the way)."""

    def __init__(self, started: list):
        self.started = started

    def initiate_auth_code_flow(self, **kwargs):
        self.started.append(kwargs)
        state = f"state-{len(self.started)}"
        return {"state": state, "auth_uri": f"https://idp.test/authorize?state={state}"}

    def acquire_token_by_auth_code_flow(self, flow, params):
        if "error" in params:  # as MSAL answers an error redirect
            return {key: params[key] for key in ("error", "error_description") if key in params}
        return {"id_token": "a-token"}


@pytest.fixture
def idp(monkeypatch):
    """The identity provider's answer: set ``idp.claims`` before the callback."""

    class Answer:
        started: list = []
        claims: dict = {}

    answer = Answer()
    answer.started = []
    monkeypatch.setattr(entra_client, "msal_app", lambda: FakeMsal(answer.started))
    monkeypatch.setattr(entra_client, "validate_id_token", lambda token: dict(answer.claims))
    return answer


@pytest.fixture
def admin_user(db):
    user = User.objects.create(username="admin", email="admin@contoso.com")
    SocialAccount.objects.create(user=user, provider="entra", uid="oid-a.tid-c", extra_data={})
    SocialAccount.objects.create(user=user, provider="entra", uid="oid-p.tid-msa", extra_data={})
    return user


@pytest.fixture
def stale_client(client, admin_user):
    """Signed in as the admin with the work identity 11 minutes ago, a form kept for it."""
    client.force_login(admin_user)
    session = client.session
    session[step_up.AUTH_TIME] = int(time.time()) - 11 * 60
    session[step_up.SIGNED_IN_IDENTITY] = "oid-a.tid-c"
    client.token = step_up.stash_pending_post(
        session, user_id=admin_user.pk, path=FORM, data=QueryDict("email=new@contoso.com")
    )
    session.save()
    return client


def claims(**overrides):
    base = {
        "oid": "oid-a",
        "tid": "tid-c",
        "preferred_username": "admin@contoso.com",
        "auth_time": int(time.time()) - 5,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def round_trip(client, idp, **token_claims):
    page = client.get(f"/sign-in/again/{client.token}/")
    assert page.status_code == 200
    response = client.post(f"/sign-in/again/{client.token}/")
    assert response.status_code == 302
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    idp.claims = claims(**token_claims)
    return client.get("/accounts/entra/login/callback/", {"state": state, "code": "c"})


def test_signing_in_again_asks_for_the_password_and_a_sign_in_under_ten_minutes(stale_client, idp):
    round_trip(stale_client, idp)
    [started] = idp.started
    assert started["prompt"] == "login" and started["max_age"] == 600
    assert started["login_hint"] == "admin@contoso.com"


def test_a_fresh_sign_in_of_the_same_identity_goes_back_to_the_form(stale_client, idp):
    old_key = stale_client.session.session_key
    response = round_trip(stale_client, idp)
    assert response["Location"] == f"{FORM}?step_up={stale_client.token}"
    assert step_up.is_recent(stale_client.session[step_up.AUTH_TIME])
    assert stale_client.session.session_key != old_key
    assert SignInEvent.objects.get().outcome == SignInEvent.Outcome.SIGNED_IN


@pytest.mark.parametrize(
    "auth_time",
    [
        pytest.param(None, id="missing"),
        pytest.param(lambda: int(time.time()) - 11 * 60, id="older than ten minutes"),
        pytest.param(lambda: int(time.time()) + 300, id="in the future"),
        pytest.param(lambda: str(int(time.time())), id="a string"),
        pytest.param(lambda: time.time(), id="not an integer"),
    ],
)
def test_an_answer_without_a_recent_auth_time_changes_nothing(stale_client, idp, auth_time):
    stale = stale_client.session[step_up.AUTH_TIME]
    value = auth_time() if auth_time else None
    response = round_trip(stale_client, idp, auth_time=value)
    assert response.status_code == 400
    assert "Your sign-in was not recent" in response.content.decode()
    assert f"/sign-in/again/{stale_client.token}/" in response.content.decode()  # try again
    assert stale_client.session[step_up.AUTH_TIME] == stale
    assert "_auth_user_id" in stale_client.session
    assert SignInEvent.objects.get().outcome == SignInEvent.Outcome.REFUSED


@pytest.mark.parametrize(
    ("oid", "tid"),
    [
        pytest.param("oid-x", "tid-c", id="another person in the tenant"),
        pytest.param("oid-a", "tid-other", id="the same object id in another tenant"),
        pytest.param("oid-p", "tid-msa", id="the user's other identity"),
    ],
)
def test_another_identity_is_refused_and_signed_out(stale_client, idp, oid, tid):
    response = round_trip(stale_client, idp, oid=oid, tid=tid)
    assert response.status_code == 403
    assert "You signed in as someone else" in response.content.decode()
    assert "_auth_user_id" not in stale_client.session
    assert step_up.PENDING not in stale_client.session
    event = SignInEvent.objects.get()
    assert event.outcome == SignInEvent.Outcome.REFUSED and "another identity" in event.detail


def test_cancelling_at_the_identity_provider_goes_back_to_the_sign_in_again_page(stale_client, idp):
    page = stale_client.post(f"/sign-in/again/{stale_client.token}/")
    state = parse_qs(urlsplit(page["Location"]).query)["state"][0]
    response = stale_client.get(
        "/accounts/entra/login/callback/",
        {"state": state, "error": "access_denied", "error_description": "AADSTS65004: declined"},
    )
    assert response["Location"] == f"/sign-in/again/{stale_client.token}/"
    page = stale_client.get(response["Location"]).content.decode()
    assert "You cancelled signing in again, so nothing was changed." in page
    assert "_auth_user_id" in stale_client.session
    assert SignInEvent.objects.get().outcome == SignInEvent.Outcome.CANCELLED


def test_a_step_up_started_by_someone_else_is_not_completed(stale_client, idp, admin_user):
    page = stale_client.post(f"/sign-in/again/{stale_client.token}/")
    state = parse_qs(urlsplit(page["Location"]).query)["state"][0]
    stale_client.logout()
    other = User.objects.create(username="other", email="other@contoso.com")
    stale_client.force_login(other)
    idp.claims = claims()
    response = stale_client.get("/accounts/entra/login/callback/", {"state": state, "code": "c"})
    assert response.status_code == 400  # the flow belonged to the session that was signed out


def test_an_unknown_or_someone_elses_key_has_no_page(client, stale_client, admin_user):
    assert stale_client.get("/sign-in/again/not-a-key/")["Location"] == "/dashboard/"
    other = User.objects.create(username="other", email="other@contoso.com")
    client.force_login(other)
    assert client.get(f"/sign-in/again/{stale_client.token}/")["Location"] == "/dashboard/"


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/sign-in/again/anything/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/?next=")


def test_a_kept_form_comes_back_once_for_its_user_and_path_only():
    session: dict = {}
    data = QueryDict("email=a@contoso.com&kind=administrator&csrfmiddlewaretoken=x")
    token = step_up.stash_pending_post(session, user_id=1, path=FORM, data=data)
    assert step_up.take_pending_post(session, user_id=2, path=FORM, token=token) is None
    assert step_up.take_pending_post(session, user_id=1, path="/elsewhere/", token=token) is None
    kept = step_up.take_pending_post(session, user_id=1, path=FORM, token=token)
    assert kept.dict() == {"email": "a@contoso.com", "kind": "administrator"}
    assert step_up.take_pending_post(session, user_id=1, path=FORM, token=token) is None


def test_kept_forms_expire_and_only_a_few_are_kept(monkeypatch):
    session: dict = {}
    tokens = [
        step_up.stash_pending_post(session, user_id=1, path=FORM, data=QueryDict(f"n={n}"))
        for n in range(step_up.PENDING_KEPT + 2)
    ]
    assert len(session[step_up.PENDING]) == step_up.PENDING_KEPT
    assert step_up.take_pending_post(session, user_id=1, path=FORM, token=tokens[0]) is None
    later = time.time() + step_up.PENDING_LIFETIME_SECONDS + 1
    monkeypatch.setattr(step_up.time, "time", lambda: later)
    assert step_up.take_pending_post(session, user_id=1, path=FORM, token=tokens[-1]) is None
