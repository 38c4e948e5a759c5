"""Tokens for the API, signed by a test authority whose keys the portal fetches, and personas:
an administrator of Contoso's agreement, one of Fabrikam's, and Contoso's own application."""

from __future__ import annotations

import time
import uuid
from datetime import date

import jwt
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.entra import client
from accounts.models import User
from agreements.models import Agreement, PermissionGrant
from agreements.services import sync_staff_access
from api.models import ApplicationAuthorisation
from tests.cache_util import clear_portal_cache

Kind = PermissionGrant.Kind
AUDIENCE = "api://vlsc-portal"
ISSUER_TEMPLATE = "https://idp.test/{tenantid}/v2.0"
CONTOSO_TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
FABRIKAM_TID = "bc85181d-328c-566a-a424-c3f23b13bab7"
APP_CLIENT_ID = "3f8c2a91-5d7e-4b60-9a1f-2c4e6b8d0f13"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def authority(monkeypatch, settings):
    """A test authority: its keys and discovery instead of the stand-in's (the modules that use
    it say so with ``pytestmark``)."""
    settings.API_AUDIENCES = [AUDIENCE]
    settings.ENTRA_ALLOWED_TENANTS = []
    settings.ENTRA_CA_BUNDLE = ""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "api": "1000/m/key"}
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    jwk.update(kid="k1", use="sig", alg="RS256")
    monkeypatch.setattr(
        client,
        "openid_configuration",
        lambda: {"issuer": ISSUER_TEMPLATE, "jwks_uri": "https://idp.test/keys"},
    )
    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", lambda self: {"keys": [jwk]})
    client.reset_caches()
    clear_portal_cache()
    yield
    client.reset_caches()


def token(*, key=KEY, kid="k1", tid=CONTOSO_TID, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": f"https://idp.test/{tid}/v2.0",
        "aud": AUDIENCE,
        "tid": tid,
        "oid": str(uuid.uuid4()),
        "sub": "s",
        "azp": "portal-client",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def person_token(user: User, *, scp="Permissions.ReadWrite", auth_time=None, **overrides) -> str:
    account = SocialAccount.objects.get(user=user)
    oid, tid = account.uid.split(".")
    claims = {"oid": oid, "tid": tid, "scp": scp}
    if auth_time is not None:
        claims["auth_time"] = auth_time
    claims.update(overrides)
    return token(**claims)


def app_token(*, roles=("Permissions.ReadWrite.All",), client_id=APP_CLIENT_ID, tid=CONTOSO_TID):
    return token(tid=tid, roles=list(roles), azp=client_id, appid=client_id, idtyp="app")


def make_person(email: str, tid: str) -> User:
    user = User.objects.create(username=email.replace("@", "_"), email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    SocialAccount.objects.create(user=user, provider="entra", uid=f"{uuid.uuid4()}.{tid}")
    return user


def make_agreement(number: str, customer: str) -> Agreement:
    return Agreement.objects.create(
        number=number,
        program=Agreement.Program.VOLUME_LICENSE_AGREEMENT,
        customer=customer,
        start_date=date(2024, 1, 1),
    )


@pytest.fixture
def contoso(db) -> Agreement:
    return make_agreement("V1234567", "Contoso Ltd")


@pytest.fixture
def fabrikam(db) -> Agreement:
    return make_agreement("O8880202", "Fabrikam, Inc.")


def administrator_of(agreement: Agreement, email: str, tid: str) -> User:
    PermissionGrant.objects.create(agreement=agreement, email=email, kind=Kind.ADMINISTRATOR)
    user = make_person(email, tid)
    sync_staff_access(user=user)
    user.refresh_from_db()
    return user


@pytest.fixture
def contoso_admin(contoso) -> User:
    return administrator_of(contoso, "admin@contoso.com", CONTOSO_TID)


@pytest.fixture
def fabrikam_admin(fabrikam) -> User:
    return administrator_of(fabrikam, "bob@fabrikam.com", FABRIKAM_TID)


@pytest.fixture
def contoso_app(contoso, contoso_admin) -> ApplicationAuthorisation:
    return ApplicationAuthorisation.objects.create(
        agreement=contoso,
        tenant_id=CONTOSO_TID,
        client_id=APP_CLIENT_ID,
        access=ApplicationAuthorisation.Access.READ_WRITE,
        authorised_by=contoso_admin,
    )


class Api:
    """The Django test client with a bearer token, JSON bodies and the API's prefix."""

    def __init__(self, django_client, bearer: str | None):
        self.client = django_client
        self.bearer = bearer

    def _headers(self, headers):
        extra = {"HTTP_AUTHORIZATION": f"Bearer {self.bearer}"} if self.bearer else {}
        extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        return extra

    def get(self, path, headers=None, **params):
        return self.client.get(f"/api/v1{path}", params, **self._headers(headers or {}))

    def post(self, path, body=None, headers=None, content_type="application/json"):
        import json

        data = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        return self.client.post(
            f"/api/v1{path}", data, content_type=content_type, **self._headers(headers or {})
        )

    def delete(self, path, headers=None):
        return self.client.delete(f"/api/v1{path}", **self._headers(headers or {}))


@pytest.fixture
def api(client):
    return lambda bearer=None: Api(client, bearer)
