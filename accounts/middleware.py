"""The signed-in person's language and time zone, per request (README "Languages and time
zones").

Language: ``LocaleMiddleware`` (before authentication) has already chosen one from the
switcher's cookie, else Accept-Language, else English; a signed-in person's stored choice
(``User.language``) wins over both, and their browser gets the cookie too, so the portal stays in
their language after they sign out.

A person who never chose one gets the language of their first sign-in stored
(:func:`remember_language_at_sign_in`), so that emails reach them in it.

Time zone: the person's stored ``User.time_zone``, else the zone the browser reported in the
``tz`` cookie (static/js/portal.js), else UTC. The cookie is only a hint: a value that is not an
IANA name this machine knows is ignored. A signed-in person with no stored zone gets the
browser's stored once, so that emails and other devices use it too; they change it on the
preferences page.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import preferences
from vlsc_portal import timezones

TIME_ZONE_COOKIE = "tz"


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
    )


@receiver(user_logged_in, dispatch_uid="accounts.remember_language_at_sign_in")
def remember_language_at_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """A person who has never chosen a language gets the one the portal chose for them at their
    first sign-in (the switcher's cookie, else Accept-Language), so that emails other people
    cause (an administrator's decision, support's answer) reach them in it. They change it with
    the switcher or on the preferences page."""
    if request is None or user.language:
        return
    language = translation.get_language()
    if preferences.is_language(language):
        User.objects.filter(pk=user.pk, language="").update(language=language)
        user.language = language


def browser_time_zone(request: HttpRequest) -> str:
    """The ``tz`` cookie's zone when it names one, else ""."""
    name = request.COOKIES.get(TIME_ZONE_COOKIE, "")
    return name if timezones.is_valid(name) else ""


class PersonalPreferencesMiddleware:
    """Activates the person's language and time zone. Needs the authentication middleware
    before it; for an anonymous visitor it reads only a cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = signed_in_user(request)
        zone = ""
        if user is not None:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            # Stored through the form's validator, but a value written around it (an update, a
            # zone a tzdata upgrade dropped) must not break every page the person opens.
            zone = user.time_zone if timezones.is_valid(user.time_zone) else ""
        if not zone:
            zone = browser_time_zone(request)
            if zone and user is not None:
                User.objects.filter(pk=user.pk, time_zone="").update(time_zone=zone)
                user.time_zone = zone
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        # After the view: someone who has just signed in gets their stored language at once.
        user = signed_in_user(request)
        language = user.language if user is not None else ""
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)
        return response


def signed_in_user(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None
