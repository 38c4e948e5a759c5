"""Tests do not share rate-limit state: the counters are database rows, which each test's
transaction rolls back (``vlsc_portal.ratelimits``).

Every test client and browser comes from 127.0.0.1, so a limit used up by one test would refuse
the next test's first attempt if counters outlived a test. The pair below runs in this order (the
second after the first in one file); each also passes alone."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_one_test_uses_up_the_sign_in_limit_of_its_address(client, settings):
    limit = 3
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "sign_in_start": f"{limit}/m/ip",
    }
    statuses = [client.post("/sign-in/", {"email": "bad"}).status_code for _ in range(limit + 1)]
    assert statuses[-1] == 429


@pytest.mark.django_db
def test_the_next_test_starts_with_the_whole_limit(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "sign_in_start": "3/m/ip"}
    statuses = [client.post("/sign-in/", {"email": "bad"}).status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
