"""A cache backend standing for a Redis that cannot be reached: every operation raises the error
redis-py raises for a refused connection, as the portal's Redis cache would."""

from __future__ import annotations

import redis.exceptions
from django.core.cache.backends.base import BaseCache

REFUSED = "Error 111 connecting to 127.0.0.1:6379. Connection refused."


class UnreachableCache(BaseCache):
    def __init__(self, location, params) -> None:
        super().__init__(params)

    def _refuse(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError(REFUSED)

    add = get = set = touch = delete = has_key = incr = clear = _refuse
    get_many = set_many = delete_many = _refuse
