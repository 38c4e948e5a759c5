"""The portal validates the id_token itself: MSAL does not (signature, iss, aud, exp)."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.entra import client

TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
ISSUER_TEMPLATE = "https://idp.test/{tenantid}/v2.0"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


GOOD_KEY = _key()
OTHER_KEY = _key()


@pytest.fixture(autouse=True)
def authority(monkeypatch, settings):
    settings.ENTRA_CLIENT_ID = "portal-client"
    settings.ENTRA_ALLOWED_TENANTS = []
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(GOOD_KEY.public_key(), as_dict=True)
    jwk.update(kid="k1", use="sig", alg="RS256")
    keyset = jwt.PyJWKSet.from_dict({"keys": [jwk]})
    monkeypatch.setattr(
        client,
        "openid_configuration",
        lambda: {"issuer": ISSUER_TEMPLATE, "jwks_uri": "https://idp.test/keys"},
    )
    monkeypatch.setattr(client, "_jwks", lambda uri, refresh=False: keyset)


def token(key=GOOD_KEY, kid="k1", **overrides):
    now = int(time.time())
    claims = {
        "iss": f"https://idp.test/{TID}/v2.0",
        "aud": "portal-client",
        "sub": "s",
        "oid": "o",
        "tid": TID,
        "iat": now,
        "exp": now + 600,
        "preferred_username": "alice@contoso.com",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_a_good_token_gives_its_claims():
    assert client.validate_id_token(token())["preferred_username"] == "alice@contoso.com"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (lambda: token(key=OTHER_KEY), "bad_signature"),
        (lambda: token(aud="someone-else"), "wrong_audience"),
        (lambda: token(iss="https://evil.test/x/v2.0"), "wrong_issuer"),
        (lambda: token(iss="https://idp.test/another-tenant/v2.0"), "wrong_issuer"),
        (lambda: token(exp=int(time.time()) - 3600), "expired"),
        (lambda: token(tid=None), "invalid"),
        (lambda: token(kid="unknown"), "unknown_signing_key"),
        (lambda: "not-a-jwt", "malformed"),
        (lambda: "", "missing"),
    ],
)
def test_a_tampered_or_stale_token_is_refused(bad, reason):
    with pytest.raises(client.InvalidIdToken) as excinfo:
        client.validate_id_token(bad())
    assert excinfo.value.reason == reason


def test_a_tenant_outside_the_allowed_list_is_refused(settings):
    settings.ENTRA_ALLOWED_TENANTS = ["another"]
    with pytest.raises(client.InvalidIdToken) as excinfo:
        client.validate_id_token(token())
    assert excinfo.value.reason == "tenant_not_allowed"
