"""Reads about people: which addresses a user has proved."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from accounts.models import User


def verified_emails(*, user: User) -> list[str]:
    """The user's verified addresses, lower case: what access is matched on."""
    if not user.is_authenticated:
        return []
    return [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    ]
