"""Flow C pages: a legacy personal-account user converts to a work account. The conversion
context (which legacy user, which personal identity) is put in the session by the sign-in
callback; nobody is signed in until the work account signs in at the end."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_countries import countries

from accounts.entra.provider import PROVIDER_ID
from accounts.forms import ConversionStartForm, CountryForm, SignupCodeForm
from accounts.models import Conversion, User
from accounts.services import conversion as conversions
from accounts.services.conversion import SESSION_CONTEXT, SESSION_ID
from vlsc_portal import ratelimits

SESSION_COUNTRY = "conversion_country"  # {"conversion": id, "country": code} until confirmed
STEP_URLS: dict[str, str] = {
    Conversion.State.STARTED: "accounts:convert_code",
    Conversion.State.CODE_VERIFIED: "accounts:convert_country",
    Conversion.State.AWAITING_SIGN_IN: "accounts:convert_finish",
}


def _no_context(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/convert_problem.html", {"kind": "no_context"}, status=403)


def _closed(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_ID, None)
    return render(request, "accounts/convert_problem.html", {"kind": "closed"}, status=410)


def _current(request: HttpRequest, state: str) -> Conversion | HttpResponse:
    """The session's conversion if it is at ``state``; otherwise the page to show instead."""
    context = request.session.get(SESSION_CONTEXT)
    conversion_id = request.session.get(SESSION_ID)
    if not context or not conversion_id:
        return _no_context(request)
    conversion = Conversion.objects.filter(pk=conversion_id, user_id=context["user"]).first()
    if conversion is None or conversion.state not in STEP_URLS:
        return _closed(request)
    if conversion.state != state:
        return redirect(STEP_URLS[conversion.state])
    return conversion


@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    context = request.session.get(SESSION_CONTEXT)
    if not context:
        return _no_context(request)
    user = User.objects.filter(pk=context["user"], is_legacy_personal=True).first()
    if user is None:
        return _closed(request)
    form = ConversionStartForm(request.POST or None, initial={"name": user.get_full_name()})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                conversion = conversions.start_conversion(
                    user=user,
                    personal_uid=context["uid"],
                    personal_address=context["address"],
                    name=form.cleaned_data["name"],
                    work_email=form.cleaned_data["work_email"],
                )
            except ratelimits.RateLimited as exc:
                return ratelimits.refused(request, exc, what=ratelimits.EMAIL_BUDGET_FULL)
            except conversions.ConsumerDomain:
                form.add_error(
                    "work_email",
                    _(
                        "This is a personal email address. Enter the work address your "
                        "organisation gave you."
                    ),
                )
            except conversions.AddressOwned:
                status = 409
                form.add_error(
                    "work_email",
                    _(
                        "This address already belongs to another user of the portal. Use your own "
                        "work address, or contact support."
                    ),
                )
            except conversions.ConversionInProgress:
                status = 409
                form.add_error(
                    "work_email",
                    _(
                        "Another conversion is already using this address. Try again later, or "
                        "contact support."
                    ),
                )
            else:
                request.session[SESSION_ID] = conversion.pk
                return redirect("accounts:convert_code")
    return render(
        request,
        "accounts/convert_start.html",
        {"form": form, "personal_address": context["address"]},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def code(request: HttpRequest) -> HttpResponse:
    conversion = _current(request, Conversion.State.STARTED)
    if not isinstance(conversion, Conversion):
        return conversion
    form = SignupCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                conversions.verify_code(conversion=conversion, code=form.cleaned_data["code"])
            except ratelimits.RateLimited as exc:
                return _code_page(
                    request,
                    conversion,
                    refusal=exc,
                    what=_("You have tried too many codes today."),
                )
            except conversions.WrongCode as exc:
                form.add_error(
                    "code",
                    ngettext(
                        "That code is not right. You have %(left)d try left.",
                        "That code is not right. You have %(left)d tries left.",
                        exc.attempts_left,
                    )
                    % {"left": exc.attempts_left},
                )
            except conversions.TooManyAttempts:
                status = 429
                form.add_error("code", _("Too many wrong tries. Ask for a new code below."))
            except conversions.CodeExpired:
                status = 410
                form.add_error(
                    "code", _("This code has expired or was replaced. Ask for a new code below.")
                )
            except conversions.ConversionClosed:
                return _closed(request)
            else:
                return redirect("accounts:convert_country")
    return _code_page(request, conversion, form=form, status=status)


def _code_page(
    request: HttpRequest,
    conversion: Conversion,
    *,
    form: SignupCodeForm | None = None,
    status: int = 200,
    refusal: ratelimits.RateLimited | None = None,
    what: str = "",
) -> HttpResponse:
    """The code step; with ``refusal``, the 429 that says ``what`` and when to try again."""
    latest = conversion.codes.first()
    context = {
        "form": form or SignupCodeForm(),
        "conversion": conversion,
        "code_expires_at": latest.expires_at if latest else None,
        "resend_limit": settings.SIGNUP_CODE_RESEND_LIMIT_TEXT,
    }
    if refusal is not None:
        return ratelimits.refused(
            request, refusal, what=what, template="accounts/convert_code.html", context=context
        )
    return render(request, "accounts/convert_code.html", context, status=status)


@require_POST
def resend_code(request: HttpRequest) -> HttpResponse:
    conversion = _current(request, Conversion.State.STARTED)
    if not isinstance(conversion, Conversion):
        return conversion
    try:
        conversions.send_code(conversion, resend=True)
    except ratelimits.RateLimited as exc:
        if "signup_code_resend" in exc.actions:
            what = _("You have asked for codes too often. You can ask %(limit)s.") % {
                "limit": settings.SIGNUP_CODE_RESEND_LIMIT_TEXT
            }
        else:
            what = str(ratelimits.EMAIL_BUDGET_FULL)
        return _code_page(request, conversion, refusal=exc, what=what)
    messages.success(request, _("We sent a new signup code. Earlier codes no longer work."))
    return redirect("accounts:convert_code")


def _chosen_country(request: HttpRequest, conversion: Conversion) -> str:
    """The country chosen on the form step for this conversion, kept for its confirmation."""
    choice = request.session.get(SESSION_COUNTRY) or {}
    code = choice.get("country", "") if choice.get("conversion") == conversion.pk else ""
    return code if code in countries else ""


@require_http_methods(["GET", "POST"])
def country(request: HttpRequest) -> HttpResponse:
    """Step 3a: choose the country; nothing is preselected (not even from the browser's
    language), except the person's own earlier choice when they come back to change it."""
    conversion = _current(request, Conversion.State.CODE_VERIFIED)
    if not isinstance(conversion, Conversion):
        return conversion
    form = CountryForm(
        request.POST or None, initial={"country": _chosen_country(request, conversion)}
    )
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_COUNTRY] = {
            "conversion": conversion.pk,
            "country": form.cleaned_data["country"],
        }
        return redirect("accounts:convert_country_confirm")
    return render(
        request,
        "accounts/convert_country.html",
        {"form": form, "conversion": conversion},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def country_confirm(request: HttpRequest) -> HttpResponse:
    """Step 3b: show the chosen country and that it is permanent; POST records it. The POST must
    name the country this session chose (a stale tab, a forged or invalid value, or a POST that
    skipped the choice is a 400 and nothing is saved)."""
    conversion = _current(request, Conversion.State.CODE_VERIFIED)
    if not isinstance(conversion, Conversion):
        return conversion
    chosen = _chosen_country(request, conversion)
    if not chosen:
        if request.method == "GET":
            return redirect("accounts:convert_country")
        form = CountryForm({})
        form.is_valid()
        form.add_error(
            None, _("Choose your country or region, then confirm it. Nothing was saved.")
        )
        return render(
            request,
            "accounts/convert_country.html",
            {"form": form, "conversion": conversion},
            status=400,
        )
    context = {"conversion": conversion, "country": chosen, "country_name": countries.name(chosen)}
    if request.method == "POST":
        if request.POST.get("country") != chosen:
            context["error"] = _(
                "The country or region you confirmed is not the one you chose. Nothing was "
                "saved: check the choice below, then confirm or change it."
            )
            return render(request, "accounts/convert_country_confirm.html", context, status=400)
        try:
            conversions.confirm_country(conversion=conversion, country=chosen)
        except conversions.ConversionClosed:
            return _closed(request)
        request.session.pop(SESSION_COUNTRY, None)
        return redirect("accounts:convert_finish")
    return render(request, "accounts/convert_country_confirm.html", context)


@require_http_methods(["GET", "POST"])
def finish(request: HttpRequest) -> HttpResponse:
    """The last step: sign in with the work account; the callback completes the conversion."""
    conversion = _current(request, Conversion.State.AWAITING_SIGN_IN)
    if not isinstance(conversion, Conversion):
        return conversion
    if request.method == "POST":
        provider = get_adapter().get_provider(request, PROVIDER_ID)
        return provider.redirect(request, "login", login_hint=conversion.work_email, prompt="login")
    return render(request, "accounts/convert_finish.html", {"conversion": conversion})
