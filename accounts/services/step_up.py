"""Step-up: some changes need a recent sign-in at the identity provider, not merely a session.

The sign-in time is the validated id_token's ``auth_time`` (when the person last entered their
credentials at the identity provider; with single sign-on that can be long before the portal's
own sign-in), kept in the session at sign-in and renewed by a step-up. A change that needs a
recent sign-in (``agreements.services``: anything that makes someone an Administrator or takes
it away) raises :class:`StepUpRequired` when it is older than :data:`RECENT_SIGN_IN`. The view
keeps what the person submitted (:func:`stash_pending_post`), sends them to sign in again
(``prompt=login`` and ``max_age``), and shows the form again filled in (:func:`take_pending_post`)
for them to submit once more: a POST is never replayed by itself across the round trip.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import QueryDict

RECENT_SIGN_IN = timedelta(minutes=10)
MAX_AGE_SECONDS = int(RECENT_SIGN_IN.total_seconds())  # sent as max_age
CLOCK_LEEWAY_SECONDS = 60  # an identity provider's clock a little ahead of ours
AUTH_TIME = "accounts.auth_time"
SIGNED_IN_IDENTITY = "accounts.signed_in_identity"
PENDING = "accounts.step_up_pending"
PENDING_LIFETIME_SECONDS = 30 * 60  # long enough to sign in again, short enough to be stale
PENDING_KEPT = 5  # per session; the oldest is dropped first
NOT_KEPT = ("csrfmiddlewaretoken",)


class StepUpRequired(Exception):
    """The change needs a sign-in within :data:`RECENT_SIGN_IN`; the session's is older or
    unknown."""


def auth_time_from(claims: dict[str, Any], *, now: float | None = None) -> int | None:
    """The id_token's ``auth_time`` as seconds since the epoch, or None when it is missing, not
    an integer (JSON ``true`` is not one) or in the future beyond :data:`CLOCK_LEEWAY_SECONDS`.
    ``claims`` must be a validated id_token's."""
    value = claims.get("auth_time")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    now = time.time() if now is None else now
    if value > now + CLOCK_LEEWAY_SECONDS or value <= 0:
        return None
    return value


def is_recent(auth_time: int, *, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return now - auth_time <= MAX_AGE_SECONDS


def remember_sign_in(session: SessionBase, claims: dict[str, Any]) -> None:
    """At sign-in and at a step-up: keep the token's ``auth_time`` (or forget an earlier one
    when the token has none usable, so an old time is never kept) and the identity signed in
    with (``oid.tid``)."""
    auth_time = auth_time_from(claims)
    if auth_time is None:
        session.pop(AUTH_TIME, None)
    else:
        session[AUTH_TIME] = auth_time
    session[SIGNED_IN_IDENTITY] = f"{claims['oid']}.{claims['tid']}"


def signed_in_at(session: SessionBase) -> datetime | None:
    """When the session's person last signed in at the identity provider, or None (unknown)."""
    value = session.get(AUTH_TIME)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def require_recent_sign_in(*, step_up_at: datetime | None, now: datetime | None = None) -> datetime:
    """Return ``step_up_at`` when it lies within :data:`RECENT_SIGN_IN` before ``now`` (and not
    in the future beyond the leeway); raise :class:`StepUpRequired` otherwise, also for None."""
    now = now or datetime.now(tz=UTC)
    if step_up_at is None:
        raise StepUpRequired
    if not (now - RECENT_SIGN_IN <= step_up_at <= now + timedelta(seconds=CLOCK_LEEWAY_SECONDS)):
        raise StepUpRequired
    return step_up_at


# --- the submitted form, kept across the sign-in --------------------------------------------


def _live_pending(session: SessionBase, now: float) -> dict[str, dict[str, Any]]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return {}
    return {
        token: record
        for token, record in pending.items()
        if isinstance(record, dict) and now - record.get("at", 0) < PENDING_LIFETIME_SECONDS
    }


def stash_pending_post(session: SessionBase, *, user_id: int, path: str, data: QueryDict) -> str:
    """Keep a submitted form (without its CSRF token) for ``user_id`` and the form's ``path``;
    return the one-time key that brings it back. At most :data:`PENDING_KEPT` are kept, each
    for :data:`PENDING_LIFETIME_SECONDS`."""
    now = time.time()
    pending = _live_pending(session, now)
    token = secrets.token_urlsafe(16)
    pending[token] = {
        "user": user_id,
        "path": path,
        "at": now,
        "data": [[key, value] for key, value in data.lists() if key not in NOT_KEPT],
    }
    newest = sorted(pending.items(), key=lambda item: item[1]["at"])[-PENDING_KEPT:]
    session[PENDING] = dict(newest)
    return token


def pending_path(session: SessionBase, *, user_id: int, token: str) -> str | None:
    """The path of the form kept under ``token`` for ``user_id`` (it stays kept), or None."""
    record = _live_pending(session, time.time()).get(token)
    if record is None or record.get("user") != user_id:
        return None
    path: str = record["path"]
    return path


def take_pending_post(
    session: SessionBase, *, user_id: int, path: str, token: str
) -> QueryDict | None:
    """The form kept under ``token``, once: only for the same user and the same form path;
    None otherwise (unknown, used, expired, someone else's, another form's)."""
    now = time.time()
    pending = _live_pending(session, now)
    record = pending.get(token)
    if record is None or record.get("user") != user_id or record.get("path") != path:
        return None
    del pending[token]
    session[PENDING] = pending
    data = QueryDict(mutable=True)
    for key, values in record["data"]:
        data.setlist(key, values)
    data._mutable = False
    return data
