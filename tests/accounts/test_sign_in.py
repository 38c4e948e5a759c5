"""Flow A through the real MSAL code path against the running stand-in (Django test client on
the portal side, ``requests`` on the stand-in's pages)."""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import jwt
import msal
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.demo import ALICE_OID, CONTOSO_TID, seed_demo_users
from accounts.models import SignInEvent, User
from tests.accounts.standin_driver import sign_in_at_standin

pytestmark = pytest.mark.django_db
Outcome = SignInEvent.Outcome


def start(client: Client, email: str) -> str:
    response = client.post("/sign-in/", {"email": email})
    assert response.status_code == 302
    return response["Location"]


def sign_in(client: Client, email: str, password: str = "Passw0rd!"):
    callback = sign_in_at_standin(start(client, email), password=password)
    assert isinstance(callback, str), callback.text
    return client.get(callback), callback


def test_it_sends_the_address_to_the_identity_provider_as_login_hint(client, entra):
    auth_uri = start(client, "Alice@Contoso.com")
    query = parse_qs(urlsplit(auth_uri).query)
    assert auth_uri.startswith(entra.http_url)
    assert query["login_hint"] == ["alice@contoso.com"]
    assert query["code_challenge_method"] == ["S256"]


def test_a_work_account_signs_in_keyed_by_tenant_and_object_id(client, entra):
    response, _ = sign_in(client, "alice@contoso.com")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    account = SocialAccount.objects.get(provider="entra")
    assert account.uid == f"{ALICE_OID}.{CONTOSO_TID}"
    assert account.user.email == "alice@contoso.com"
    event = SignInEvent.objects.get(outcome=Outcome.SIGNED_IN)
    assert (event.user, event.tenant_id, event.object_id) == (account.user, CONTOSO_TID, ALICE_OID)
    assert client.get("/dashboard/")["Location"] == "/register/"  # first sign-in: Flow B
    page = client.get("/register/").content.decode()
    assert "Signed in as <strong>Alice Contoso</strong> alice@contoso.com" in page
    assert "Sign out" in page


def test_signing_in_again_reuses_the_user_and_rotates_the_session(client, entra):
    sign_in(client, "alice@contoso.com")
    first_key = client.session.session_key
    client.logout()
    sign_in(client, "alice@contoso.com")
    assert User.objects.count() == 1
    assert client.session.session_key != first_key


def test_the_same_address_in_another_tenant_is_another_identity(client, entra):
    """Nothing is matched by email (nOAuth): an identity is (tid, oid)."""
    other = User.objects.create(username="impostor", email="alice@contoso.com")
    sign_in(client, "alice@contoso.com")
    assert SocialAccount.objects.get().user != other


@pytest.mark.parametrize(
    ("email", "code", "aadsts", "words"),
    [
        ("dave@tailspin.com", "E02", "AADSTS990002", "restricted for automatic sign up"),
        ("carol@northwind.com", "E03", "AADSTS990003", "Your IT Department has turned off"),
        ("erin@wingtip.com", "E04", "AADSTS990004", "restricted for automatic sign up"),
        ("frank@adatum.com", "E05", "AADSTS50034", "restricted for automatic sign up"),
    ],
)
def test_each_refusal_gets_its_error_page(client, entra, email, code, aadsts, words):
    response, _ = sign_in(client, email)
    html = response.content.decode()
    assert response.status_code == 403
    assert f">{code}<" in html
    assert words in html
    assert "What to do next" in html
    assert email[0] + "•••@" + email.split("@")[1] in html
    event = SignInEvent.objects.get(outcome=Outcome.REFUSED)
    assert (event.error_code, event.provider_code, event.address) == (code, aadsts, email)
    assert event.reference_id in html
    assert "_auth_user_id" not in client.session


def test_a_personal_account_of_a_work_account_user_gets_e06_naming_the_work_account(client, entra):
    seed_demo_users()
    response, _ = sign_in(client, "alice.personal@outlook.com")
    html = response.content.decode()
    assert response.status_code == 403
    assert ">E06<" in html
    assert "We are unable to complete your action" in html
    assert "alice@contoso.com" in html
    assert SignInEvent.objects.get().error_code == "E06"
    assert "_auth_user_id" not in client.session


def test_a_personal_account_of_nobody_known_cannot_register(client, entra):
    response, _ = sign_in(client, "grace@outlook.com")
    assert response.status_code == 403
    assert "Personal Microsoft accounts cannot register" in response.content.decode()
    assert SignInEvent.objects.get().outcome == Outcome.PERSONAL_ACCOUNT
    assert not User.objects.exists()


def test_a_wrong_password_stays_on_the_identity_providers_page(client, entra):
    response = sign_in_at_standin(start(client, "alice@contoso.com"), password="wrong")
    assert not isinstance(response, str)
    assert response.status_code == 200
    assert not SignInEvent.objects.exists()


def test_a_forged_state_gets_start_again_and_a_recorded_event(client, entra):
    start(client, "alice@contoso.com")
    response = client.get("/accounts/entra/login/callback/", {"code": "x", "state": "forged"})
    assert response.status_code == 400
    assert "Please start signing in again" in response.content.decode()
    assert SignInEvent.objects.get().outcome == Outcome.INVALID_CALLBACK
    assert "_auth_user_id" not in client.session


def test_a_replayed_callback_gets_start_again(client, entra):
    _, callback = sign_in(client, "alice@contoso.com")
    client.logout()
    response = client.get(callback)
    assert response.status_code == 400
    assert SignInEvent.objects.filter(outcome=Outcome.INVALID_CALLBACK).count() == 1
    assert "_auth_user_id" not in client.session


def test_a_callback_in_another_browser_has_no_flow_and_gets_start_again(client, entra):
    callback = sign_in_at_standin(start(client, "alice@contoso.com"))
    response = Client().get(callback)
    assert response.status_code == 400
    assert not User.objects.exists()


def test_another_sessions_callback_does_not_sign_in_a_browser_with_a_flow_of_its_own(client, entra):
    """Login CSRF: the attacker's callback (their code and state) opened in the victim's
    browser, which has a sign-in of its own under way, is refused; the victim's flow is
    untouched and still completes as the victim."""
    attackers_callback = sign_in_at_standin(start(Client(), "harry@woodgrove.com"))
    victims_auth_uri = start(client, "alice@contoso.com")
    response = client.get(attackers_callback)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()
    response = client.get(sign_in_at_standin(victims_auth_uri))
    assert response.status_code == 302
    assert User.objects.get(pk=client.session["_auth_user_id"]).email == "alice@contoso.com"


def test_another_sessions_code_under_this_sessions_state_is_refused(client, entra):
    """The code is bound to the browser that started the flow (PKCE, nonce): the attacker's
    code sent with the victim's own state signs nobody in."""
    attackers_callback = sign_in_at_standin(start(Client(), "harry@woodgrove.com"))
    attackers_code = parse_qs(urlsplit(attackers_callback).query)["code"][0]
    victims_state = parse_qs(urlsplit(start(client, "alice@contoso.com")).query)["state"][0]
    response = client.get(
        "/accounts/entra/login/callback/", {"code": attackers_code, "state": victims_state}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()
    event = SignInEvent.objects.get()
    assert (event.outcome, event.provider_code) == (Outcome.REFUSED, "invalid_grant")


def test_a_callback_without_anything_gets_start_again(client, entra):
    assert client.get("/accounts/entra/login/callback/").status_code == 400


def test_an_oversized_callback_gets_start_again(client, entra):
    response = client.get("/accounts/entra/login/callback/", {"state": "x" * 10000})
    assert response.status_code == 400


def test_an_unknown_refusal_gets_the_generic_page_with_a_reference(client, entra):
    state = parse_qs(urlsplit(start(client, "alice@contoso.com")).query)["state"][0]
    response = client.get(
        "/accounts/entra/login/callback/",
        {"error": "access_denied", "error_description": "AADSTS12345: odd", "state": state},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "We could not sign you in" in html
    event = SignInEvent.objects.get()
    assert (event.provider_code, event.error_code) == ("AADSTS12345", "")
    assert event.reference_id in html


@pytest.mark.parametrize(
    "answer",
    [
        {"error": "access_denied", "error_description": "AADSTS65004: User declined to consent."},
        {},  # neither code nor error
    ],
)
def test_cancelling_at_the_identity_provider_gets_its_own_page_with_a_way_back(
    client, entra, answer
):
    auth_uri = start(client, "alice@contoso.com")
    state = parse_qs(urlsplit(auth_uri).query)["state"][0]
    response = client.get("/accounts/entra/login/callback/", {**answer, "state": state})
    html = response.content.decode()
    assert response.status_code == 200
    assert "You cancelled signing in" in html
    assert "We could not sign you in" not in html
    assert "Please start signing in again" not in html
    assert 'href="/sign-in/?email=alice%40contoso.com"' in html
    event = SignInEvent.objects.get()
    assert (event.outcome, event.address) == (Outcome.CANCELLED, "alice@contoso.com")
    assert event.provider_code == ("AADSTS65004" if answer else "")
    assert "_auth_user_id" not in client.session


def test_an_organisation_not_allowed_gets_its_own_page_not_start_again(client, entra, settings):
    settings.ENTRA_ALLOWED_TENANTS = ["11111111-2222-3333-4444-555555555555"]
    response, _ = sign_in(client, "alice@contoso.com")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your organisation cannot use this portal" in html
    assert "Please start signing in again" not in html
    event = SignInEvent.objects.get()
    assert (event.outcome, event.detail) == (Outcome.INVALID_TOKEN, "tenant_not_allowed")
    assert f'href="/support/contact/?ref={event.reference_id}"' in html
    assert not User.objects.exists()


@pytest.mark.parametrize("forgery", ["other_key", "garbage"])
def test_a_tampered_id_token_is_refused(client, entra, monkeypatch, forgery):
    callback = sign_in_at_standin(start(client, "alice@contoso.com"))
    real = msal.ConfidentialClientApplication.acquire_token_by_auth_code_flow

    def tampered(self, flow, params, **kwargs):
        result = real(self, flow, params, **kwargs)
        claims = result["id_token_claims"]
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, key, algorithm="RS256") if forgery == "other_key" else "x.y.z"
        return {**result, "id_token": forged}

    monkeypatch.setattr(
        msal.ConfidentialClientApplication, "acquire_token_by_auth_code_flow", tampered
    )
    response = client.get(callback)
    assert response.status_code == 400
    assert SignInEvent.objects.get().outcome == Outcome.INVALID_TOKEN
    assert not User.objects.exists()


def _response(body: str, status: int = 200, content_type: str = "application/json"):
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    return response


def _bad_gateway(*args, **kwargs):
    return _response("<html>Bad gateway</html>", 502, "text/html")


def _connection_reset(*args, **kwargs):
    raise requests.ConnectionError("connection reset by peer")


@pytest.mark.parametrize("failure", [_bad_gateway, _connection_reset])
def test_a_token_endpoint_failure_mid_flow_gets_a_503_and_a_recorded_event(
    client, entra, monkeypatch, failure
):
    callback = sign_in_at_standin(start(client, "alice@contoso.com"))
    monkeypatch.setattr(requests.Session, "post", failure)
    response = client.get(callback)
    assert response.status_code == 503
    assert "The sign-in service is not answering" in response.content.decode()
    event = SignInEvent.objects.get()
    assert event.outcome == Outcome.PROVIDER_UNAVAILABLE
    assert event.address == "alice@contoso.com"
    assert not User.objects.exists()


class _KeySetOpener:
    """Stands in for urllib's opener, which PyJWT's ``PyJWKClient`` fetches the key set with."""

    timeouts: list[float | None] = []

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def open(self, request, timeout=None):
        self.timeouts.append(timeout)
        if self.answer == "unreachable":
            raise urllib.error.URLError("keys unreachable")
        return io.BytesIO(self.answer.encode())


def _key_set_answering(answer: str):
    return lambda *handlers: _KeySetOpener(answer)


@pytest.mark.parametrize(
    "keys_answer",
    [
        "unreachable",
        '{"keys": []}',  # PyJWT refuses an empty key set
        '["not", "an", "object"]',
        "<html>proxy error</html>",
    ],
)
def test_unusable_signing_keys_mid_flow_get_a_503(client, entra, monkeypatch, keys_answer):
    from accounts.entra import client as entra_client

    callback = sign_in_at_standin(start(client, "alice@contoso.com"))
    entra_client.reset_caches()
    monkeypatch.setattr(urllib.request, "build_opener", _key_set_answering(keys_answer))
    response = client.get(callback)
    entra_client.reset_caches()
    assert response.status_code == 503
    assert SignInEvent.objects.get().outcome == Outcome.PROVIDER_UNAVAILABLE
    assert not User.objects.exists()


def test_a_discovery_document_without_endpoints_is_a_503_and_not_kept(client, monkeypatch):
    from accounts.entra import client as entra_client

    entra_client.reset_caches()
    monkeypatch.setattr(
        requests.Session, "get", lambda self, url, *a, **k: _response('{"issuer": 5}')
    )
    with pytest.raises(entra_client.ProviderUnavailable):
        entra_client.openid_configuration()
    assert not entra_client._http_cache
    entra_client.reset_caches()


DISCOVERY = (
    '{"issuer": "https://idp.test/{tenantid}/v2.0", "jwks_uri": "https://idp.test/keys",'
    ' "authorization_endpoint": "https://idp.test/authorize",'
    ' "token_endpoint": "https://idp.test/token"}'
)


def test_the_discovery_document_is_fetched_again_once_it_is_a_day_old(monkeypatch):
    from accounts.entra import client as entra_client

    fetched = []
    now = [1000.0]
    entra_client.reset_caches()
    monkeypatch.setattr(entra_client, "_clock", lambda: now[0], raising=False)
    monkeypatch.setattr(
        requests.Session,
        "get",
        lambda self, url, *a, **k: fetched.append(url) or _response(DISCOVERY),
    )
    try:
        entra_client.openid_configuration()
        now[0] += 24 * 3600 - 1
        entra_client.openid_configuration()
        assert len(fetched) == 1  # kept for a day
        now[0] += 2
        assert entra_client.openid_configuration()["jwks_uri"] == "https://idp.test/keys"
        assert len(fetched) == 2
    finally:
        entra_client.reset_caches()


def test_a_token_endpoint_failure_makes_the_next_sign_in_read_discovery_afresh(
    client, entra, monkeypatch
):
    """MSAL keeps its copy (authorize and token endpoints) in the shared cache for a day; a
    failure mid-flow drops it, so the next sign-in reads the endpoints again."""
    fetched = []
    real_get, real_post = requests.Session.get, requests.Session.post

    def counting_get(self, url, *args, **kwargs):
        if url.endswith("/.well-known/openid-configuration"):
            fetched.append(url)
        return real_get(self, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "get", counting_get)
    sign_in(client, "alice@contoso.com")
    client.logout()
    callback = sign_in_at_standin(start(client, "alice@contoso.com"))
    cached = len(fetched)
    start(Client(), "alice@contoso.com")
    assert len(fetched) == cached  # still kept
    monkeypatch.setattr(requests.Session, "post", _bad_gateway)
    assert client.get(callback).status_code == 503
    monkeypatch.setattr(requests.Session, "post", real_post)
    start(client, "alice@contoso.com")
    assert len(fetched) == cached + 1


def test_unusable_signing_keys_make_the_next_validation_read_discovery_afresh(
    monkeypatch, settings
):
    from accounts.entra import client as entra_client

    settings.ENTRA_CA_BUNDLE = ""  # no stand-in here, so no CA of its own to trust
    fetched = []

    def authority_get(self, url, *args, **kwargs):
        fetched.append(url)
        return _response(DISCOVERY)

    entra_client.reset_caches()
    monkeypatch.setattr(requests.Session, "get", authority_get)
    monkeypatch.setattr(urllib.request, "build_opener", _key_set_answering("unreachable"))
    try:
        entra_client.openid_configuration()
        with pytest.raises(entra_client.ProviderUnavailable):
            entra_client.validate_id_token(
                jwt.encode({"sub": "s"}, "k" * 32, headers={"kid": "k1"})
            )
        entra_client.openid_configuration()
        assert len(fetched) == 2
    finally:
        entra_client.reset_caches()


def test_requests_to_the_authority_time_out(monkeypatch):
    from accounts.entra import client as entra_client

    seen = {}

    def fake_request(self, method, url, **kwargs):
        seen.update(kwargs)
        return _response("{}")

    entra_client.reset_caches()
    monkeypatch.setattr(requests.Session, "request", fake_request)
    entra_client.http_session().post("https://authority.example/token", data={}, timeout=None)
    entra_client.reset_caches()
    assert seen["timeout"] == entra_client.HTTP_TIMEOUT


def test_the_key_set_request_times_out(monkeypatch, settings):
    from accounts.entra import client as entra_client

    settings.ENTRA_CA_BUNDLE = ""  # no stand-in here, so no CA of its own to trust
    _KeySetOpener.timeouts.clear()
    entra_client.reset_caches()
    monkeypatch.setattr(urllib.request, "build_opener", _key_set_answering('{"keys": []}'))
    with pytest.raises(entra_client.ProviderUnavailable):
        entra_client._signing_key(
            jwt.encode({"sub": "s"}, "k" * 32, headers={"kid": "k1"}), "https://idp.test/keys"
        )
    entra_client.reset_caches()
    assert _KeySetOpener.timeouts == [entra_client.HTTP_TIMEOUT]


def test_a_malformed_address_gets_a_form_error(client):
    response = client.post("/sign-in/", {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter an email address in the form jane@contoso.com." in response.content.decode()


def test_an_unreachable_identity_provider_gets_a_clear_503(client, settings):
    from accounts.entra import client as entra_client

    settings.ENTRA_AUTHORITY_HOST = "https://127.0.0.1:9"
    settings.ENTRA_INSTANCE_DISCOVERY = False
    entra_client.reset_caches()
    try:
        response = client.post("/sign-in/", {"email": "alice@contoso.com"})
    finally:
        entra_client.reset_caches()
    assert response.status_code == 503


def test_sign_out_ends_both_sessions(client, entra):
    sign_in(client, "alice@contoso.com")
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{entra.http_url}/")
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2F" in response["Location"]
    assert client.get("/dashboard/").status_code == 302
    assert SignInEvent.objects.filter(outcome=Outcome.SIGNED_OUT).count() == 1


def test_starting_sign_in_too_often_is_rate_limited(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sign_in_start": "2/m/ip"}
    statuses = [client.post("/sign-in/", {"email": "bad"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    refused = client.post("/sign-in/", {"email": "bad"})
    assert re.search(
        r"Try again after (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC \(in about 1 minute\)",
        refused.content.decode(),
    )
    assert 1 <= int(refused["Retry-After"]) <= 60


@pytest.mark.parametrize(
    ("description", "code"),
    [
        ("AADSTS50034: The user account does not exist.", "AADSTS50034"),
        ("  AADSTS990002 restricted", "AADSTS990002"),
        ("Something else AADSTS50034", ""),
        ("AADSTS", ""),
        ("AADSTS\u0665\u0660\u0660\u0663\u0664: Arabic-Indic digits", ""),
        ("AADSTS\uff15\uff10: full-width digits", ""),
        ("", ""),
    ],
)
def test_the_provider_code_is_an_aadsts_code_in_ascii_digits(description, code):
    from accounts.services.signin import provider_code_from

    assert provider_code_from(description) == code
