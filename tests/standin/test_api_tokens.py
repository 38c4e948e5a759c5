"""The stand-in issues Entra-shaped access tokens for the portal's API: delegated (authorization
code with PKCE) and app-only (client credentials), RS256, verifiable with its JWKS."""

import time

import jwt
import msal
import pytest

from entra_standin import demo

from .test_standin import browser, callback_params, sign_in, start_flow, trusted_session

API = demo.API_APP_ID_URI
pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")


def verified(standin, token, tenant):
    keys = trusted_session(standin).get(f"{standin.tls_url}/{tenant}/discovery/v2.0/keys").json()
    key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=API)


def contoso_app(standin):
    return msal.ConfidentialClientApplication(
        demo.CONTOSO_APP_CLIENT_ID,
        client_credential=demo.CONTOSO_APP_SECRET,
        authority=standin.authority(demo.CONTOSO_TID),
        instance_discovery=False,
        http_client=trusted_session(standin),
    )


def test_client_credentials_give_an_app_only_token_with_roles(standin):
    result = contoso_app(standin).acquire_token_for_client(scopes=[f"{API}/.default"])
    assert "access_token" in result, result
    claims = verified(standin, result["access_token"], demo.CONTOSO_TID)
    assert claims["iss"] == f"{standin.tls_url}/{demo.CONTOSO_TID}/v2.0"
    assert claims["tid"] == demo.CONTOSO_TID
    assert claims["roles"] == ["Permissions.ReadWrite.All"]
    assert claims["azp"] == claims["appid"] == demo.CONTOSO_APP_CLIENT_ID
    assert claims["idtyp"] == "app" and "scp" not in claims
    assert claims["nbf"] <= time.time() < claims["exp"]


def test_client_credentials_need_the_default_scope_and_the_secret(standin):
    named = contoso_app(standin).acquire_token_for_client(scopes=[f"{API}/Permissions.Read"])
    assert named.get("error") == "invalid_scope", named
    wrong = msal.ConfidentialClientApplication(
        demo.CONTOSO_APP_CLIENT_ID,
        client_credential="not-the-secret",
        authority=standin.authority(demo.CONTOSO_TID),
        instance_discovery=False,
        http_client=trusted_session(standin),
    ).acquire_token_for_client(scopes=[f"{API}/.default"])
    assert wrong.get("error") == "invalid_client", wrong


def test_a_delegated_token_names_the_person_their_scopes_and_sign_in_time(standin):
    before = int(time.time())
    app, flow = start_flow(standin, "alice@contoso.com")
    flow = app.initiate_auth_code_flow(
        scopes=[f"{API}/Permissions.ReadWrite"],
        redirect_uri=flow["redirect_uri"],
        login_hint="alice@contoso.com",
    )
    params = callback_params(sign_in(standin, browser(), flow, "alice@contoso.com"))
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    claims = verified(standin, result["access_token"], demo.CONTOSO_TID)
    assert claims["scp"] == "Permissions.ReadWrite"
    assert claims["oid"] == demo.ALICE_OID and claims["tid"] == demo.CONTOSO_TID
    assert claims["azp"] == standin.client_id
    assert before - 5 <= claims["auth_time"] <= time.time() + 5
    assert "roles" not in claims


def test_a_sign_in_without_api_scopes_gets_no_api_token(standin):
    app, flow = start_flow(standin, "bob@fabrikam.com")
    params = callback_params(sign_in(standin, browser(), flow, "bob@fabrikam.com"))
    result = app.acquire_token_by_auth_code_flow(flow, params)
    with pytest.raises(jwt.DecodeError):
        jwt.get_unverified_header(result["access_token"])


def test_discovery_lists_the_apis_scopes(standin):
    document = (
        trusted_session(standin)
        .get(f"{standin.tls_url}/common/v2.0/.well-known/openid-configuration")
        .json()
    )
    assert {f"{API}/Permissions.Read", f"{API}/Permissions.ReadWrite", f"{API}/.default"} <= set(
        document["scopes_supported"]
    )
