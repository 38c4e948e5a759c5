"""Registration and ownership verification (README "Registration (Flow B)")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.forms import InvitationAddressForm
from accounts.http import AuthenticatedHttpRequest
from accounts.next_page import after_registration, remember_after_registration
from accounts.selectors import own_registration, verified_emails
from accounts.services import registration as registrations
from accounts.services.signin import mask_email
from vlsc_portal import ratelimits
from vlsc_portal.timezones import local_text


@login_required
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    remember_after_registration(request, request.GET.get("next"))  # e.g. /admin/
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
                    confirm_url=registrations.verification_link_base(),
                )
            except ratelimits.RateLimited as exc:
                return ratelimits.refused(request, exc, what=ratelimits.EMAIL_BUDGET_FULL)
            except registrations.RegistrationPending as exc:
                return render(
                    request,
                    "accounts/registration_pending.html",
                    {"registration": exc.registration},
                    status=409,
                )
            except (
                registrations.AddressTaken,
                registrations.AddressAlreadyYours,
                registrations.AddressPendingElsewhere,
            ) as exc:
                form.add_error("email", address_refused_text(exc))
                status = 409
            else:
                if registration.state == registration.State.COMPLETED:
                    messages.success(request, _("You are registered. Your address is verified."))
                    return redirect(
                        after_registration(request, reverse(settings.LOGIN_REDIRECT_URL))
                    )
                return redirect("accounts:registration_status")
    return render(request, "accounts/register.html", {"form": form}, status=status)


def address_refused_text(refusal: registrations.RegistrationError) -> str:
    """Why the address cannot be registered now: another account's, already this person's, or
    waiting for someone else's confirmation (until when)."""
    if isinstance(refusal, registrations.AddressPendingElsewhere):
        return _(
            "Someone else has asked to register this address and is waiting for it "
            "to be confirmed. Their request ends on %(when)s; if it is not "
            "confirmed by then, you can register this address."
        ) % {"when": local_text(refusal.registration.expires_at)}
    if isinstance(refusal, registrations.AddressAlreadyYours):
        return _(
            "This address is already verified on your account: there is nothing to "
            "register. Your dashboard shows its agreements."
        )
    return _(
        "This address is already registered to another account. If it is yours, contact support."
    )


def resend_refused_text(refusal: ratelimits.RateLimited) -> str:
    """What limited a resend of the verification email: its own limit, or the email budgets."""
    if "registration_resend" in refusal.actions:
        return _("The verification email was sent too recently. It can be sent %(limit)s.") % {
            "limit": settings.REGISTRATION_RESEND_LIMIT_TEXT
        }
    return str(ratelimits.EMAIL_BUDGET_FULL)


def _status_page(
    request: AuthenticatedHttpRequest, refusal: ratelimits.RateLimited | None = None
) -> HttpResponse:
    """The registration's status; with ``refusal``, the 429 that says when to resend."""
    registration = registrations.latest_registration(user=request.user)
    if registration is None:
        # Addresses verified without a registration (a converted account's): nothing to do.
        if verified := verified_emails(user=request.user):
            return render(request, "accounts/registration_status.html", {"verified": verified})
        return redirect("accounts:register")
    context = {
        "registration": registration,
        "masked_destination": mask_email(registration.invitation_address),
        "email": registration.verification_email,
        "resend_limit": settings.REGISTRATION_RESEND_LIMIT_TEXT,
    }
    if refusal is not None:
        return ratelimits.refused(
            request,
            refusal,
            what=resend_refused_text(refusal),
            template="accounts/registration_status.html",
            context=context,
        )
    return render(request, "accounts/registration_status.html", context)


@login_required
@require_safe
def registration_status(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each step with its time, where the email went (masked), its delivery, the deadline."""
    return _status_page(request)


@never_cache
@login_required
@require_safe
def registration_email_delivery(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The delivery of the verification email of the person's own latest registration, as the
    HTML fragment the status page shows (``static/js/portal.js`` polls it while the email is
    queued). It takes no id: nobody can ask about another person's registration. 404 without a
    registration."""
    registration = registrations.latest_registration(user=request.user)
    if registration is None:
        return HttpResponse(status=404)
    return render(
        request,
        "accounts/_email_delivery.html",
        {"email": registration.verification_email},
    )


@login_required
@require_POST
def resend_verification(request: AuthenticatedHttpRequest) -> HttpResponse:
    pending = registrations.pending_registration(user=request.user)
    if pending is None:
        messages.error(request, _("There is no pending registration to resend."))
        return redirect("accounts:registration_status")
    try:
        registrations.resend_verification(
            registration=pending, confirm_url=registrations.verification_link_base()
        )
    except ratelimits.RateLimited as exc:
        return _status_page(request, refusal=exc)
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
@require_GET  # not HEAD: with nothing pending it leaves a message for the next page
def cancel_pending_registration(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The old address of "Cancel this registration": the confirmation page of the pending one."""
    pending = registrations.pending_registration(user=request.user)
    if pending is None:
        messages.error(request, _("There is no pending registration to cancel."))
        return redirect("accounts:registration_status")
    return redirect("accounts:cancel_registration", pending.pk)


@login_required
@require_http_methods(["GET", "POST"])
def cancel_registration(request: AuthenticatedHttpRequest, registration_id: int) -> HttpResponse:
    """GET says what cancelling would do and changes nothing; POST (with CSRF) cancels. Another
    person's id, or one that does not exist, is a 404; a registration no longer pending (already
    cancelled, expired, completed: a replayed or late POST) is a 409 that says what happened."""
    registration = own_registration(user=request.user, registration_id=registration_id)
    if registration is None:
        return render(request, "accounts/cancel_problem.html", {"kind": "not_found"}, status=404)
    try:
        if request.method == "POST":
            registrations.cancel_registration(
                registration=registration, reason="cancelled by the user"
            )
            messages.success(
                request, _("Your registration was cancelled. You can register again now.")
            )
            return redirect("accounts:register")
        registrations.check_cancellable(registration)
    except registrations.RegistrationClosed:
        return render(
            request,
            "accounts/cancel_problem.html",
            {"kind": "closed", "registration": registration},
            status=409,
        )
    return render(
        request,
        "accounts/cancel_registration.html",
        {
            "registration": registration,
            "masked_destination": mask_email(registration.invitation_address),
        },
    )


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


def _not_requester(request: HttpRequest, registration) -> HttpResponse:
    """Someone other than the requester (or nobody signed in) used the link: say whose request
    it is and how to confirm it as them; nothing was changed."""
    return render(
        request,
        "accounts/confirm_not_requester.html",
        {
            "registration": registration,
            "requester_name": registration.user.get_full_name(),
            "sign_in_url": _sign_in_url(request, registration),
        },
        status=403,
    )


def _sign_in_url(request: HttpRequest, registration) -> str:
    """Sign-in, prefilled with the requester's address, that comes back to this link."""
    query = urlencode({"next": request.get_full_path(), "email": registration.sign_in_address})
    return f"{reverse('accounts:sign_in')}?{query}"


@never_cache  # shows the requester and their agreements to whoever holds the link, signed in or not
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows who asked, for which address and what it would unlock, and changes nothing
    (mail scanners fetch links); POST confirms. Holding the emailed link proves the mailbox;
    being signed in as the person who asked proves whom the mailbox owner confirms for. Anyone
    else gets a 403 page naming the requester; nobody signed in gets the page with a sign-in
    that comes back here."""
    try:
        if request.method == "POST":
            registration = registrations.confirm_ownership(token=token, user=request.user)
            next_url = after_registration(request, "") if request.user.is_authenticated else ""
            return render(
                request,
                "accounts/confirmed.html",
                {"registration": registration, "next_url": next_url},
            )
        registration = registrations.registration_for_token(token)
        registrations.check_confirmable(registration)
        if request.user.is_authenticated:
            registrations.check_requester(registration, user=request.user)
    except registrations.NotRequester as exc:
        return _not_requester(request, exc.registration)
    except registrations.RegistrationError as exc:
        return _link_problem(request, exc)
    return render(
        request,
        "accounts/confirm.html",
        {
            "registration": registration,
            "requester_name": registration.user.get_full_name(),
            "unlocks": import_string(settings.REGISTRATION_UNLOCKS)(
                emails=[registration.invitation_address]
            ),
            "sign_in_url": _sign_in_url(request, registration),
        },
    )


@require_safe
def confirm_prefix(request: HttpRequest) -> HttpResponse:
    """The link without its token (cut off by a mail client): say so rather than 404."""
    return _link_problem(request, registrations.InvalidLink())
