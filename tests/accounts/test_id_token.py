"""The portal validates the id_token itself: MSAL does not (signature, iss, aud, exp)."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.entra import client

TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
ISSUER_TEMPLATE = "https://idp.test/{tenantid}/v2.0"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


GOOD_KEY = _key()
OTHER_KEY = _key()


def _jwk(key, kid: str) -> dict:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig", alg="RS256")
    return jwk


fetched: list[str] = []  # the key-set URLs the portal fetched, in order


@pytest.fixture(autouse=True)
def authority(monkeypatch, settings):
    settings.ENTRA_CLIENT_ID = "portal-client"
    settings.ENTRA_ALLOWED_TENANTS = []
    settings.ENTRA_CA_BUNDLE = ""  # no stand-in here, so no CA of its own to trust
    jwk = _jwk(GOOD_KEY, "k1")
    monkeypatch.setattr(
        client,
        "openid_configuration",
        lambda: {"issuer": ISSUER_TEMPLATE, "jwks_uri": "https://idp.test/keys"},
    )
    fetched.clear()
    monkeypatch.setattr(
        jwt.PyJWKClient, "fetch_data", lambda self: fetched.append(self.uri) or {"keys": [jwk]}
    )
    client.reset_caches()
    yield
    client.reset_caches()


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict, claims: dict, sign) -> str:
    """A token assembled by hand: ``sign(signing_input) -> bytes`` (PyJWT refuses to make some
    of these forgeries itself)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _claims(**overrides) -> dict:
    return jwt.decode(token(**overrides), options={"verify_signature": False})


def _alg_none() -> str:
    return _forge({"alg": "none", "kid": "k1", "typ": "JWT"}, _claims(), lambda _: b"")


def _hs256_with_the_public_key() -> str:
    """The classic key confusion: HMAC keyed with the authority's public key, which anyone has."""
    public_pem = GOOD_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _forge(
        {"alg": "HS256", "kid": "k1", "typ": "JWT"},
        _claims(),
        lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )


def _signature_stripped() -> str:
    return token().rsplit(".", 1)[0] + "."


def _foreign_signature() -> str:
    """Claims changed under a genuine signature of other claims."""
    mine = token(preferred_username="mallory@contoso.com").split(".")
    genuine = token().split(".")
    return f"{mine[0]}.{mine[1]}.{genuine[2]}"


def _embedded_jwk() -> str:
    """The token brings its own key (``jwk`` header) and is signed with it."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(OTHER_KEY.public_key(), as_dict=True)
    return jwt.encode(_claims(), OTHER_KEY, algorithm="RS256", headers={"kid": "k1", "jwk": jwk})


def _key_url(kid: str) -> str:
    """The token points at a key set of the attacker's (``jku``, ``x5u``)."""
    return jwt.encode(
        _claims(),
        OTHER_KEY,
        algorithm="RS256",
        headers={"kid": kid, "jku": EVIL_KEYS, "x5u": EVIL_KEYS},
    )


def _signed_with_another_rsa_algorithm() -> str:
    return jwt.encode(_claims(), GOOD_KEY, algorithm="RS512", headers={"kid": "k1"})


EVIL_KEYS = "https://evil.example/keys"


def now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(_alg_none, "invalid", id="alg-none"),
        pytest.param(_hs256_with_the_public_key, "invalid", id="hs256-with-public-key"),
        pytest.param(_signed_with_another_rsa_algorithm, "invalid", id="rs512"),
        pytest.param(_signature_stripped, "bad_signature", id="signature-stripped"),
        pytest.param(_foreign_signature, "bad_signature", id="foreign-signature"),
        pytest.param(_embedded_jwk, "bad_signature", id="jwk-header"),
        pytest.param(lambda: _key_url("k1"), "bad_signature", id="jku-x5u-known-kid"),
        pytest.param(
            lambda: _key_url("attackers-key"), "unknown_signing_key", id="jku-x5u-own-kid"
        ),
        pytest.param(lambda: token(aud=["someone-else"]), "wrong_audience", id="aud-list"),
        pytest.param(
            lambda: token(tid="11111111-2222-3333-4444-555555555555"),
            "wrong_issuer",
            id="tid-not-the-issuers",
        ),
        pytest.param(
            lambda: token(iss="https://idp.test/{tenantid}/v2.0"),
            "wrong_issuer",
            id="iss-template",
        ),
        pytest.param(lambda: token(iat=now() + 3600), "invalid", id="iat-future"),
        pytest.param(lambda: token(nbf=now() + 3600), "invalid", id="nbf-future"),
        pytest.param(
            lambda: token(exp=now() - 61, iat=now() - 700), "expired", id="expired-past-leeway"
        ),
        *[
            pytest.param(
                lambda claim=claim: token(**{claim: None}), "invalid", id=f"missing-{claim}"
            )
            for claim in ["iss", "aud", "exp", "iat", "sub", "tid", "oid"]
        ],
    ],
)
def test_the_id_token_attack_matrix_is_refused(monkeypatch, forge, reason):
    """Each forgery or stale token is refused for its reason; keys come only from the
    authority's key set, never from a URL or key the token names."""
    with pytest.raises(client.InvalidIdToken) as excinfo:
        client.validate_id_token(forge())
    assert excinfo.value.reason == reason
    assert set(fetched) <= {"https://idp.test/keys"}


def test_the_key_set_is_fetched_once_and_a_rotated_key_by_one_refetch(monkeypatch):
    sets = [{"keys": [_jwk(GOOD_KEY, "k1")]}, {"keys": [_jwk(OTHER_KEY, "k2")]}]
    monkeypatch.setattr(
        jwt.PyJWKClient,
        "fetch_data",
        lambda self: fetched.append(self.uri) or sets[len(fetched) - 1],
    )
    client.validate_id_token(token())
    client.validate_id_token(token())
    assert fetched == ["https://idp.test/keys"]  # kept between validations
    assert client.validate_id_token(token(key=OTHER_KEY, kid="k2"))["sub"] == "s"
    assert fetched == ["https://idp.test/keys"] * 2


def test_an_unknown_key_is_looked_for_with_one_refetch_only():
    with pytest.raises(client.InvalidIdToken):
        client.validate_id_token(token(kid="unknown"))
    assert fetched == ["https://idp.test/keys"] * 2


def test_a_token_just_inside_the_clock_leeway_is_accepted():
    """The matrix's expired and future tokens are refused for the time, not for something else:
    a minute's skew either way passes."""
    assert (
        client.validate_id_token(token(exp=now() - 30, iat=now() + 30, nbf=now() + 30))["sub"]
        == "s"
    )


def test_a_tenant_outside_the_allowed_list_is_refused(settings):
    settings.ENTRA_ALLOWED_TENANTS = ["another"]
    with pytest.raises(client.InvalidIdToken) as excinfo:
        client.validate_id_token(token())
    assert excinfo.value.reason == "tenant_not_allowed"
