"""Who made a request, in the terms services record: no service takes the request itself."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from vlsc_portal import ratelimits
from vlsc_portal.middleware import reference_id_of


@dataclass(frozen=True)
class Client:
    """The request's reference id (the one support is told), the client's address as the rate
    limits see it (behind the proxy, the address it reports), and its user agent."""

    reference_id: str
    address: str | None
    user_agent: str


def client_of(request: HttpRequest) -> Client:
    """The :class:`Client` behind ``request``; views call this and pass the result on."""
    return Client(
        reference_id=reference_id_of(request),
        address=ratelimits.client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
