"""Waiting for something another process does (a worker sending, beat expiring) without a fixed
sleep: poll for the condition until a generous deadline, so a loaded two-core machine that is
slow still passes and a real failure still fails (with the last state in the message)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Long enough for a worker on a busy two-core machine; a test that passes waits only as long as
# the work takes.
DEADLINE_SECONDS = 90.0
# Celery results (``AsyncResult.get(timeout=...)``) get the same deadline.
RESULT_TIMEOUT = DEADLINE_SECONDS


def wait_until(
    condition: Callable[[], T],
    *,
    what: str,
    timeout: float = DEADLINE_SECONDS,
    interval: float = 0.2,
) -> T:
    """Call ``condition`` until it returns something truthy and return that; fail the test with
    ``what`` once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}; last value: {value!r}")
        time.sleep(interval)


def reload_until(page, condition: Callable[[], bool], *, what: str) -> None:
    """Reload a Playwright page until ``condition()`` holds (a status the server fills in)."""

    def reloaded() -> bool:
        if condition():
            return True
        page.reload()
        return condition()

    wait_until(reloaded, what=what, interval=0.3)
