"""Sign-in decisions and the record of every outcome (Flow A; README "Sign-in error codes")."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from accounts.entra.provider import PROVIDER_ID
from accounts.models import SignInEvent, User
from vlsc_portal.addresses import InvalidEmailAddress, canonical_email
from vlsc_portal.client import Client

_AADSTS = re.compile(r"^\s*(AADSTS[0-9]{1,9})\b")


def provider_code_from(error_description: str) -> str:
    """The AADSTS code at the start of an OAuth ``error_description``, or ``""``."""
    match = _AADSTS.match(error_description or "")
    return match.group(1) if match else ""


def mask_email(address: str) -> str:
    """``jane@fabrikam.com`` → ``j•••@fabrikam.com``; anything else is masked whole."""
    local, at, domain = (address or "").partition("@")
    if not at or not local or not domain:
        return "•••"
    return f"{local[0]}•••@{domain}"


def is_personal_account(claims: dict[str, Any]) -> bool:
    return claims.get("tid") == settings.CONSUMER_TENANT_ID


def claimed_address(claims: dict[str, Any], name: str) -> str:
    """The claim ``name`` as a canonical address (``vlsc_portal.addresses``), or ``""`` when it
    is missing or has no canonical form (a zero-width space, a quoted local part, a domain that
    is no domain name): such a claim names no address, and never fails the sign-in."""
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        return ""
    try:
        return canonical_email(value)
    except InvalidEmailAddress:
        return ""


def sign_in_address(claims: dict[str, Any]) -> str:
    """The address the person signed in with: ``preferred_username`` (the UPN), canonical, or
    ``""``. Shown, recorded and offered as the invitation address; it proves nothing (Microsoft
    advises against authorising on it): :func:`proven_address` decides what the identity
    provider vouches for."""
    return claimed_address(claims, "preferred_username")


def email_domain_owner_verified(claims: dict[str, Any]) -> bool:
    """Entra's optional claim ``xms_edov``: the tenant verified that it owns the domain of the
    ``email`` claim. A JSON boolean, though some Entra versions send the string ``"true"`` or
    ``"1"``; only those count, anything else (missing, false, ``"false"``, ``"0"``, 1) does not."""
    value = claims.get("xms_edov")
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


def proven_address(claims: dict[str, Any]) -> str:
    """The address the identity provider proved the signed-in person owns, canonical, or ``""``.

    It is the ``email`` claim, and only where ``xms_edov`` is true and the account is not a
    personal one (the consumer tenant vouches for no organisation's domain). ``email`` alone
    proves nothing: a tenant's administrator can set it to any address (nOAuth); ``xms_edov``
    says the tenant verified the domain. ``claims`` are a validated id_token's, or the
    ``extra_data`` the sign-in stored from one. An ``email`` with no canonical form proves
    nothing."""
    if is_personal_account(claims) or not email_domain_owner_verified(claims):
        return ""
    return claimed_address(claims, "email")


def work_account_for_personal(claims: dict[str, Any]) -> User | None:
    """The user who uses a work account and to whom this personal account's identity or address
    belongs (E06), or ``None``."""
    uid = f"{claims['oid']}.{claims['tid']}"
    address = sign_in_address(claims)
    candidates = User.objects.filter(
        socialaccount__provider=PROVIDER_ID, socialaccount__uid=uid
    ).union(
        User.objects.filter(emailaddress__email=address, emailaddress__verified=True)
        if address
        else User.objects.none()
    )
    for user in candidates:
        if (
            # allauth is untyped, so django-stubs knows no reverse accessor for its models.
            user.socialaccount_set.filter(provider=PROVIDER_ID)  # type: ignore[attr-defined]
            .exclude(uid__endswith=f".{settings.CONSUMER_TENANT_ID}")
            .exists()
        ):
            return user
    return None


def record_sign_in_event(
    client: Client,
    *,
    outcome: str,
    address: str = "",
    claims: dict[str, Any] | None = None,
    user: User | None = None,
    error_code: str = "",
    provider_code: str = "",
    detail: str = "",
) -> SignInEvent:
    """Write one :class:`SignInEvent` under the client's reference id. Never raises for long
    or odd input: every text is cut to its column. The IP is the client's as the rate limits see
    it (behind the proxy, the address it reports: ``vlsc_portal.client.client_of``)."""
    claims = claims or {}
    return SignInEvent.objects.create(
        reference_id=client.reference_id,
        outcome=outcome,
        address=(address or sign_in_address(claims))[:254],
        tenant_id=str(claims.get("tid", ""))[:64],
        object_id=str(claims.get("oid", ""))[:64],
        user=user,
        error_code=error_code[:8],
        provider_code=provider_code[:32],
        detail=detail[:500],
        ip_address=client.address,
        user_agent=client.user_agent[:300],
    )
