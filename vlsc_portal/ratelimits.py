"""One rate limiter for the portal: per client address, per user, per target address, per object.

Every limited action is a key of ``ACCOUNT_RATE_LIMITS`` written in allauth's rate syntax
(``"5/h/key,10/d/key"``: amount, window, and what it is counted per: ``ip``, ``user`` or
``key``), parsed by allauth's own parser; client addresses come from allauth's adapter
(``get_client_ip``: ``ALLAUTH_TRUSTED_PROXY_COUNT`` or ``ALLAUTH_TRUSTED_CLIENT_IP_HEADER``
behind the proxy, the connection's address otherwise) and IPv6 ones are truncated to their
network as allauth does. What is ours is where the counts live.

Why not allauth's store: it keeps a list of timestamps in the cache, read and written back under
a lock taken with ``cache.add``. On Redis that add is atomic (``SET NX``); on the file cache
``add`` is ``has_key`` then ``set``, so two processes both take the "lock", and Django's
``FileBasedCache.incr`` is a ``get`` then a ``set`` too: 12 parallel access requests were all
accepted under a limit of 5. The file cache also culls entries past ``MAX_ENTRIES`` (300), which
silently resets counters. A lock file (``fcntl.flock``) beside the cache would fix the file
cache only, and Redis would need a second implementation (``INCR`` windows).

So the counts live in a store of the portal's own (``vlsc_portal.ratecounters``), one contract
with two implementations: Redis, counted by one Lua script, when the cache is Redis (no database
write on a limited page: the sign-in start commits nothing), and rows of
:class:`~vlsc_portal.models.RateCounter` counted by ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` otherwise (atomic on SQLite and PostgreSQL alike, where the file cache is not). On
both, each window is fixed and starts at its first use (a refusal can say exactly when it ends);
a use past the limit is refused and not counted; :func:`consume` counts several uses all or
nothing; and a store that cannot count raises, so nothing is let through unlimited (it fails
closed). Ended windows expire in Redis and are deleted from the database by beat
(:func:`purge_expired`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import get_adapter
from allauth.core.internal.ratelimit import Rate, parse_rates, truncate_ip
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from vlsc_portal import ratecounters

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django_stubs_ext import StrPromise

# Every email the portal sends at a person's request counts against both: the address it goes to
# (whoever asked, in whichever flow) and the user on whose behalf it is sent (whatever address).
EMAIL_TO_ADDRESS = "email_to_address"
EMAIL_BY_USER = "email_by_user"
EMAIL_BUDGET_FULL = gettext_lazy(
    "We have already sent several emails to this address, or for your account, in a short time."
)


def now() -> float:
    """The limiter's clock, in seconds since the epoch (tests move it)."""
    return time.time()


@dataclass(frozen=True)
class Use:
    """One use of ``action`` (a key of ``ACCOUNT_RATE_LIMITS``) by the subjects its rates are
    counted per: ``ip`` (a client address, as :func:`client_ip` gives it), ``user`` (a user's
    primary key) or ``key`` (any string naming an address or an object). A rate whose subject is
    missing refuses: PermissionDenied without a client address, ImproperlyConfigured otherwise."""

    action: str
    key: str | None = None
    user: int | None = None
    ip: str | None = None

    def subject(self, rate: Rate) -> str:
        if rate.per == "ip" and not self.ip:  # as allauth's adapter: no address, no request
            raise PermissionDenied("Unable to determine client IP address")
        ip = truncate_ip(self.ip) if self.ip else None
        subject = {"ip": ip, "user": self.user, "key": self.key}.get(rate.per)
        if subject is None or subject == "":
            raise ImproperlyConfigured(
                f"rate limit {self.action!r} is counted per {rate.per}, which was not given"
            )
        return f"{rate.per}:{subject}"


class RateLimited(Exception):
    """A use was refused: at least one of its windows is full until ``retry_at`` (aware, UTC)."""

    def __init__(self, *, retry_at: datetime, actions: tuple[str, ...]) -> None:
        super().__init__(f"rate limited ({', '.join(actions)}) until {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.actions = actions

    def retry_after(self) -> int:
        """Whole seconds from now until the window ends (at least 1): ``Retry-After``."""
        return max(1, math.ceil(self.retry_at.timestamp() - now()))


def rates(action: str) -> list[Rate]:
    """The rates configured for ``action``. An action missing from ``ACCOUNT_RATE_LIMITS`` is a
    mistake in the code and raises rather than going unlimited; an empty string means no limit."""
    try:
        spec = settings.ACCOUNT_RATE_LIMITS[action]
    except KeyError as exc:
        raise ImproperlyConfigured(f"no rate limit {action!r} in ACCOUNT_RATE_LIMITS") from exc
    return list(_parsed(spec))


@lru_cache(maxsize=64)
def _parsed(spec: str) -> tuple[Rate, ...]:
    """allauth's parse of one rate specification, once per process (keyed by the text itself,
    so changed settings are parsed afresh)."""
    return tuple(dict.fromkeys(parse_rates(spec)))


def bucket(use: Use, rate: Rate, *, secret: str | None = None) -> str:
    """The counter's name: the action, the rate and a keyed hash (``SECRET_KEY``, or ``secret``)
    of the subject, so the table holds no address or IP in clear."""
    digest = salted_hmac(
        "vlsc_portal.ratelimits", use.subject(rate), secret=secret, algorithm="sha256"
    )
    return f"{use.action}:{rate.amount}/{int(rate.duration)}:{digest.hexdigest()}"


@dataclass(frozen=True)
class Count:
    """One window after a counted use: ``uses`` of ``amount`` in ``duration`` seconds, ending at
    ``resets_at`` (seconds since the epoch); what the API's ``RateLimit`` headers say."""

    action: str
    amount: int
    duration: int
    uses: int
    resets_at: int


def consume(*uses: Use) -> list[Count]:
    """Count one use of each of ``uses`` against every rate of its action, all or nothing, in
    the counting store (``vlsc_portal.ratecounters``: Redis when the cache is Redis, the
    database otherwise), and return the windows counted in.

    Raises :class:`RateLimited` (nothing counted) when any window is full, with the latest end of
    the full ones; ``ImproperlyConfigured`` for an unknown action or a missing subject; the
    store's error if it cannot count (fail closed). Safe under concurrency on every store:
    exactly ``amount`` uses per window get through, however many arrive at once."""
    counters = {bucket(use, rate): (rate, use.action) for use in uses for rate in rates(use.action)}
    if not counters:
        return []
    windows = [
        (name, rate.amount, math.ceil(rate.duration)) for name, (rate, _) in counters.items()
    ]
    tallies = ratecounters.store().count(windows, at=int(now()))
    full = sorted(
        (name, resets_at)
        for (name, amount, _), (uses, resets_at) in zip(windows, tallies, strict=True)
        if uses > amount
    )
    if full:
        raise RateLimited(
            retry_at=datetime.fromtimestamp(max(end for _, end in full), tz=UTC),
            actions=tuple(dict.fromkeys(counters[name][1] for name, _ in full)),
        )
    return [
        Count(counters[name][1], amount, duration, uses, resets_at)
        for (name, amount, duration), (uses, resets_at) in zip(windows, tallies, strict=True)
    ]


def email_budget(*, to: str, user: AbstractBaseUser | AnonymousUser | None) -> list[Use]:
    """The budgets an email to ``to`` (canonical) sent at a person's request counts against: the
    address, and ``user`` (the person it is sent for; None when nobody is signed in)."""
    uses = [Use(EMAIL_TO_ADDRESS, key=to)]
    if user is not None and user.pk is not None:
        uses.append(Use(EMAIL_BY_USER, user=user.pk))
    return uses


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as allauth sees it (behind the production proxy: the address the
    trusted proxy reports), for limiting and for recording; None if there is none."""
    try:
        address: str | None = get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # allauth's adapter: no address at all
        return None
    return address


def try_again(retry_at: datetime) -> str:
    """The sentence "Try again after 14:05 UTC (in about 12 minutes).", in the active time zone
    (UTC here), with the date too when not today. The time is rounded up to the minute: trying
    at the minute shown is never early."""
    seconds = max(1, math.ceil(retry_at.timestamp() - now()))
    at = localtime(datetime.fromtimestamp(math.ceil(retry_at.timestamp() / 60) * 60, tz=UTC))
    today = localtime(datetime.fromtimestamp(now(), tz=UTC)).date()
    # The person's time zone (accounts.middleware), named after the time: "14:05 CET".
    when = date_format(at, "H:i T" if at.date() == today else "Y-m-d H:i T")
    if seconds <= 90 * 60:
        minutes = math.ceil(seconds / 60)
        wait = ngettext("in about %(n)d minute", "in about %(n)d minutes", minutes) % {"n": minutes}
    else:
        hours = round(seconds / 3600)
        wait = ngettext("in about %(n)d hour", "in about %(n)d hours", hours) % {"n": hours}
    return _("Try again after %(when)s (%(wait)s).") % {"when": when, "wait": wait}


def refused(
    request: HttpRequest,
    refusal: RateLimited,
    *,
    what: str | StrPromise,
    template: str = "429.html",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The 429 answer to a refused use: ``what`` was limited, when to try again, and a
    ``Retry-After`` header. On the portal's 429 page by default; another ``template`` (the page
    the person was on) shows both sentences as an error message instead."""
    sentence = try_again(refusal.retry_at)
    context = dict(context or {})
    if template == "429.html":
        context.update(what=what, try_again=sentence)
    else:
        messages.error(request, f"{what} {sentence}")
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(refusal.retry_after())
    return response


def purge_expired() -> int:
    """Delete windows that have ended (a later use starts a new one either way): one bulk
    statement in the database (Redis lets them expire by themselves); safe to run twice or on
    two machines at once."""
    return ratecounters.store().purge_expired(at=int(now()))
