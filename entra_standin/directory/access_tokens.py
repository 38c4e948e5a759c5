"""Entra-shaped access tokens for the portal's API (DOT's ``ACCESS_TOKEN_GENERATOR``).

Entra issues an access token for one resource: the one whose scopes were asked for. A token
request naming a scope of the portal's API (``api://vlsc-portal/Permissions.ReadWrite``, or
``api://vlsc-portal/.default``) gets an RS256 JWT signed with the stand-in's OpenID key (the
one its JWKS publishes), with:

- delegated (authorization code with PKCE, or its refresh): ``aud`` the application ID URI,
  ``iss`` for the person's tenant, ``tid``, ``oid``, ``sub`` (pairwise per client), ``scp``
  (space-separated scope names without the URI), ``azp`` (the calling client),
  ``preferred_username``, ``name`` and ``auth_time`` (when the browser session signed in; only on
  tokens from an authorization code, never on refreshed ones, as the sign-in is not renewed);
- app-only (client credentials, ``.default`` only): ``aud``, ``iss`` and ``tid`` for the
  application's own tenant, ``oid``/``sub`` its service principal, ``roles`` the app roles it was
  granted (``AppRegistration``), ``azp``/``appid`` its client id, ``idtyp`` ``app``;
- always ``iat``, ``nbf``, ``exp``, ``ver`` ``2.0`` and a ``jti``.

Any other token request (the portal's own sign-in asks for OpenID scopes only) gets DOT's usual
random string, as before.
"""

from __future__ import annotations

import json
import time
import uuid

from django.conf import settings
from jwcrypto import jwk, jwt
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from entra_standin import demo

API_PREFIX = demo.API_APP_ID_URI + "/"
DEFAULT_SCOPE = API_PREFIX + ".default"


def api_scopes() -> dict[str, str]:
    """The scopes of the portal's API as DOT's ``SCOPES`` setting lists them."""
    scopes = {API_PREFIX + name: f"{name} on the VLSC portal's API" for name in demo.API_SCOPES}
    scopes[DEFAULT_SCOPE] = "Every permission of the VLSC portal's API granted to the caller"
    return scopes


def asks_for_api(scopes) -> bool:
    return any(str(scope).startswith(API_PREFIX) for scope in scopes or ())


def delegated_scopes(scopes) -> list[str]:
    names = []
    for scope in scopes or ():
        if scope == DEFAULT_SCOPE:
            names.extend(demo.API_SCOPES)
        elif str(scope).startswith(API_PREFIX):
            names.append(str(scope)[len(API_PREFIX) :])
    return sorted(set(names))


def _signing_key() -> jwk.JWK:
    pem = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    return jwk.JWK.from_pem(pem.encode())


def _sign(claims: dict) -> str:
    key = _signing_key()
    header = {"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def claims_for(request, *, now: int | None = None) -> dict | None:
    """The claims of the API access token this token request gets, or None (not for the API)."""
    from entra_standin.directory.oidc import issuer_for, pairwise_sub

    scopes = getattr(request, "scopes", None) or []
    if not asks_for_api(scopes):
        return None
    now = int(time.time()) if now is None else now
    client = request.client
    claims = {
        "aud": demo.API_APP_ID_URI,
        "iat": now,
        "nbf": now,
        "exp": now + settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"],
        "azp": client.client_id,
        "appid": client.client_id,
        "ver": "2.0",
        "jti": uuid.uuid4().hex,
    }
    if request.grant_type == "client_credentials":
        registration = getattr(client, "registration", None)
        if registration is None:
            return None
        tid = str(registration.tenant_id)
        claims.update(
            iss=issuer_for(tid),
            tid=tid,
            oid=registration.service_principal_oid,
            sub=registration.service_principal_oid,
            roles=registration.app_roles.split(),
            idtyp="app",
        )
        return claims
    user = request.user
    tid = str(user.tenant_id)
    claims.update(
        iss=issuer_for(tid),
        tid=tid,
        oid=str(user.oid),
        sub=pairwise_sub(user.oid, client.client_id),
        scp=" ".join(delegated_scopes(scopes)),
        preferred_username=user.username,
        name=user.get_full_name(),
    )
    auth_time = getattr(request, "standin_auth_time", None)  # authorization code only
    if isinstance(auth_time, int) and request.grant_type == "authorization_code":
        claims["auth_time"] = auth_time
    return claims


def generate(request, refresh_token=False):
    """DOT's ``ACCESS_TOKEN_GENERATOR``: a JWT for the API, DOT's random token otherwise."""
    claims = claims_for(request)
    if claims is None:
        return random_token_generator(request, refresh_token)
    return _sign(claims)
