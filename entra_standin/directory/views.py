"""Browser-facing pages: home, sign-in, self-service sign-up, dev mailbox."""

import email.policy
import mailbox
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from entra_standin import demo

from . import outcomes
from . import signup as signups
from .forms import SignInForm, SignupCodeForm, SignUpForm
from .models import User
from .oidc import error_redirect, login_hint_of, remember_auth_time, validated_auth_request

SIGNUP_SESSION_KEY = "standin_signup"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def home(request):
    base = settings.STANDIN_TLS_URL
    return render(
        request,
        "standin/home.html",
        {
            "title": _("Home"),
            "accounts": demo.DEMO_ACCOUNTS,
            "password": demo.DEMO_PASSWORD,
            "discovery_url": f"{base}/common/v2.0/.well-known/openid-configuration",
            "consumer_tid": demo.CONSUMER_TID,
        },
    )


def _safe_next(request, value):
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return ""


@require_http_methods(["GET", "HEAD", "POST"])
def signin(request):
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    auth = validated_auth_request(next_url)
    context = {"title": _("Sign in"), "next": next_url, "application": auth and auth[0]}

    if request.method != "POST":
        form = SignInForm(initial={"email": login_hint_of(next_url)})
        return render(request, "standin/signin.html", {**context, "form": form})

    if request.POST.get("action") == "cancel":
        if auth:
            application, redirect_uri, state = auth
            return error_redirect(application, redirect_uri, state, outcomes.USER_DECLINED)
        return redirect("standin:home")

    form = SignInForm(request.POST)
    if form.is_valid():
        address = form.cleaned_data["email"].strip().lower()
        user = User.objects.filter(username=address, tenant__isnull=False).first()
        if user is not None:
            if user.is_active and user.check_password(form.cleaned_data["password"]):
                login(request, user, backend=BACKEND)
                remember_auth_time(request)
                return redirect(next_url or "standin:home")
            form.add_error("password", _("Your email address or password is incorrect."))
        else:
            outcome = outcomes.outcome_for_unknown_address(address)
            if outcome.kind == "no_account":
                form.add_error(
                    "email",
                    _(
                        "There is no Microsoft account with this email address. Check it, or use "
                        "another account."
                    ),
                )
            elif outcome.kind == "error":
                if auth:
                    application, redirect_uri, state = auth
                    return error_redirect(application, redirect_uri, state, outcome.code)
                form.add_error("email", outcomes.error_description(outcome.code))
            else:
                request.session[SIGNUP_SESSION_KEY] = {"email": address, "next": next_url}
                return redirect("standin:signup")
    return render(request, "standin/signin.html", {**context, "form": form})


def _leave_signup(request, next_url, auth):
    """Cancel: forget the pending sign-up; an application's request gets AADSTS65004."""
    request.session.pop(SIGNUP_SESSION_KEY, None)
    if auth:
        application, redirect_uri, state = auth
        return error_redirect(application, redirect_uri, state, outcomes.USER_DECLINED)
    return redirect("standin:home")


def _signup_outcome(request, address, next_url, auth):
    """Check again before a step of sign-up (the directory may have changed since the address
    was typed): the outcome when sign-up may go on, else the response to send instead."""
    if User.objects.filter(username=address).exists():
        del request.session[SIGNUP_SESSION_KEY]
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        return None, redirect(f"{reverse('standin:signin')}{query}")
    outcome = outcomes.outcome_for_unknown_address(address)
    if outcome.kind == "error" and auth:
        application, redirect_uri, state = auth
        return None, error_redirect(application, redirect_uri, state, outcome.code)
    if outcome.kind != "signup":
        del request.session[SIGNUP_SESSION_KEY]
        return None, redirect("standin:signin")
    return outcome, None


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    """Step 1 of self-service sign-up: name and password; then a code goes to the address."""
    pending = request.session.get(SIGNUP_SESSION_KEY)
    if not pending:
        return redirect("standin:signin")
    address, next_url = pending["email"], pending.get("next", "")
    auth = validated_auth_request(next_url)
    context = {"title": _("Create your account"), "email": address, "next": next_url}

    if request.method != "POST":
        return render(request, "standin/signup.html", {**context, "form": SignUpForm()})

    if request.POST.get("action") == "cancel":
        return _leave_signup(request, next_url, auth)

    form = SignUpForm(request.POST)
    if form.is_valid():
        _outcome, refusal = _signup_outcome(request, address, next_url, auth)
        if refusal is not None:
            return refusal
        try:
            row = signups.send_code(
                email=address,
                display_name=form.cleaned_data["name"],
                password_hash=make_password(form.cleaned_data["password"]),
            )
        except signups.TooManyCodes:
            form.add_error(None, _too_many_codes())
        else:
            request.session[SIGNUP_SESSION_KEY] = {**pending, "code": row.pk}
            return redirect("standin:signup_code")
    return render(request, "standin/signup.html", {**context, "form": form})


def _too_many_codes():
    return _(
        "We have sent this address %(count)s codes in the last hour. Wait a while, then try again."
    ) % {"count": signups.CODES_PER_HOUR}


@require_http_methods(["GET", "HEAD", "POST"])
def signup_code(request):
    """Step 2: the code emailed to the address. Only a right code creates the account."""
    pending = request.session.get(SIGNUP_SESSION_KEY)
    if not pending:
        return redirect("standin:signin")
    if not pending.get("code"):
        return redirect("standin:signup")
    address, next_url, code_id = pending["email"], pending.get("next", ""), pending["code"]
    auth = validated_auth_request(next_url)
    context = {
        "title": _("Verify your email address"),
        "email": address,
        "minutes": signups.CODE_MINUTES,
    }

    if request.method != "POST":
        return render(request, "standin/signup_code.html", {**context, "form": SignupCodeForm()})

    action = request.POST.get("action")
    if action == "cancel":
        return _leave_signup(request, next_url, auth)
    if action == "resend":
        form = SignupCodeForm()
        try:
            row = signups.resend_code(code_id=code_id, email=address)
        except signups.TooManyCodes:
            form.add_error(None, _too_many_codes())
        except signups.CodeExpired:
            del request.session[SIGNUP_SESSION_KEY]
            return redirect("standin:signin")
        else:
            request.session[SIGNUP_SESSION_KEY] = {**pending, "code": row.pk}
            messages.info(
                request,
                _("We sent a new code to %(email)s. Earlier codes no longer work.")
                % {"email": address},
            )
            return redirect("standin:signup_code")
        return render(request, "standin/signup_code.html", {**context, "form": form})

    form = SignupCodeForm(request.POST)
    if form.is_valid():
        outcome, refusal = _signup_outcome(request, address, next_url, auth)
        if refusal is not None:
            return refusal
        try:
            row = signups.verify_code(
                code_id=code_id, email=address, code=form.cleaned_data["code"]
            )
            user = signups.create_account(row, outcome)
        except signups.WrongCode as exc:
            form.add_error(
                "code",
                _("That code is not right. You can try %(left)s more time(s).")
                % {"left": exc.attempts_left},
            )
        except signups.TooManyAttempts:
            form.add_error("code", _("Too many wrong tries. Send a new code."))
        except signups.CodeExpired:
            form.add_error("code", _("This code has expired. Send a new code."))
        except signups.CodeUsed:
            form.add_error("code", _("This code was used or replaced. Send a new code."))
        except signups.AccountExists:
            del request.session[SIGNUP_SESSION_KEY]
            return redirect("standin:signin")
        else:
            del request.session[SIGNUP_SESSION_KEY]
            login(request, user, backend=BACKEND)
            remember_auth_time(request)
            return redirect(next_url or "standin:home")
    return render(request, "standin/signup_code.html", {**context, "form": form})


def signed_out(request):
    return render(request, "standin/signed_out.html", {"title": _("You are signed out")})


# --- Dev mailbox -------------------------------------------------------------------------------


def _open_mailbox():
    try:
        return mailbox.Maildir(settings.MAILBOX_DIR, create=False)
    except (mailbox.NoSuchMailboxError, FileNotFoundError):
        return None


def _when(message):
    raw = message["Date"]
    if raw:
        try:
            when = parsedate_to_datetime(raw)
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            pass
    return datetime.fromtimestamp(message.get_date(), tz=UTC)


def _parse(message):
    return email.message_from_bytes(message.as_bytes(), policy=email.policy.default)


def mailbox_index(request):
    box = _open_mailbox()
    messages = []
    if box is not None and (settings.MAILBOX_DIR / "new").is_dir():
        for key, message in box.iteritems():
            parsed = _parse(message)
            messages.append(
                {
                    "key": key,
                    "to": parsed.get("To", ""),
                    "subject": parsed.get("Subject", "") or _("(no subject)"),
                    "when": _when(message),
                }
            )
    messages.sort(key=lambda m: m["when"], reverse=True)
    return render(request, "standin/mailbox.html", {"title": _("Dev mailbox"), "mails": messages})


def mailbox_message(request, key):
    box = _open_mailbox()
    if box is None:
        raise Http404
    try:
        message = box[key]
    except KeyError as exc:
        raise Http404 from exc
    parsed = _parse(message)
    text = html = None
    for part in parsed.walk():
        if part.is_multipart() or part.is_attachment():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            text = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
    headers = [
        (name, parsed.get(name))
        for name in ("From", "To", "Cc", "Subject", "Date")
        if parsed.get(name)
    ]
    return render(
        request,
        "standin/message.html",
        {
            "title": parsed.get("Subject", "") or _("(no subject)"),
            "headers": headers,
            "text": text,
            "html": html,
            "when": _when(message),
        },
    )
