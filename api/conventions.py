"""The HTTP conventions every resource follows: ETag and If-Match, Idempotency-Key on POST,
cursor pagination, per-caller rate limits with ``RateLimit`` headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from pydantic import BaseModel

from api import problems
from api.http import remember_rate_headers
from api.models import IdempotentRequest
from vlsc_portal import ratelimits

if TYPE_CHECKING:
    from api.auth import Caller

MAX_PAGE = 100
DEFAULT_PAGE = 50
IDEMPOTENCY_KEY_MAX = 200
REPLAYED_HEADERS = ("ETag", "Location")

M = TypeVar("M", bound=Model)


# --- rate limits ----------------------------------------------------------------------------


def rate_headers(counts: list[ratelimits.Count]) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` (IETF httpapi rate limit headers): the tightest
    window's quota, remaining uses and seconds until it resets."""
    if not counts:
        return {}
    now = int(ratelimits.now())
    tightest = min(counts, key=lambda c: (c.amount - c.uses, c.resets_at))
    remaining = max(0, tightest.amount - tightest.uses)
    return {
        "RateLimit-Policy": ", ".join(f'"{c.action}";q={c.amount};w={c.duration}' for c in counts),
        "RateLimit": f'"{tightest.action}";r={remaining};t={max(0, tightest.resets_at - now)}',
    }


def count_call(request: HttpRequest, caller: Caller) -> None:
    """Count the request against the caller's ``api`` limit (``vlsc_portal.ratelimits``);
    raises a 429 problem with ``Retry-After`` past it. The middleware adds the headers."""
    try:
        remember_rate_headers(
            request, rate_headers(ratelimits.consume(ratelimits.Use("api", key=caller.key)))
        )
    except ratelimits.RateLimited as refusal:
        raise problems.Problem(
            429,
            "rate-limited",
            _("Too many requests from this caller. %(when)s")
            % {"when": ratelimits.try_again(refusal.retry_at)},
            headers={
                "Retry-After": str(refusal.retry_after()),
                "RateLimit": f'"api";r=0;t={refusal.retry_after()}',
            },
        ) from refusal


# --- ETag and If-Match ------------------------------------------------------------------------


def etag(data: BaseModel) -> str:
    """A strong validator for a resource's representation."""
    return '"' + hashlib.sha256(data.model_dump_json().encode()).hexdigest()[:32] + '"'


def require_match(request: HttpRequest, current: str) -> None:
    """With an ``If-Match`` header, the change goes ahead only if it names ``current`` (or is
    ``*``): otherwise 412, someone changed the resource since the caller read it."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" in tags or current in tags:
        return
    raise problems.Problem(
        412,
        "stale",
        _("The resource changed since you read it (If-Match). Read it again, then retry."),
        headers={"ETag": current},
    )


# --- responses ----------------------------------------------------------------------------


def json_response(
    data: BaseModel | None, *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    body = data.model_dump_json() if data is not None else ""
    response = HttpResponse(
        body, status=status, content_type="application/json" if data is not None else None
    )
    if data is not None and status < 300:
        response["ETag"] = etag(data)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- Idempotency-Key --------------------------------------------------------------------------


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.body):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        record.body, status=record.status, content_type="application/json" if record.body else None
    )
    for name, value in record.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(
    request: HttpRequest, caller: Caller, produce: Callable[[], HttpResponse]
) -> HttpResponse:
    """Run a POST once per ``Idempotency-Key`` (when sent): the key is stored with a hash of
    the request in the same transaction as the change, so a retry of the same request gets the
    first answer again and changes nothing; the same key with another request is 422; a retry
    while the first is still running waits for it (the key's row is locked), then replays. A
    request that fails stores nothing, so it can be retried with the same key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return produce()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise problems.Problem(
            400,
            "bad-idempotency-key",
            _("An Idempotency-Key is 1 to %(n)d printable characters.")
            % {"n": IDEMPOTENCY_KEY_MAX},
        )
    digest = _request_hash(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    caller=caller.key, key=key, request_hash=digest
                )
        except IntegrityError:
            record = IdempotentRequest.objects.get(caller=caller.key, key=key)
            if record.request_hash != digest:
                raise problems.Problem(
                    422,
                    "idempotency-key-reused",
                    _("This Idempotency-Key was used for another request. Use a new key."),
                ) from None
            if record.status is None:
                raise problems.Problem(
                    409,
                    "idempotency-key-in-use",
                    _("A request with this Idempotency-Key is still running. Retry shortly."),
                    headers={"Retry-After": "1"},
                ) from None
            return _replay(record)
        response = produce()
        record.status = response.status_code
        record.body = response.content.decode()
        record.headers = {n: response[n] for n in REPLAYED_HEADERS if response.has_header(n)}
        record.save(update_fields=["status", "body", "headers"])
    return response


# --- cursor pagination ----------------------------------------------------------------------


def _decode_cursor(cursor: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    after = value.get("after") if isinstance(value, dict) else None
    if not isinstance(after, int):
        raise problems.Problem(400, "bad-cursor", _("The cursor is not one this API gave out."))
    return after


def _encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": pk}).encode()).decode().rstrip("=")


def page(
    queryset: QuerySet[M], *, cursor: str | None, limit: int, newest_first: bool = False
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` in id order (keyset: constant cost however deep the page),
    and the cursor of the next page, or None. Two statements at most: the rows (one more than
    asked, to know whether another page follows)."""
    order = "-pk" if newest_first else "pk"
    rows = queryset.order_by(order)
    if cursor:
        after = _decode_cursor(cursor)
        rows = rows.filter(pk__lt=after) if newest_first else rows.filter(pk__gt=after)
    items = list(rows[: limit + 1])
    if len(items) > limit:
        return items[:limit], _encode_cursor(items[limit - 1].pk)
    return items, None
