"""An absolute limit on a signed-in session.

The session cookie is a browser-session cookie (``SESSION_EXPIRE_AT_BROWSER_CLOSE``): it carries
no Max-Age, so it ends with the browser. A browser left open would otherwise keep a session as
long as it is used, so the sign-in time is kept in the session and a session older than
``SESSION_COOKIE_AGE`` seconds (8 hours) from sign-in is ended, however active it has been, and
the person is sent to sign in again. Django's own expiry (``set_expiry``) either gives the cookie
a Max-Age again or slides with each save, so neither serves here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import ngettext

SIGNED_IN_AT = "accounts.signed_in_at"


@receiver(user_logged_in, dispatch_uid="accounts.remember_sign_in_time")
def remember_sign_in_time(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


def session_is_too_old(session) -> bool:
    """A signed-in session without a sign-in time (made before this limit existed) counts as
    too old."""
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        return True
    return time.time() - signed_in_at >= settings.SESSION_COOKIE_AGE


class SessionAgeLimitMiddleware:
    """Ends a signed-in session older than the limit and sends the person to sign in, coming
    back to the page they asked for (a GET) afterwards. Needs the session and authentication
    middleware before it; it reads only the session, so anonymous requests cost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session and session_is_too_old(request.session):
            logout(request)
            hours = settings.SESSION_COOKIE_AGE // 3600
            messages.info(
                request,
                ngettext(
                    "You were signed out: a session lasts at most %(hours)d hour. Sign in again.",
                    "You were signed out: a session lasts at most %(hours)d hours. Sign in again.",
                    hours,
                )
                % {"hours": hours},
            )
            if request.method in ("GET", "HEAD"):
                return redirect_to_login(request.get_full_path())
            return redirect(settings.LOGIN_URL)  # a form's target is no page to come back to
        return self.get_response(request)
