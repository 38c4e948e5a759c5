"""Where a person was going: the ``next`` page carried through sign-in and registration.

Only a path on this portal is kept: ``url_has_allowed_host_and_scheme`` refuses other hosts,
scheme-relative ``//host`` and backslash tricks, and anything longer than :data:`MAX_LENGTH` is
dropped rather than carried (a page of the portal is never that long). Registration spans
several requests (the form, the status page, the emailed link), so its ``next`` is kept in the
session until the address is verified.

Without a ``next``, a signed-in person starts at their home page (:func:`home_page`): support
staff at the support console, everyone else at the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from accounts.models import User

MAX_LENGTH = 1024
AFTER_REGISTRATION = "accounts.after_registration"


def safe_next(request: HttpRequest, value: str | None) -> str:
    """``value`` if it is a page of this portal, else ``""``."""
    if not value or len(value) > MAX_LENGTH:
        return ""
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if allowed else ""


def remember_after_registration(request: HttpRequest, value: str | None) -> None:
    """Keep a safe ``next`` for when the registration completes (nothing for an unsafe one)."""
    if url := safe_next(request, value):
        request.session[AFTER_REGISTRATION] = url


def after_registration(request: HttpRequest, default: str) -> str:
    """The kept ``next``, checked again and forgotten; ``default`` if there is none."""
    return safe_next(request, request.session.pop(AFTER_REGISTRATION, None)) or default


def home_page(user: User) -> str:
    """Where ``user`` starts when nothing says where they were going: the page of the first
    permission of ``settings.HOME_PAGES`` they hold (support staff: the support console), else
    ``settings.LOGIN_REDIRECT_URL`` (the dashboard)."""
    for permission, url_name in settings.HOME_PAGES:
        if user.has_perm(permission):
            return reverse(url_name)
    return resolve_url(settings.LOGIN_REDIRECT_URL)
