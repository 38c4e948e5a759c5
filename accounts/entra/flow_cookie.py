"""The sign-in flow's state, carried across the round trip to the identity provider in a cookie
the portal encrypts and signs.

What must survive the round trip: MSAL's auth-code flow (``state``, ``nonce``, the PKCE
``code_verifier``, ``redirect_uri``, scopes, ``max_age``) and what the portal does afterwards
(the ``login_hint``, the page to go on to, a step-up's user and form key). It is written once, at
the sign-in start, as one cookie; the callback reads it, checks it and clears it.

Why a cookie rather than a Redis store: it needs no server store at all, so it works the same on
the embedded defaults (no Redis) and in production, survives a Redis outage mid-flow, and the
sign-in start writes nothing anywhere but the response (the session was two database writes
there, one from allauth's stash and one from the session middleware). The browser keeps it only
for the round trip and sends it only to the callback.

How it is protected:
- Encrypted and authenticated with Fernet (AES-128-CBC and HMAC-SHA256, ``cryptography``, already
  MSAL's dependency) under a key derived from ``SECRET_KEY`` by HKDF with a purpose of its own;
  ``SECRET_KEY_FALLBACKS`` still open cookies made before a key rotation. The browser cannot
  read the PKCE verifier or the nonce, nor change anything without the MAC failing.
- ``HttpOnly``; ``Secure`` wherever the session cookie is (production); ``SameSite=Lax``: the
  identity provider sends the browser back with a top-level GET (MSAL's default ``query``
  response mode; ``form_post`` would be a cross-site POST, which Lax cookies do not follow);
  ``Path`` the callback's, so no other request carries it.
- Short-lived: ``Max-Age`` and a timestamp inside the MAC, both :data:`LIFETIME_SECONDS`; an
  older cookie is refused whatever the browser kept.
- Single use: the callback clears it (unless it came back with another flow's ``state``: a
  login CSRF attempt must not cancel the browser's own flow), and counts the flow's ``state``
  once (``sign_in_flow`` in ``ACCOUNT_RATE_LIMITS``, ``1/10m/key``, atomic in Redis or the
  database), so a copy sent again is refused even from another browser.
- Bound to the request: the ``state`` the identity provider sends back must equal the cookie's
  (MSAL checks it again, and the nonce in the id_token, and the identity provider the PKCE
  verifier); one cookie at a time, so the newest sign-in start in a browser wins and an older
  tab's callback is asked to start again.

Any failure (missing, oversized, forged, expired, another flow's) is a :class:`FlowRefused`, which
the callback answers with the "start again" page (400).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.http import HttpResponse
from django.urls import get_urlconf, reverse

COOKIE_NAME = "vlsc_signin_flow"
LIFETIME_SECONDS = 600  # the round trip: signing in (or up) at the identity provider
CLOCK_SKEW_SECONDS = 60  # a cookie made by another web server whose clock runs a little ahead
# A flow's cookie is about 1.1 KB; a browser sends at most 4 KB per cookie. Anything longer was
# not made here, and is refused before any decoding.
MAX_COOKIE_LENGTH = 4096
_PURPOSE = b"vlsc_portal sign-in flow cookie"
_NOT_KEPT = ("auth_uri",)  # the URL the browser was sent to: long, and not needed afterwards


class FlowRefused(Exception):
    """The callback's flow cookie cannot be used; ``reason`` says why (for the sign-in event)."""

    def __init__(self, reason: str, *, another_flow: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # A good cookie of another flow of this browser (a login CSRF attempt, or an older
        # tab): it stays, so that flow can still complete.
        self.another_flow = another_flow


@dataclass(frozen=True)
class FlowState:
    """One sign-in flow between its start and its callback."""

    msal_flow: dict[str, Any]
    login_hint: str = ""
    next_url: str = ""
    # A step-up (``accounts.services.step_up``): the signed-in user and the kept form's key.
    step_up: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.msal_flow.get("state", ""))


def _derive(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


@lru_cache(maxsize=4)
def _fernet(secret: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive(key)) for key in (secret, *fallbacks)])


def _keys() -> MultiFernet:
    return _fernet(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def seal(flow: FlowState, *, now: float | None = None) -> str:
    """The cookie's value for ``flow``: encrypted, authenticated, timestamped."""
    data = {
        "msal_flow": {k: v for k, v in flow.msal_flow.items() if k not in _NOT_KEPT},
        "login_hint": flow.login_hint,
        "next_url": flow.next_url,
        "step_up": flow.step_up,
    }
    payload = json.dumps(data, separators=(",", ":")).encode()
    at = int(time.time() if now is None else now)
    return _keys().encrypt_at_time(payload, at).decode("ascii")


def open_sealed(value: str | None, *, state: str, now: float | None = None) -> FlowState:
    """The flow in the cookie ``value``, for the callback that came back with ``state``.
    Raises :class:`FlowRefused` when there is none, it is too long, was not made by this portal
    (or was changed), is older than :data:`LIFETIME_SECONDS`, or belongs to another flow."""
    if not value:
        raise FlowRefused("no sign-in flow cookie")
    if len(value) > MAX_COOKIE_LENGTH:
        raise FlowRefused("oversized sign-in flow cookie")
    now = time.time() if now is None else now
    keys = _keys()
    token = value.encode("ascii", errors="replace")
    try:
        made_at = keys.extract_timestamp(token)  # checks the MAC first
    except InvalidToken:
        raise FlowRefused("forged or damaged sign-in flow cookie") from None
    if now - made_at > LIFETIME_SECONDS:
        raise FlowRefused("expired sign-in flow cookie")
    if made_at > now + CLOCK_SKEW_SECONDS:
        raise FlowRefused("sign-in flow cookie from the future")
    try:
        data = json.loads(keys.decrypt(token))
        flow = FlowState(
            msal_flow=dict(data["msal_flow"]),
            login_hint=str(data.get("login_hint") or ""),
            next_url=str(data.get("next_url") or ""),
            step_up=dict(data.get("step_up") or {}),
        )
    except (InvalidToken, ValueError, TypeError, KeyError):
        raise FlowRefused("unreadable sign-in flow cookie") from None
    if not state or flow.state != state:
        raise FlowRefused(
            "the callback's state is not this browser's sign-in flow", another_flow=True
        )
    return flow


def callback_path() -> str:
    """The callback's path (the cookie's ``Path``), reversed once per URLconf."""
    return _callback_path(get_urlconf())


@lru_cache(maxsize=4)
def _callback_path(urlconf: str | None) -> str:
    return reverse("entra:callback", urlconf=urlconf)


def set_on(response: HttpResponse, flow: FlowState) -> None:
    """Give the browser the flow's cookie (the one write of the sign-in start)."""
    response.set_cookie(
        COOKIE_NAME,
        seal(flow),
        max_age=LIFETIME_SECONDS,
        path=callback_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def clear_on(response: HttpResponse) -> None:
    """Make the browser forget the flow's cookie (every answer of the callback does)."""
    response.delete_cookie(COOKIE_NAME, path=callback_path(), samesite="Lax")
