"""What a support lookup raises."""

from __future__ import annotations

from accounts.models import User


class BadQuery(ValueError):
    """The lookup or the page cursor cannot be understood; the message is for support staff."""


class AmbiguousAddress(Exception):
    def __init__(self, users: list[User]) -> None:
        super().__init__("several users have this address")
        self.users = users
