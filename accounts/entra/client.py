"""MSAL and id_token validation against the configured authority (Microsoft or the stand-in).

MSAL only accepts https authorities, and its ``requests`` session is given the authority's CA
explicitly with ``trust_env`` off, since ``REQUESTS_CA_BUNDLE`` would otherwise win. MSAL does
not validate the id_token (signature, iss, aud, exp), so :func:`validate_id_token` does, with
the signing keys from PyJWT's ``PyJWKClient``.
"""

from __future__ import annotations

import ssl
import time
from functools import lru_cache
from typing import Any

import jwt
import msal
import requests
from django.conf import settings

# MSAL's http_cache, shared between app instances: MSAL keeps its discovery GET there for a day
# (msal/throttled_http_client.py), and the portal keeps its own copy there too, as long.
_http_cache: dict = {}
DISCOVERY_MAX_AGE = 24 * 3600  # seconds
_clock = time.monotonic


class InvalidToken(Exception):
    """A token (id_token or access token) failed validation; ``reason`` says which check, for
    the sign-in event or the API's problem document."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


InvalidIdToken = InvalidToken  # the name sign-in uses


HTTP_TIMEOUT = 10  # seconds, for every request to the authority (MSAL sets none of its own)


class ProviderUnavailable(Exception):
    """The authority failed or answered something unusable (discovery, keys)."""


class _Session(requests.Session):
    """A session whose requests time out: MSAL ignores its ``timeout`` once given an
    ``http_client``, and a hung authority would hold a web worker indefinitely."""

    def request(self, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = HTTP_TIMEOUT
        return super().request(*args, **kwargs)


@lru_cache(maxsize=1)
def http_session() -> requests.Session:
    session = _Session()
    session.trust_env = False
    if settings.ENTRA_CA_BUNDLE:
        session.verify = settings.ENTRA_CA_BUNDLE
    return session


def reset_caches() -> None:
    """Forget the session, discovery documents and keys (after the settings change)."""
    http_session.cache_clear()
    _msal_app.cache_clear()
    _http_cache.clear()
    jwk_client.cache_clear()


def authority_url() -> str:
    return f"{settings.ENTRA_AUTHORITY_HOST.rstrip('/')}/{settings.ENTRA_TENANT}"


class _NoTokens(msal.TokenCache):
    """The portal keeps no tokens: it signs people in and calls no API with their tokens. One
    MSAL client serves every request of a process, and its token cache would otherwise gather
    every person's tokens in memory."""

    def add(self, event, **kwargs) -> None:
        return None


def msal_app() -> msal.ConfidentialClientApplication:
    """The process's MSAL client for the configured app registration. Building one costs
    milliseconds (it reads the authority's discovery and builds its HTTP layers), so it is made
    once and shared; MSAL's client is thread-safe and, with :class:`_NoTokens`, keeps nothing
    about any one sign-in (the flow travels in its cookie)."""
    return _msal_app(
        settings.ENTRA_CLIENT_ID,
        settings.ENTRA_CLIENT_SECRET,
        authority_url(),
        settings.ENTRA_INSTANCE_DISCOVERY,
        settings.ENTRA_CA_BUNDLE,
    )


@lru_cache(maxsize=2)
def _msal_app(
    client_id: str, secret: str, authority: str, instance_discovery: bool, ca_bundle: str
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=secret,
        authority=authority,
        instance_discovery=instance_discovery,
        http_client=http_session(),
        http_cache=_http_cache,
        token_cache=_NoTokens(),
    )


DISCOVERY_FIELDS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "issuer")


def _discovery_url() -> str:
    return f"{authority_url()}/v2.0/.well-known/openid-configuration"


def openid_configuration() -> dict[str, Any]:
    """The authority's discovery document, fetched again once it is a day old; raises
    :class:`ProviderUnavailable` when it cannot be fetched or lacks what sign-in needs (and then
    keeps nothing, so the next try refetches)."""
    url = _discovery_url()
    key = ("openid-configuration", url)
    cached = _http_cache.get(key)
    if cached is not None and _clock() - cached[0] < DISCOVERY_MAX_AGE:
        return cached[1]
    try:
        response = http_session().get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        forget_discovery()
        raise ProviderUnavailable(f"discovery: {exc}") from exc
    if not isinstance(document, dict) or not all(
        isinstance(document.get(name), str) for name in DISCOVERY_FIELDS
    ):
        forget_discovery()
        raise ProviderUnavailable("discovery: the document lacks the endpoints or issuer")
    _http_cache[key] = (_clock(), document)
    return document


def forget_discovery() -> None:
    """After a failure talking to the authority, drop its discovery document: the portal's copy
    and MSAL's (its cached GET of the same URL, keyed ``GET <url> ...`` in the shared cache), so
    the next sign-in reads the endpoints and keys afresh (with a new MSAL client). MSAL's other
    entries (its throttling of failing token requests) stay."""
    url = _discovery_url()
    _msal_app.cache_clear()  # it holds the endpoints it read when it was made
    _http_cache.pop(("openid-configuration", url), None)
    for key in list(_http_cache):
        if isinstance(key, str) and key.startswith(f"GET {url} "):
            _http_cache.pop(key, None)


@lru_cache(maxsize=4)
def jwk_client(jwks_uri: str, cooldown: float = 0) -> jwt.PyJWKClient:
    """PyJWT's client for the authority's signing keys, one per key-set URL, shared by all
    requests. It fetches with urllib, not ``requests``, so the authority's CA goes in as an SSL
    context. Keys are kept by ``kid``; a ``kid`` it does not know makes it fetch the set once
    more (a key rotation). ``cooldown_duration=0`` lets that refetch happen whenever it is
    needed: id_tokens reach the portal only from the authority's token endpoint, so an unknown
    ``kid`` means a rotation, not someone probing. Access tokens come from any caller of the
    API, so their client has a ``cooldown``: an unknown ``kid`` refetches at most that often."""
    cafile = settings.ENTRA_CA_BUNDLE or None
    return jwt.PyJWKClient(
        jwks_uri,
        cache_keys=True,
        lifespan=DISCOVERY_MAX_AGE,
        timeout=HTTP_TIMEOUT,
        ssl_context=ssl.create_default_context(cafile=cafile),
        cooldown_duration=cooldown,
    )


def _signing_key(token: str, jwks_uri: str, cooldown: float = 0) -> jwt.PyJWK:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidIdToken("malformed") from exc
    if not isinstance(kid, str):  # no key in any set matches it: refused without a refetch
        raise InvalidIdToken("unknown_signing_key")
    unusable = (ValueError, TypeError, AttributeError, jwt.PyJWKSetError, jwt.PyJWKError)
    try:
        keys = jwk_client(jwks_uri, cooldown)
        # Fetched first, so that a set which cannot be had or holds no signing key is the
        # authority's failure, and only a kid missing from a good set is the token's.
        keys.get_signing_keys()
    except (OSError, jwt.PyJWKClientError, *unusable) as exc:  # OSError: the CA file
        raise ProviderUnavailable(f"signing keys: {exc!r}") from exc
    try:
        return keys.get_signing_key(kid)
    except (jwt.PyJWKClientConnectionError, *unusable) as exc:  # the refetch failed
        raise ProviderUnavailable(f"signing keys: {exc!r}") from exc
    except jwt.PyJWKClientError as exc:  # not in the set, even fetched again
        raise InvalidIdToken("unknown_signing_key") from exc


def _validated(
    token: str, *, audience: str | list[str], require: list[str], cooldown: float = 0
) -> dict[str, Any]:
    """Signature (the authority's JWKS), ``aud``, ``exp``, ``nbf``, the ``require``d claims,
    ``iss`` for the token's tenant and the allowed tenants; the claims, or InvalidToken."""
    if not isinstance(token, str) or not token:
        raise InvalidToken("missing")
    config = openid_configuration()
    try:
        key = _signing_key(token, config["jwks_uri"], cooldown)
    except ProviderUnavailable:
        forget_discovery()  # the keys may have moved: the next try reads where from afresh
        raise
    except InvalidToken as exc:
        if exc.reason == "unknown_signing_key" and not cooldown:
            forget_discovery()
        raise
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            leeway=60,
            options={"require": require},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("wrong_audience") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken("bad_signature") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid") from exc
    # The signature is verified: tid can be trusted to build the expected issuer.
    expected_issuer = config["issuer"].replace("{tenantid}", str(claims["tid"]))
    if claims["iss"] != expected_issuer:
        raise InvalidToken("wrong_issuer")
    allowed = settings.ENTRA_ALLOWED_TENANTS
    if allowed and claims["tid"] not in (*allowed, settings.CONSUMER_TENANT_ID):
        raise InvalidToken("tenant_not_allowed")
    return claims


def validate_id_token(token: str) -> dict[str, Any]:
    """Check signature (authority's JWKS), ``aud``, ``exp``, ``iat`` and ``iss`` for the token's
    tenant; return the claims. Raises :class:`InvalidIdToken`. MSAL already checked the nonce."""
    return _validated(
        token,
        audience=settings.ENTRA_CLIENT_ID,
        require=["iss", "aud", "exp", "iat", "sub", "tid", "oid"],
    )


API_KEY_REFETCH_COOLDOWN = 60  # seconds: an access token's unknown kid refetches the keys


def validate_access_token(token: str, *, audience: str | list[str]) -> dict[str, Any]:
    """An access token for the portal's API (``audience``: its application ID URI or client
    id, any one of them), checked as
    the id_token is: signature against the authority's JWKS, ``iss`` for the token's tenant,
    ``aud``, ``exp`` and ``nbf`` (with a minute's leeway), the allowed tenants. Returns the
    claims; raises :class:`InvalidToken` (``reason``) or :class:`ProviderUnavailable`. Whether
    ``scp`` or ``roles`` allow anything is the API's decision."""
    return _validated(
        token,
        audience=audience,
        require=["iss", "aud", "exp", "nbf", "iat", "tid", "oid"],
        cooldown=API_KEY_REFETCH_COOLDOWN,
    )
