"""Who calls the API: a bearer access token issued by the identity provider for the portal's
API (``settings.API_AUDIENCES``), validated as the id_token is (``accounts.entra.client``), never
a password or a key the portal made.

- Delegated (``scp``): the person signed in at the identity provider, found by ``oid`` and
  ``tid`` as at sign-in, with exactly their rights on each agreement. ``Permissions.Read`` reads,
  ``Permissions.ReadWrite`` reads and writes. ``auth_time`` is their sign-in: giving or taking
  Administrator needs it within the step-up window.
- App-only (``roles``): an organisation's own application (``tid`` and ``azp``), with the access
  an agreement's administrator authorised it for (``api.models.ApplicationAuthorisation``), no
  more than its roles allow: ``Permissions.Read.All`` or ``Permissions.ReadWrite.All``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from accounts.entra import client
from accounts.models import User
from accounts.selectors import user_for_identity
from accounts.services import step_up
from api import conventions, problems

READ_SCOPE, WRITE_SCOPE = "Permissions.Read", "Permissions.ReadWrite"
READ_ROLE, WRITE_ROLE = "Permissions.Read.All", "Permissions.ReadWrite.All"


@dataclass(frozen=True)
class Caller:
    """A validated caller. ``user`` for delegated tokens, None for app-only ones."""

    tenant_id: str
    client_id: str
    oid: str
    user: User | None
    may_read: bool
    may_write: bool
    auth_time: datetime | None = None

    @property
    def app_only(self) -> bool:
        return self.user is None

    @property
    def key(self) -> str:
        """What rate limits and idempotency keys are counted per."""
        if self.user is not None:
            return f"user:{self.user.pk}"
        return f"app:{self.tenant_id}:{self.client_id}"

    @property
    def via(self) -> str:
        """How the audit trail names the channel (``AuditEvent.via``)."""
        if self.user is not None:
            return f"API (delegated, client {self.client_id})"[:300]
        return f"API (application {self.client_id} of tenant {self.tenant_id})"[:300]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    """The caller a validated token's claims name; raises :class:`problems.Problem` (403) when
    the token grants nothing of the API or names nobody the portal knows."""
    tid, oid = str(claims["tid"]), str(claims["oid"])
    client_id = str(claims.get("azp") or claims.get("appid") or "")
    scopes, roles = _strings(claims.get("scp")), _strings(claims.get("roles"))
    if "scp" in claims:
        may_read = bool({READ_SCOPE, WRITE_SCOPE} & set(scopes))
        if not may_read:
            raise problems.insufficient_scope(
                _("The token has none of the API's scopes (Permissions.Read, ReadWrite).")
            )
        user = user_for_identity(oid=oid, tid=tid)
        if user is None:
            raise problems.forbidden(
                _("This identity has no active account on the portal: sign in there once."),
                slug="no-portal-account",
            )
        seconds = step_up.auth_time_from(claims)
        return Caller(
            tenant_id=tid,
            client_id=client_id,
            oid=oid,
            user=user,
            may_read=True,
            may_write=WRITE_SCOPE in scopes,
            auth_time=datetime.fromtimestamp(seconds, tz=UTC) if seconds else None,
        )
    if not {READ_ROLE, WRITE_ROLE} & set(roles) or not client_id:
        raise problems.insufficient_scope(
            _("The token has none of the API's app roles (Permissions.Read.All, ReadWrite.All).")
        )
    return Caller(
        tenant_id=tid,
        client_id=client_id,
        oid=oid,
        user=None,
        may_read=True,
        may_write=WRITE_ROLE in roles,
    )


class EntraBearer(HttpBearer):
    """django-ninja's bearer scheme, validating Entra access tokens. The OpenAPI document
    declares it as ``http``/``bearer`` with JWT format."""

    openapi_bearerFormat = "JWT"

    def __call__(self, request: HttpRequest) -> Caller:
        header = request.headers.get("Authorization", "")
        scheme, _space, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise problems.unauthenticated("missing")
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        try:
            claims = client.validate_access_token(token, audience=settings.API_AUDIENCES)
        except client.InvalidToken as exc:
            raise problems.unauthenticated(exc.reason) from exc
        except client.ProviderUnavailable as exc:
            raise problems.Problem(
                503,
                "identity-provider-unavailable",
                _("The identity provider's signing keys cannot be read just now."),
                headers={"Retry-After": "30"},
            ) from exc
        caller = caller_from_claims(claims)
        conventions.count_call(request, caller)
        return caller
