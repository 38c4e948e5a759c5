from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import address_standing, verified_emails
from accounts.services import registration as registrations
from agreements import selectors, services
from agreements.dashboard import dashboard_page
from agreements.forms import AccessRequestForm, DashboardFilterForm
from agreements.roles import KIND_ALLOWS
from vlsc_portal import ratelimits


@login_required
@require_safe
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user's agreements, 50 a page, filtered (``q``) and sorted (``sort``) by query string;
    a user who has not registered an invitation address is sent to do so. A filter that is too
    long answers 400 with the form's message; a page that does not exist shows the nearest one
    and says so."""
    standing = address_standing(user=request.user)
    emails, pending = standing.verified, standing.pending
    if registrations.needs_registration(verified_emails=emails, pending=pending):
        return redirect("accounts:register")
    form = DashboardFilterForm(request.GET)
    context: dict[str, object] = {"verified_emails": emails, "pending": pending, "form": form}
    if not form.is_valid():
        return render(request, "agreements/dashboard.html", context, status=400)
    context["listing"] = dashboard_page(
        emails=emails,
        text=form.cleaned_data["q"],
        sort=request.GET.get("sort"),
        page=request.GET.get("page"),
        query=dict(request.GET.lists()),
    )
    return render(request, "agreements/dashboard.html", context)


@login_required
@require_safe
def agreement_detail(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """What the user may do on one agreement; an administrator also sees its users and their
    states. No access (or no such agreement) is a 404 that says neither."""
    access = selectors.agreement_access(user=request.user, number=number)
    if access is None:
        return render(request, "agreements/not_found.html", status=404)
    invited = (
        selectors.invited_addresses(agreement=access.agreement) if access.is_administrator else []
    )
    allows = [
        (label, str(KIND_ALLOWS[kind]))
        for kind, label in zip(access.kinds, access.kind_labels, strict=True)
    ]
    return render(
        request,
        "agreements/detail.html",
        {"access": access, "agreement": access.agreement, "allows": allows, "invited": invited},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_access(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Ask for access by agreement number. The answer is the same whether or not the number
    exists, and never names the administrators."""
    emails = verified_emails(user=request.user)
    form = AccessRequestForm(request.POST or None, emails=emails)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_access(
                requester=request.user,
                email=form.cleaned_data["email"],
                agreement_number=form.cleaned_data["agreement_number"],
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
            )
        except ratelimits.RateLimited as exc:
            return ratelimits.refused(
                request, exc, what=_("You have asked for access several times in a short time.")
            )
        return redirect("agreements:request_sent")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "has_address": bool(emails)}
    return render(request, "agreements/request_access.html", context, status=status)


@login_required
@require_safe
def request_sent(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "agreements/request_sent.html")
