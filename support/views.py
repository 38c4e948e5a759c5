"""Contact support (anyone) and the support pages (support staff only: 403 for everyone else)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Registration
from accounts.services import registration as registrations
from support import overview as overview_page
from support import selectors, services
from support.forms import (
    ACTION_FORMS,
    AnswerForm,
    CloseForm,
    ContactSupportForm,
    LookupForm,
    ReasonForm,
)
from support.phone import PHONE_CONTACTS
from vlsc_portal import ratelimits

SESSION_LAST_REQUEST = "support_last_request"


def support_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-out visitors go to sign in; signed-in people without the permission to use the
    support pages (``selectors.SUPPORT_PERMISSION``) get 403."""
    return login_required(
        permission_required(selectors.SUPPORT_PERMISSION, raise_exception=True)(view)
    )


def _person_url(*, user_id: int | None, email: str = "") -> str:
    params = {"user": user_id} if user_id else {"email": email}
    return f"{reverse('support:person')}?{urlencode(params)}"


# Contact support (anyone) ---------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    """The form, prefilled from the signed-in user and from an error page's ``code`` and
    ``ref``. Rate-limited per client address and per sender address, and the acknowledgement
    counts against the sender address's (and a signed-in user's) email budget."""
    user = request.user if request.user.is_authenticated else None
    initial = {
        "name": user.get_full_name() if user else "",
        "email": user.email if user else "",
        "error_code": request.GET.get("code", "")[:3].upper(),
        "reference_id": request.GET.get("ref", "")[:12].upper(),
    }
    form = ContactSupportForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            ip = ratelimits.client_ip(request)
            try:
                # One transaction: if the email budget refuses, this request's counts go too
                # (in the database's store; Redis keeps them counted, which is stricter).
                with transaction.atomic():
                    ratelimits.consume(ratelimits.Use("support_request", ip=ip, key=data["email"]))
                    support_request = services.open_support_request(
                        name=data["name"],
                        email=data["email"],
                        topic=data["topic"],
                        message=data["message"],
                        agreement_number=data["agreement_number"],
                        error_code=data["error_code"],
                        error_reference=data["reference_id"],
                        user=user,
                        ip_address=ip,
                    )
            except ratelimits.RateLimited as exc:
                return ratelimits.refused(
                    request,
                    exc,
                    what=_(
                        "You have sent several requests in a short time. We will answer the ones "
                        "we have; you can also call us."
                    ),
                    context={"phones": PHONE_CONTACTS},
                )
            request.session[SESSION_LAST_REQUEST] = support_request.reference
            return redirect("support:contact_sent")
    return render(
        request, "support/contact.html", {"form": form, "phones": PHONE_CONTACTS}, status=status
    )


@require_safe
def contact_sent(request: HttpRequest) -> HttpResponse:
    """The confirmation: the reference and when to expect an answer. Only the browser that sent
    the request sees it (the reference is kept in its session)."""
    reference = request.session.get(SESSION_LAST_REQUEST, "")
    support_request = selectors.request_sent_from_this_session(reference=reference)
    if support_request is None:
        return redirect("support:contact")
    return render(
        request,
        "support/contact_sent.html",
        {"support_request": support_request, "phones": PHONE_CONTACTS},
    )


# Support pages (staff) ------------------------------------------------------------------------


@support_staff_required
@require_safe
def lookup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The console's home: search by email address, agreement number or reference id (one
    person → their page), beside the queue's counts and newest open requests."""
    form = LookupForm(request.GET if "q" in request.GET else None)
    if not form.is_bound:
        return _lookup_page(request, form=form)
    if not form.is_valid():
        return _lookup_page(request, status=400, form=form)
    try:
        result = selectors.lookup(query=form.cleaned_data["q"])
    except selectors.BadQuery as exc:
        form.add_error("q", str(exc))
        return _lookup_page(request, status=400, form=form)
    if result.kind != "agreement" and len(result.matches) == 1:
        match = result.matches[0]
        user_id = match.user.pk if match.user else None
        return redirect(_person_url(user_id=user_id, email=match.email))
    return _lookup_page(request, status=200 if result.matches else 404, form=form, result=result)


def _bad_person_query(request: AuthenticatedHttpRequest, message: str) -> HttpResponse:
    return _lookup_page(request, status=400, problem=message)


def _lookup_page(request: AuthenticatedHttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    """The console home; the queue's figures only when it is shown (not when a search
    redirects to the person)."""
    context = {"form": LookupForm(), "queue": selectors.queue_summary(user=request.user)}
    return render(request, "support/lookup.html", {**context, **extra}, status=status)


@support_staff_required
@require_safe
def person(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A person's identities, registrations and timeline (``before`` pages to older events)."""
    user_param, email = request.GET.get("user", ""), request.GET.get("email", "")[:300]
    if user_param and not (user_param.isascii() and user_param.isdigit() and len(user_param) <= 18):
        return _bad_person_query(request, _("That user id is not valid."))
    if email and ("@" not in email or len(email) > 254):
        return _bad_person_query(request, _("That is not a valid email address."))
    try:
        cursor = (
            selectors.Cursor.decode(request.GET["before"]) if request.GET.get("before") else None
        )
        subject = selectors.person(user_id=int(user_param) if user_param else None, email=email)
    except selectors.BadQuery as exc:
        return _bad_person_query(request, str(exc))
    except selectors.AmbiguousAddress as exc:
        result = selectors.LookupResult(
            kind="email",
            query=email,
            matches=[selectors.Match(email=email, user=u) for u in exc.users],
        )
        return _lookup_page(request, result=result)
    if subject is None:
        return _lookup_page(request, status=404, problem=_("No such person."))
    page = selectors.timeline(subject=subject, before=cursor)
    return render(
        request,
        "support/person.html",
        {
            "subject": subject,
            "timeline": page,
            "older": cursor is not None,
            "now": timezone.now(),
            "pending_actions": [
                # One form per action (resend, cancel), each with its own reason field.
                (r, *(form(prefix=f"{kind}-{r.pk}") for kind, form in ACTION_FORMS.items()))
                for r in subject.registrations
                if r.is_pending
            ],
            "person_query": _person_query(request),
        },
    )


def _person_query(request: HttpRequest) -> str:
    params = {k: request.GET[k] for k in ("user", "email") if request.GET.get(k)}
    return urlencode(params)


def _registration_action(
    request: AuthenticatedHttpRequest, pk: int, *, kind: str
) -> tuple[Registration, ReasonForm] | HttpResponse:
    """The registration and the valid reason form, or the page that says why not."""
    registration = selectors.registration_for_action(user=request.user, pk=pk)
    if registration is None:
        return render(request, "404.html", status=404)
    form = ACTION_FORMS[kind](request.POST, prefix=f"{kind}-{pk}")
    if not form.is_valid():
        return render(
            request,
            "support/registration_action.html",
            {"registration": registration, "form": form, "kind": kind},
            status=400,
        )
    return registration, form


@support_staff_required
@require_POST
def registration_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Resend the verification email, under the same limits as the person's own resend (the
    service counts them: the registration's resends and the address's and person's email
    budgets)."""
    action = _registration_action(request, pk, kind="resend")
    if isinstance(action, HttpResponse):
        return action
    registration, form = action
    back = redirect(_person_url(user_id=registration.user_id))
    if not registration.is_pending:
        messages.error(request, _("This registration is no longer pending."))
        return back
    try:
        services.resend_verification_for(
            registration=registration,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            confirm_url=registrations.verification_link_base(),
        )
    except ratelimits.RateLimited as exc:
        if "registration_resend" in exc.actions:
            what = _("The verification email was sent too recently. It can be sent %(limit)s.") % {
                "limit": settings.REGISTRATION_RESEND_LIMIT_TEXT
            }
        else:
            what = str(ratelimits.EMAIL_BUDGET_FULL)
        return ratelimits.refused(
            request,
            exc,
            what=what,
            template="support/registration_action.html",
            context={"registration": registration, "form": form, "kind": "resend", "limited": True},
        )
    except registrations.RegistrationClosed:
        messages.error(request, _("This registration is no longer pending."))
        return back
    messages.success(
        request,
        _("The verification email was sent again to %(address)s.")
        % {"address": registration.invitation_address},
    )
    return back


@support_staff_required
@require_POST
def registration_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    action = _registration_action(request, pk, kind="cancel")
    if isinstance(action, HttpResponse):
        return action
    registration, form = action
    try:
        services.cancel_registration_for(
            registration=registration, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except registrations.RegistrationClosed:
        messages.error(request, _("This registration is no longer pending."))
    else:
        messages.success(
            request, _("The registration was cancelled. The person can register again now.")
        )
    return redirect(_person_url(user_id=registration.user_id))


@support_staff_required
@require_safe
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "support/queue.html",
        {
            "rows": selectors.open_queue(user=request.user, now=now),
            "access_requests": selectors.access_requests_for_support(user=request.user),
            "now": now,
        },
    )


def _request_page(request: HttpRequest, support_request, *, status: int = 200, **forms):
    return render(
        request,
        "support/request.html",
        {
            "support_request": support_request,
            "assigned_to_viewer": support_request.assigned_to_id == request.user.pk,
            "overdue": support_request.is_overdue(),
            "person_url": _person_url(user_id=support_request.user_id, email=support_request.email),
            "answer_form": forms.get("answer_form") or AnswerForm(),
            "close_form": forms.get("close_form") or CloseForm(prefix="close"),
        },
        status=status,
    )


def _get_request(request: HttpRequest, reference: str):
    support_request = selectors.support_request(user=request.user, reference=reference)
    if support_request is None:
        return None, render(request, "404.html", status=404)
    return support_request, None


@support_staff_required
@require_safe
def request_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    support_request, missing = _get_request(request, reference)
    return missing or _request_page(request, support_request)


@support_staff_required
@require_POST
def request_assign(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    support_request, missing = _get_request(request, reference)
    if missing:
        return missing
    try:
        services.assign_to_self(support_request=support_request, actor=request.user)
    except services.RequestNotOpen:
        messages.error(request, _("This request is closed."))
    else:
        messages.success(request, _("The request is assigned to you."))
    return redirect("support:request", reference)


@support_staff_required
@require_POST
def request_answer(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    support_request, missing = _get_request(request, reference)
    if missing:
        return missing
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _request_page(request, support_request, status=400, answer_form=form)
    try:
        services.answer_support_request(
            support_request=support_request, actor=request.user, answer=form.cleaned_data["answer"]
        )
    except services.RequestNotOpen:
        messages.error(request, _("This request was answered or closed already."))
        return _request_page(request, support_request, status=409)
    messages.success(
        request, _("Your answer was sent to %(address)s.") % {"address": support_request.email}
    )
    return redirect("support:request", reference)


@support_staff_required
@require_POST
def request_close(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    support_request, missing = _get_request(request, reference)
    if missing:
        return missing
    form = CloseForm(request.POST, prefix="close")
    if not form.is_valid():
        return _request_page(request, support_request, status=400, close_form=form)
    try:
        services.close_support_request(
            support_request=support_request, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except services.RequestNotOpen:
        messages.error(request, _("This request is closed already."))
        return _request_page(request, support_request, status=409)
    messages.success(request, _("The request is closed."))
    return redirect("support:queue")


@support_staff_required
@require_safe
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Trends over the last 30 UTC days (``support.overview``), each chart with its numbers in a
    table. Takes no parameters: a query string is ignored, the window is always 30 days."""
    return render(request, "support/overview.html", overview_page.context(now=timezone.now()))
