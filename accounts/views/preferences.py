"""The language switcher and the preferences page (README "Languages and time zones")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts.forms import PreferencesForm
from accounts.http import AuthenticatedHttpRequest
from accounts.services import preferences


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The footer's switcher: Django's ``set_language`` (the cookie, and back to ``next`` when it
    is a page of this site, else to the referring page of this site, else to the start page),
    refusing a code that is not one of the four languages with a 400 instead of ignoring it,
    and remembering the choice for a signed-in person."""
    language = request.POST.get("language", "")
    if not preferences.is_language(language):
        return render(
            request,
            "accounts/language_refused.html",
            {"languages": settings.LANGUAGES, "switcher_next": "/"},
            status=400,
        )
    response = django_set_language(request)
    if request.user.is_authenticated:
        preferences.remember_language(user=request.user, language=language)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def preferences_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Language and time zone, starting from what the portal uses for the person now (their
    stored choices, else this request's language and time zone)."""
    user = request.user
    initial = {
        "language": user.language or translation.get_language(),
        "time_zone": user.time_zone or timezone.get_current_timezone_name(),
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not form.is_valid():
            return render(
                request,
                "accounts/preferences.html",
                {"form": form, "now": timezone.now()},
                status=400,
            )
        preferences.save_preferences(
            user=user,
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
        )
        translation.activate(user.language)  # the message below is in the new language
        messages.success(request, _("Your preferences are saved."))
        # The language cookie follows the stored choice in PersonalPreferencesMiddleware.
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form, "now": timezone.now()})
