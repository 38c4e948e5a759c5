"""A person's delegated token from the stand-in (authorization code with PKCE, MSAL) against
the live API: exactly their rights, and a fresh sign-in lets them give Administrator."""

from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount

from accounts.models import User
from agreements.models import AuditEvent, PermissionGrant
from entra_standin import demo
from entra_standin.testing import sign_in

from .conftest import make_agreement


def _session(verify=None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if verify:
        session.verify = verify
    return session


def delegated_token(standin, live_server, address: str, scopes: list[str]) -> str:
    redirect_uri = f"{live_server.url}/accounts/entra/login/callback/"
    app = msal.ConfidentialClientApplication(
        standin.client_id,
        client_credential=standin.client_secret,
        authority=standin.authority("organizations"),
        instance_discovery=False,
        http_client=_session(str(standin.ca_path)),
    )
    flow = app.initiate_auth_code_flow(scopes=scopes, redirect_uri=redirect_uri, login_hint=address)
    back = sign_in(flow["auth_uri"], back_to=redirect_uri)
    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(back).query)))
    assert "access_token" in result, result
    return result["access_token"]


@pytest.mark.filterwarnings("ignore:response_mode:UserWarning")
@pytest.mark.django_db(transaction=True)
def test_a_signed_in_administrator_manages_their_agreement_over_the_api(entra, live_server):
    contoso = make_agreement("V1234567", "Contoso Ltd")
    make_agreement("O8880202", "Fabrikam, Inc.")
    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind="administrator"
    )
    user = User.objects.create(username="contoso-admin", email="admin@contoso.com")
    EmailAddress.objects.create(user=user, email="admin@contoso.com", verified=True, primary=True)
    SocialAccount.objects.create(
        user=user, provider="entra", uid=f"{demo.CONTOSO_ADMIN_OID}.{demo.CONTOSO_TID}"
    )
    api = _session()
    base = f"{live_server.url}/api/v1"

    token = delegated_token(
        entra, live_server, "admin@contoso.com", [f"{demo.API_APP_ID_URI}/Permissions.ReadWrite"]
    )
    api.headers["Authorization"] = f"Bearer {token}"
    listed = api.get(f"{base}/agreements")
    assert [a["number"] for a in listed.json()["items"]] == ["V1234567"], listed.text
    created = api.post(
        f"{base}/agreements/V1234567/permissions",
        json={"email": "deputy@contoso.com", "kind": "administrator"},
    )
    assert created.status_code == 201, created.text  # the sign-in was just now
    event = AuditEvent.objects.get(subject_email="deputy@contoso.com")
    assert event.actor == user and event.step_up_at is not None and event.via

    # The portal's own sign-in token (OpenID scopes only) is not a token for the API.
    api.headers["Authorization"] = "Bearer " + delegated_token(
        entra, live_server, "admin@contoso.com", []
    )
    refused = api.get(f"{base}/agreements")
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
