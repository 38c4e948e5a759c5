"""Fixtures of the fault and scale-out tests: the portal's environment for its processes, and a
Redis of their own (the processes under test share nothing with the suite's broker, whose
in-process worker would otherwise take their tasks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from tests.processes import PortalConfig
from tests.reliability.harness import private_redis


@pytest.fixture
def redis_server():
    with private_redis() as server:
        yield server


@pytest.fixture
def portal_env(tmp_path) -> Callable[..., dict[str, str]]:
    """``portal_env(redis_url, standin=None, **extra)``: the environment of a web process,
    worker or beat on the test database (unless ``DATABASE_URL`` is given), signing in at the
    stand-in when one is given, with a var folder and a dev mailbox of this test's own."""
    var = tmp_path / "var"
    var.mkdir()

    def make(redis_url: str, standin=None, **extra: str) -> dict[str, str]:
        config = PortalConfig(
            client_id=TEST_CLIENT_ID if standin else "",
            client_secret=TEST_CLIENT_SECRET if standin else "",
            standin_tls_url=standin.tls_url if standin else "",
            standin_ca=str(standin.ca_path) if standin else "",
        )
        return config.env(
            REDIS_URL=redis_url,
            VLSC_VAR_DIR=str(var),
            MAILBOX_DIR=str(tmp_path / "mailbox"),
            **extra,
        )

    return make
