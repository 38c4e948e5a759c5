"""The portal's own tables that belong to no one app."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One fixed window of one rate of one rate-limited action for one subject (an address, a
    user, a client address or an object), counted by ``vlsc_portal.ratelimits``. ``bucket`` names
    the action, the rate and a keyed hash of the subject, so no address or IP is stored in clear.
    ``resets_at`` is in seconds since the epoch: the limiter compares it in one SQL statement,
    where an integer means the same on every database."""

    bucket = models.CharField(max_length=160, primary_key=True)
    uses = models.PositiveIntegerField()
    resets_at = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.bucket}: {self.uses}"
