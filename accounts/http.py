"""The request type of views that only a signed-in person reaches (behind ``login_required`` or a
check built on it): ``request.user`` is a :class:`~accounts.models.User` there, never anonymous.
Only for annotations; Django passes its own request object."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
