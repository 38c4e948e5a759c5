"""The step-up rule: giving or taking Administrator needs a recent sign-in."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from accounts.services import step_up

StepUpRequired = step_up.StepUpRequired


def require_recent_sign_in(*, actor: User | None, step_up_at: datetime | None) -> datetime | None:
    """The rule for making someone an Administrator or taking it away, wherever it is done
    (admin, API, any later path): the person doing it signed in within the last 10 minutes
    (``step_up_at``, the ``auth_time`` of their sign-in). Returns the time to record in the audit
    event; raises StepUpRequired otherwise. ``actor`` None is the system itself (demo seed,
    commands), which has no sign-in: nothing to check, nothing to record."""
    if actor is None:
        return None
    return step_up.require_recent_sign_in(step_up_at=step_up_at)
