"""Black-box tests of the Entra ID stand-in through MSAL, requests and PyJWT."""

import base64
import email.message
import html
import json
import mailbox
import re
import sqlite3
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import jwt
import msal
import pytest
import requests

from entra_standin import demo
from tests.waiting import wait_until

from .conftest import POST_LOGOUT_URI, REDIRECT_URI

pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")

PASSWORD = demo.DEMO_PASSWORD


def trusted_session(standin):
    session = requests.Session()
    session.trust_env = False  # or REQUESTS_CA_BUNDLE overrides verify
    session.verify = str(standin.ca_path)
    return session


def browser():
    session = requests.Session()
    session.trust_env = False
    return session


def msal_app(standin, tenant="common"):
    return msal.ConfidentialClientApplication(
        standin.client_id,
        client_credential=standin.client_secret,
        authority=standin.authority(tenant),
        instance_discovery=False,
        http_client=trusted_session(standin),
    )


def start_flow(standin, login_hint, tenant="common", **kwargs):
    app = msal_app(standin, tenant)
    flow = app.initiate_auth_code_flow(
        scopes=[], redirect_uri=REDIRECT_URI, login_hint=login_hint, **kwargs
    )
    return app, flow


def follow(standin, client, response):
    """Follow redirects that stay at the stand-in; stop at one that leaves it."""
    while response.is_redirect:
        target = urljoin(response.url, response.headers["Location"])
        if not target.startswith(standin.http_url):
            return response
        response = client.get(target, allow_redirects=False)
    return response


def open_url(standin, client, url):
    return follow(standin, client, client.get(url, allow_redirects=False))


def hidden(page, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert match, f"no hidden field {name}"
    return html.unescape(match.group(1))


def post_form(standin, client, page, data):
    action = re.search(r'<form method="post" action="([^"]*)"', page.text).group(1)
    payload = {"csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"), **data}
    if 'name="next"' in page.text:
        payload["next"] = hidden(page, "next")
    response = client.post(urljoin(page.url, action), data=payload, allow_redirects=False)
    return follow(standin, client, response)


def sign_in(standin, client, flow, address, password=PASSWORD, action="signin"):
    page = open_url(standin, client, flow["auth_uri"])
    assert page.status_code == 200, page.text
    assert "<title>Sign in" in page.text
    return post_form(
        standin, client, page, {"email": address, "password": password, "action": action}
    )


def callback_params(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return dict(parse_qsl(urlsplit(location).query))


def b64json(value):
    return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))


def full_sign_in(standin, address, tenant="common"):
    app, flow = start_flow(standin, address, tenant)
    client = browser()
    params = callback_params(sign_in(standin, client, flow, address))
    assert "code" in params, params
    result = app.acquire_token_by_auth_code_flow(flow, params)
    return app, result, client


def test_alice_signs_in_with_msal(standin):
    app, result, _ = full_sign_in(standin, "alice@contoso.com")
    assert "error" not in result, result
    claims = result["id_token_claims"]
    assert claims["oid"] == demo.ALICE_OID
    assert claims["tid"] == demo.CONTOSO_TID
    assert claims["preferred_username"] == "alice@contoso.com"
    assert claims["email"] == "alice@contoso.com"
    assert claims["name"] == "Alice Contoso"
    assert claims["ver"] == "2.0"
    assert claims["aud"] == standin.client_id
    assert claims["sub"] and claims["nonce"]
    assert {"iat", "exp"} <= claims.keys()
    assert b64json(result["client_info"]) == {"uid": demo.ALICE_OID, "utid": demo.CONTOSO_TID}
    [account] = app.get_accounts()
    assert account["home_account_id"] == f"{demo.ALICE_OID}.{demo.CONTOSO_TID}"


def test_id_token_verifies_against_jwks(standin):
    _, result, _ = full_sign_in(standin, "bob@fabrikam.com")
    session = trusted_session(standin)
    discovery = session.get(f"{standin.authority()}/v2.0/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"{standin.tls_url}/{{tenantid}}/v2.0"
    assert discovery["authorization_endpoint"].startswith(standin.http_url)
    assert discovery["end_session_endpoint"].startswith(standin.http_url)
    assert discovery["token_endpoint"].startswith(standin.tls_url)
    assert discovery["jwks_uri"].startswith(standin.tls_url)
    jwks = jwt.PyJWKSet.from_dict(session.get(discovery["jwks_uri"]).json())
    token = result["id_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=standin.client_id,
        options={"require": ["iss", "aud", "exp", "iat", "sub", "tid"]},
    )
    assert claims["tid"] == demo.FABRIKAM_TID
    assert claims["iss"] == f"{standin.tls_url}/{claims['tid']}/v2.0"
    assert claims["iss"] == discovery["issuer"].replace("{tenantid}", claims["tid"])


def test_fixed_tenant_discovery(standin):
    session = trusted_session(standin)
    doc = session.get(
        f"{standin.authority(demo.CONTOSO_TID)}/v2.0/.well-known/openid-configuration"
    ).json()
    assert doc["issuer"] == f"{standin.tls_url}/{demo.CONTOSO_TID}/v2.0"
    unknown = session.get(
        f"{standin.authority(str(uuid.uuid4()))}/v2.0/.well-known/openid-configuration"
    )
    assert unknown.status_code == 400


def test_wrong_password_shows_error(standin):
    _, flow = start_flow(standin, "alice@contoso.com")
    page = sign_in(standin, browser(), flow, "alice@contoso.com", "not-the-password")
    assert page.status_code == 200
    assert "There is a problem" in page.text
    assert 'href="#id_password"' in page.text
    assert 'aria-describedby="id_password-error"' in page.text
    assert 'id="id_password-error"' in page.text
    assert 'value="alice@contoso.com"' in page.text


def test_login_hint_prefills_email(standin):
    _, flow = start_flow(standin, "bob@fabrikam.com")
    page = open_url(standin, browser(), flow["auth_uri"])
    assert re.search(r'<input type="email" name="email" value="bob@fabrikam.com"', page.text)
    assert '<label for="id_email">Email</label>' in page.text
    assert '<label for="id_password">Password</label>' in page.text
    assert '<html lang="en">' in page.text and '<main id="main">' in page.text


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("carol@northwind.com", "AADSTS990003"),
        ("dave@tailspin.com", "AADSTS990002"),
        ("erin@wingtip.com", "AADSTS990004"),
        ("frank@adatum.com", "AADSTS50034"),
    ],
)
def test_refusals_redirect_with_code_and_state(standin, address, code):
    app, flow = start_flow(standin, address)
    params = callback_params(sign_in(standin, browser(), flow, address))
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith(f"{code}: ")
    assert params["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result["error"] == "access_denied"
    assert result["error_description"].startswith(code)


def test_cancel_is_user_declined(standin):
    _, flow = start_flow(standin, "alice@contoso.com")
    params = callback_params(sign_in(standin, browser(), flow, "", "", action="cancel"))
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith("AADSTS65004: ")
    assert params["state"] == flow["state"]


def test_unknown_personal_account_has_no_account(standin):
    _, flow = start_flow(standin, "nobody-here@hotmail.com")
    page = sign_in(standin, browser(), flow, "nobody-here@hotmail.com")
    assert page.status_code == 200
    assert "There is no Microsoft account" in page.text


def test_personal_account_with_common_gets_consumer_tid(standin):
    _, result, _ = full_sign_in(standin, "grace@outlook.com")
    assert result["id_token_claims"]["tid"] == demo.CONSUMER_TID
    assert result["id_token_claims"]["oid"] == demo.GRACE_MSA_OID
    assert result["id_token_claims"]["iss"] == f"{standin.tls_url}/{demo.CONSUMER_TID}/v2.0"


def test_personal_account_refused_by_organizations(standin):
    _, flow = start_flow(standin, "alice.personal@outlook.com", tenant="organizations")
    params = callback_params(sign_in(standin, browser(), flow, "alice.personal@outlook.com"))
    assert params["error_description"].startswith("AADSTS50020: ")
    assert params["state"] == flow["state"]


def test_work_account_accepted_by_organizations(standin):
    _, result, _ = full_sign_in(standin, "harry@woodgrove.com", tenant="organizations")
    assert result["id_token_claims"]["oid"] == demo.HARRY_OID


CODE_SUBJECT = "Verify your email address"


def signup_codes(standin, address):
    """The sign-up codes the stand-in emailed to ``address``, oldest first."""
    found = []
    for message in mailbox.Maildir(standin.mailbox_dir):
        if message["To"] == address and message["Subject"] == CODE_SUBJECT:
            body = message.get_payload(decode=True).decode()
            # get_date() is the file's time, finer than the Date header's seconds.
            found.append((message.get_date(), re.search(r"verification code is: (\d{6})", body)[1]))
    return [code for _, code in sorted(found)]


def start_sign_up(standin, address, password="Secret123!"):
    """Sign in as an address with no account, fill in the sign-up form: the code page."""
    app, flow = start_flow(standin, address)
    client = browser()
    response = sign_in(standin, client, flow, address)
    assert response.status_code == 200 and "<title>Create your account" in response.text
    assert address in response.text
    code_page = post_form(
        standin,
        client,
        response,
        {"name": "New Person", "password": password, "confirm": password, "action": "signup"},
    )
    assert code_page.status_code == 200 and "<title>Verify your email address" in code_page.text
    assert address in code_page.text
    return app, flow, client, code_page


def enter_code(standin, client, page, code):
    return post_form(standin, client, page, {"code": code, "action": "verify"})


def has_account(standin, address, password="Secret123!"):
    """Whether ``address`` can sign in with ``password`` (else the stand-in offers sign-up)."""
    _, flow = start_flow(standin, address)
    response = sign_in(standin, browser(), flow, address, password)
    return response.status_code == 302 and "code" in callback_params(response)


def _sign_up(standin, address):
    app, flow, client, code_page = start_sign_up(standin, address)
    mismatch = post_form(
        standin,
        client,
        # back to the first step: a form error is shown there
        client.get(f"{standin.http_url}/signup/"),
        {"name": "New Person", "password": "Secret123!", "confirm": "nope", "action": "signup"},
    )
    assert mismatch.status_code == 200 and 'aria-describedby="id_confirm-error' in mismatch.text
    [code] = signup_codes(standin, address)[-1:]
    done = enter_code(standin, client, code_page, code)
    result = app.acquire_token_by_auth_code_flow(flow, callback_params(done))
    assert "error" not in result, result
    return result["id_token_claims"]


def test_self_service_sign_up_in_unmanaged_litware(standin):
    address = f"new-{uuid.uuid4().hex[:8]}@litware.com"
    claims = _sign_up(standin, address)
    assert claims["tid"] == demo.LITWARE_TID
    assert claims["preferred_username"] == address
    assert claims["email"] == address
    assert claims["xms_edov"] is False  # Litware is unmanaged: nobody verified litware.com
    assert claims["name"] == "New Person"
    # The new account now signs in with its password.
    assert has_account(standin, address)


def test_sign_up_with_unknown_domain_creates_tenant(standin):
    claims = _sign_up(standin, f"someone@new-{uuid.uuid4().hex[:8]}.example")
    known = {tid for tid, *_ in demo.TENANTS}
    assert claims["tid"] not in known
    assert claims["xms_edov"] is False
    uuid.UUID(claims["tid"])


def test_sign_up_emails_a_code_and_creates_no_account_before_it(standin):
    address = f"wait-{uuid.uuid4().hex[:8]}@litware.com"
    _, _, _, code_page = start_sign_up(standin, address)
    [code] = signup_codes(standin, address)
    assert re.fullmatch(r"\d{6}", code)
    assert code not in code_page.text
    assert not has_account(standin, address)


def test_a_wrong_code_counts_down_then_even_the_right_one_is_refused(standin):
    address = f"guess-{uuid.uuid4().hex[:8]}@litware.com"
    _, _, client, page = start_sign_up(standin, address)
    [code] = signup_codes(standin, address)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        page = enter_code(standin, client, page, wrong)
        assert page.status_code == 200
        assert f"You can try {left} more time(s)" in page.text
        assert 'aria-describedby="id_code-error' in page.text
    page = enter_code(standin, client, page, wrong)
    assert "Too many wrong tries" in page.text
    page = enter_code(standin, client, page, code)
    assert "Too many wrong tries" in page.text
    assert not has_account(standin, address)


def test_an_expired_code_is_refused(standin):
    address = f"late-{uuid.uuid4().hex[:8]}@litware.com"
    _, _, client, page = start_sign_up(standin, address)
    [code] = signup_codes(standin, address)
    with sqlite3.connect(standin.data_dir / "standin.sqlite3") as db:
        db.execute(
            "UPDATE standin_directory_signupcode SET expires_at = '2000-01-01 00:00:00' "
            "WHERE email = ?",
            (address,),
        )
    page = enter_code(standin, client, page, code)
    assert "This code has expired" in page.text
    assert not has_account(standin, address)


def test_a_code_works_once_and_a_newer_code_replaces_it(standin):
    address = f"once-{uuid.uuid4().hex[:8]}@litware.com"
    _, _, client, page = start_sign_up(standin, address)
    [first] = signup_codes(standin, address)
    page = post_form(standin, client, page, {"action": "resend"})
    assert "We sent a new code" in page.text and 'role="status"' in page.text
    first_again, second = signup_codes(standin, address)
    assert first_again == first
    if first != second:
        assert "That code is not right" in enter_code(standin, client, page, first).text
    # Someone else starts signing up the same address: the code this browser waits for dies.
    _, _, other, other_page = start_sign_up(standin, address)
    third = signup_codes(standin, address)[-1]
    assert "This code was used or replaced" in enter_code(standin, client, page, second).text
    done = enter_code(standin, other, other_page, third)
    assert "code" in callback_params(done)
    # Replaying the accepted form signs nobody in: the pending sign-up is gone.
    replay = other.post(
        f"{standin.http_url}/signup/code/",
        # sign-in rotated the CSRF token: send the current one, as a browser's next form would
        data={"csrfmiddlewaretoken": other.cookies["standin_csrftoken"], "code": third},
        allow_redirects=False,
    )
    assert replay.status_code == 302 and replay.headers["Location"].endswith("/login/")
    assert has_account(standin, address)


def test_an_address_gets_a_few_codes_an_hour(standin):
    address = f"many-{uuid.uuid4().hex[:8]}@litware.com"
    _, _, client, page = start_sign_up(standin, address)
    for _ in range(4):
        page = post_form(standin, client, page, {"action": "resend"})
        assert "We sent a new code" in page.text
    page = post_form(standin, client, page, {"action": "resend"})
    assert "codes in the last hour" in page.text
    assert len(signup_codes(standin, address)) == 5


@pytest.mark.parametrize(
    ("address", "verified"),
    [("alice@contoso.com", True), ("bob@fabrikam.com", True), ("ivan@proseware.com", False)],
)
def test_the_id_token_says_whether_the_email_domain_is_verified(standin, address, verified):
    _, result, _ = full_sign_in(standin, address)
    claims = result["id_token_claims"]
    assert claims["email"] == address
    assert claims["xms_edov"] is verified


def test_signed_in_session_is_reused_and_prompt_login_forces_sign_in(standin):
    _, _, client = full_sign_in(standin, "alice@contoso.com")
    _, flow = start_flow(standin, "alice@contoso.com")
    assert "code" in callback_params(open_url(standin, client, flow["auth_uri"]))
    _, flow = start_flow(standin, "alice@contoso.com", prompt="login")
    page = open_url(standin, client, flow["auth_uri"])
    assert page.status_code == 200 and "<title>Sign in" in page.text


def timed_sign_in(standin, address):
    """A fresh browser signs in; returns (browser, auth_time of its token, seconds before,
    seconds after the sign-in)."""
    before = int(time.time())
    _, result, client = full_sign_in(standin, address)
    after = int(time.time())
    return client, result["id_token_claims"]["auth_time"], before, after


def token_in_session(standin, client, address, **kwargs):
    """Claims of a new flow's id_token, served by ``client``'s existing stand-in session."""
    app, flow = start_flow(standin, address, **kwargs)
    params = callback_params(open_url(standin, client, flow["auth_uri"]))
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "error" not in result, result
    return result["id_token_claims"]


def wait_until_seconds_after(moment):
    wait_until(lambda: time.time() >= moment, what=f"the clock to pass {moment}", interval=0.05)


def test_id_tokens_carry_the_time_of_the_sign_in_as_auth_time(standin):
    _, auth_time, before, after = timed_sign_in(standin, "alice@contoso.com")
    assert isinstance(auth_time, int) and before <= auth_time <= after


def test_auth_time_is_the_sign_in_of_this_browser_session_not_a_later_one_elsewhere(standin):
    first, first_time, _, _ = timed_sign_in(standin, "alice@contoso.com")
    wait_until_seconds_after(first_time + 2)
    _, second_time, _, _ = timed_sign_in(standin, "alice@contoso.com")
    assert second_time > first_time
    # The first browser's session is reused without a password: its token says when that
    # browser signed in, not when alice last signed in anywhere.
    assert token_in_session(standin, first, "alice@contoso.com")["auth_time"] == first_time


def test_prompt_login_ends_the_session_so_the_password_is_needed_again(standin):
    client, first_time, _, _ = timed_sign_in(standin, "alice@contoso.com")
    _, flow = start_flow(standin, "alice@contoso.com", prompt="login")
    page = open_url(standin, client, flow["auth_uri"])
    assert "<title>Sign in" in page.text
    # The authorize URL the sign-in page goes back to (without prompt) does not slip past it.
    _, plain = start_flow(standin, "alice@contoso.com")
    assert "<title>Sign in" in open_url(standin, client, plain["auth_uri"]).text
    wait_until_seconds_after(first_time + 1)
    app, flow = start_flow(standin, "alice@contoso.com", prompt="login")
    params = callback_params(sign_in(standin, client, flow, "alice@contoso.com"))
    claims = app.acquire_token_by_auth_code_flow(flow, params)["id_token_claims"]
    assert claims["auth_time"] > first_time


def test_max_age_reuses_a_young_enough_session_and_asks_again_for_an_older_one(standin):
    client, auth_time, _, _ = timed_sign_in(standin, "alice@contoso.com")
    claims = token_in_session(standin, client, "alice@contoso.com", max_age=3600)
    assert claims["auth_time"] == auth_time
    wait_until_seconds_after(auth_time + 2)
    _, flow = start_flow(standin, "alice@contoso.com", max_age=1)
    assert "<title>Sign in" in open_url(standin, client, flow["auth_uri"]).text


def test_max_age_zero_always_asks_for_the_password(standin):
    client, _, _, _ = timed_sign_in(standin, "alice@contoso.com")
    _, flow = start_flow(standin, "alice@contoso.com", max_age=0)
    assert "<title>Sign in" in open_url(standin, client, flow["auth_uri"]).text


def test_prompt_none_with_a_session_older_than_max_age_is_login_required(standin):
    client, auth_time, _, _ = timed_sign_in(standin, "alice@contoso.com")
    wait_until_seconds_after(auth_time + 2)
    _, flow = start_flow(standin, "alice@contoso.com", prompt="none", max_age=1)
    params = callback_params(open_url(standin, client, flow["auth_uri"]))
    assert params["error"] == "login_required"
    assert params["state"] == flow["state"]


def test_unregistered_redirect_uri_is_never_redirected_to(standin):
    app = msal_app(standin)
    flow = app.initiate_auth_code_flow(
        scopes=[], redirect_uri="http://evil.example/cb", login_hint="dave@tailspin.com"
    )
    response = browser().get(flow["auth_uri"], allow_redirects=False)
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")
    assert "<title>Sign-in request" in response.text
    # The sign-in page does not send refusals to an unchecked address either.
    query = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    next_url = urlsplit(flow["auth_uri"]).path + "?" + urlencode(query)
    client = browser()
    page = client.get(f"{standin.http_url}/login/?{urlencode({'next': next_url})}")
    response = post_form(
        standin, client, page, {"email": "dave@tailspin.com", "password": "x", "action": "signin"}
    )
    assert response.status_code == 200
    assert "AADSTS990002" in response.text


def test_register_redirect_uri(standin):
    extra = "http://localhost:8000/extra/callback/"
    standin.register_redirect_uri(extra)
    app = msal_app(standin)
    flow = app.initiate_auth_code_flow(scopes=[], redirect_uri=extra, login_hint="bob@fabrikam.com")
    page = open_url(standin, browser(), flow["auth_uri"])
    assert page.status_code == 200 and "<title>Sign in" in page.text


def test_logout_redirects_only_to_registered_uri(standin):
    _, _, client = full_sign_in(standin, "alice@contoso.com")
    logout = f"{standin.http_url}/common/oauth2/v2.0/logout"
    response = client.get(
        logout,
        params={"post_logout_redirect_uri": POST_LOGOUT_URI, "state": "xyz"},
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{POST_LOGOUT_URI}?state=xyz"
    # The stand-in session is gone: the next authorize asks for a sign-in again.
    _, flow = start_flow(standin, "alice@contoso.com")
    assert "<title>Sign in" in open_url(standin, client, flow["auth_uri"]).text

    response = client.get(
        logout,
        params={"post_logout_redirect_uri": "http://evil.example/"},
        allow_redirects=False,
    )
    assert response.status_code == 200
    assert "You are signed out" in response.text
    response = client.get(
        logout,
        params={"post_logout_redirect_uri": POST_LOGOUT_URI, "client_id": "someone-else"},
        allow_redirects=False,
    )
    assert response.status_code == 200


def test_mailbox_lists_and_links(standin):
    client = browser()
    box = mailbox.Maildir(standin.mailbox_dir)
    message = email.message.EmailMessage()
    message["From"] = "noreply@vlsc.example"
    message["To"] = "licensing@fabrikam.com"
    message["Subject"] = "Thank you for Registering with the Volume Licensing Service Center"
    url = "http://localhost:8000/register/confirm/abc123/"
    message.set_content(f"Hello <b>Bob</b>,\n\nConfirm here: {url}\n")
    key = box.add(message)

    index = client.get(f"{standin.http_url}/mailbox/")
    assert index.status_code == 200
    assert "<caption>" in index.text
    assert "licensing@fabrikam.com" in index.text
    assert f'href="/mailbox/{key}/"' in index.text

    page = client.get(f"{standin.http_url}/mailbox/{key}/")
    assert page.status_code == 200
    assert f'<a href="{url}"' in page.text
    assert "&lt;b&gt;Bob&lt;/b&gt;" in page.text
    assert "<b>Bob</b>" not in page.text
    assert client.get(f"{standin.http_url}/mailbox/no-such-key/").status_code == 404


def test_home_lists_demo_accounts(standin):
    page = browser().get(f"{standin.http_url}/")
    assert page.status_code == 200
    for address, _ in demo.DEMO_ACCOUNTS:
        assert address in page.text
    assert 'href="/mailbox/"' in page.text and 'href="/admin/"' in page.text
