"""The client address behind the production proxy: every place the portal records or limits by
IP takes it from allauth's client-IP function, which trusts ``ALLAUTH_TRUSTED_PROXY_COUNT``
entries of ``X-Forwarded-For`` (docker-compose: 1, Caddy) and otherwise the connection."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.models import SignInEvent
from accounts.services.signin import record_sign_in_event
from support.models import SupportRequest
from vlsc_portal.client import client_of

pytestmark = pytest.mark.django_db


def forwarded(path: str = "/", **extra):
    """A request as it arrives from the proxy (10.0.0.2), which reports the client."""
    return RequestFactory().post(
        path,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7",
        **extra,
    )


def test_a_sign_in_event_records_the_client_the_trusted_proxy_reports(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = forwarded()
    request.reference_id = "ABCDEFGHJKLM"
    record_sign_in_event(
        client_of(request), outcome=SignInEvent.Outcome.SIGNED_OUT, address="a@contoso.com"
    )
    assert SignInEvent.objects.get().ip_address == "203.0.113.7"


def test_a_support_request_records_the_client_the_trusted_proxy_reports(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    data = {
        "name": "Ann",
        "email": "ann@fabrikam.com",
        "topic": "other",
        "message": "Please help me.",
    }
    response = client.post(
        "/support/contact/",
        data,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7",
    )
    assert response.status_code == 302
    assert SupportRequest.objects.get().ip_address == "203.0.113.7"


def test_per_ip_limits_count_the_client_behind_the_proxy_not_the_proxy(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sign_in_start": "2/m/ip"}

    def start(client_address: str) -> int:
        return client.post(
            "/sign-in/",
            {"email": "bad"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.9, {client_address}",
        ).status_code

    assert [start("203.0.113.7") for _ in range(3)] == [400, 400, 429]
    assert start("203.0.113.8") == 400  # another client behind the same proxy
    # without a trusted proxy the header is the client's own: the connection's address counts
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert [start(f"192.0.2.{i}") for i in range(3)] == [400, 400, 429]
