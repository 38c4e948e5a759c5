"""Registration, ownership verification and the dashboard (PRODUCT.md Flow B)."""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors
from accounts.forms import InvitationAddressForm
from accounts.services import registration as registrations
from accounts.services.signin import mask_email
from agreements import access_version
from agreements import selectors as agreement_selectors


def _confirm_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:confirm_prefix"))


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard; a user who has not registered an invitation address is sent to do so."""
    user = request.user
    verified_emails = selectors.verified_emails(user=user)
    pending = registrations.pending_registration(user=user)
    if registrations.needs_registration(verified_emails=verified_emails, pending=pending):
        return redirect("accounts:register")
    return render(
        request,
        "accounts/home.html",
        {
            "verified_emails": verified_emails,
            "pending": pending,
            # Read only when the cached table is missing or stale (see agreements.access_version).
            "agreement_rows": SimpleLazyObject(
                lambda: agreement_selectors.dashboard_rows(user=user)
            ),
            "dashboard_cache_key": access_version.dashboard_cache_key(user=user, pending=pending),
            "dashboard_ttl": access_version.DASHBOARD_TTL,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    user = request.user
    pending = registrations.pending_registration(user=user)
    if request.method == "GET" and pending is not None:
        return redirect("accounts:registration_status")
    form = InvitationAddressForm(request.POST or None, initial={"email": user.email})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                registration = registrations.start_registration(
                    user=user,
                    invitation_address=form.cleaned_data["email"],
                    confirm_url=_confirm_url(request),
                )
            except registrations.RegistrationPending as exc:
                return render(
                    request,
                    "accounts/registration_pending.html",
                    {"registration": exc.registration},
                    status=409,
                )
            except registrations.AddressTaken:
                form.add_error(
                    "email",
                    _(
                        "This address is already registered to another account. If it is yours, "
                        "contact support."
                    ),
                )
                form._describe_fields()
                status = 409
            else:
                if registration.state == registration.State.COMPLETED:
                    messages.success(request, _("You are registered. Your address is verified."))
                    return redirect("accounts:home")
                return redirect("accounts:registration_status")
    return render(request, "accounts/register.html", {"form": form}, status=status)


def _status_page(request: HttpRequest, status: int = 200) -> HttpResponse:
    registration = registrations.latest_registration(user=request.user)
    if registration is None:
        return redirect("accounts:register")
    return render(
        request,
        "accounts/registration_status.html",
        {
            "registration": registration,
            "masked_destination": mask_email(registration.invitation_address),
            "email": registration.verification_email,
            "resend_limit": settings.REGISTRATION_RESEND_LIMIT_TEXT,
        },
        status=status,
    )


@login_required
@require_GET
def registration_status(request: HttpRequest) -> HttpResponse:
    """Each step with its time, where the email went (masked), its delivery, the deadline."""
    return _status_page(request)


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    pending = registrations.pending_registration(user=request.user)
    if pending is None:
        messages.error(request, _("There is no pending registration to resend."))
        return redirect("accounts:registration_status")
    if not ratelimit.consume(
        request, action="registration_resend", key=f"registration:{pending.pk}:{pending.nonce}"
    ):
        messages.error(
            request,
            _("You have asked for the email too often. You can ask %(limit)s.")
            % {"limit": settings.REGISTRATION_RESEND_LIMIT_TEXT},
        )
        return _status_page(request, status=429)
    try:
        registrations.resend_verification(registration=pending, confirm_url=_confirm_url(request))
    except registrations.RegistrationClosed:
        messages.error(request, _("This registration is no longer pending."))
    else:
        messages.success(
            request,
            _("We sent the verification email again to %(address)s.")
            % {"address": mask_email(pending.invitation_address)},
        )
    return redirect("accounts:registration_status")


@login_required
@require_POST
def cancel_registration(request: HttpRequest) -> HttpResponse:
    pending = registrations.pending_registration(user=request.user)
    if pending is None:
        messages.error(request, _("There is no pending registration to cancel."))
        return redirect("accounts:registration_status")
    try:
        registrations.cancel_registration(registration=pending, reason="cancelled by the user")
    except registrations.RegistrationClosed:
        messages.error(request, _("This registration is no longer pending."))
        return redirect("accounts:registration_status")
    messages.success(request, _("Your registration was cancelled. You can register again now."))
    return redirect("accounts:register")


def _link_problem(request: HttpRequest, exc: registrations.RegistrationError) -> HttpResponse:
    kinds = {
        registrations.InvalidLink: ("invalid", 400),
        registrations.LinkExpired: ("expired", 410),
        registrations.LinkUsed: ("used", 409),
        registrations.RegistrationClosed: ("closed", 410),
        registrations.AddressTaken: ("taken", 409),
    }
    kind, status = kinds[type(exc)]
    return render(request, "accounts/confirm_problem.html", {"kind": kind}, status=status)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what would be confirmed and changes nothing (mail scanners fetch links);
    POST confirms. No sign-in needed: holding the emailed link proves the address."""
    try:
        if request.method == "POST":
            registration = registrations.confirm_ownership(token=token)
            return render(request, "accounts/confirmed.html", {"registration": registration})
        registration = registrations.registration_for_token(token)
        registrations.check_confirmable(registration)
    except registrations.RegistrationError as exc:
        return _link_problem(request, exc)
    return render(
        request,
        "accounts/confirm.html",
        {"registration": registration, "masked_sign_in": mask_email(registration.sign_in_address)},
    )


@require_GET
def confirm_prefix(request: HttpRequest) -> HttpResponse:
    """The link without its token (cut off by a mail client): say so rather than 404."""
    return _link_problem(request, registrations.InvalidLink())
