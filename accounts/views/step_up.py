"""Signing in again to confirm a change that needs a recent sign-in (``accounts.services.step_up``).

A view that met ``StepUpRequired`` keeps the submitted form and sends the person here with its
key: this page says why, and its button starts a sign-in with ``prompt=login`` (the identity
provider asks for the password even with a session of its own) and ``max_age`` (it must not
answer with an older sign-in). The callback checks the identity and ``auth_time`` and goes back
to the form (``accounts.entra.views._complete_step_up``).
"""

from __future__ import annotations

import logging

from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.entra.provider import PROVIDER_ID
from accounts.http import AuthenticatedHttpRequest
from accounts.services import step_up
from accounts.views.signin import start_limit

logger = logging.getLogger(__name__)


def step_up_url(token: str) -> str:
    return reverse("accounts:step_up", args=[token])


def send_to_step_up(
    request: AuthenticatedHttpRequest, data: QueryDict | None = None
) -> HttpResponseRedirect:
    """For a view that met ``StepUpRequired`` on a POST: keep what was submitted (``data``,
    default the POST) for this user and this form's path, and send the browser (303: a GET) to
    the page that asks them to sign in again."""
    token = step_up.stash_pending_post(
        request.session,
        user_id=request.user.pk,
        path=request.path,
        data=request.POST if data is None else data,
    )
    response = HttpResponseRedirect(step_up_url(token))
    response.status_code = 303
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sign_in_again(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    path = step_up.pending_path(request.session, user_id=request.user.pk, token=token)
    if path is None:
        messages.error(
            request,
            _("That change is no longer waiting for you to sign in again. Make it once more."),
        )
        return redirect(settings.LOGIN_REDIRECT_URL)  # the dashboard
    if request.method == "GET":
        return render(
            request,
            "accounts/step_up.html",
            {"form_path": path, "minutes": step_up.MAX_AGE_SECONDS // 60},
        )
    if (refused := start_limit(request)) is not None:
        return refused
    provider = get_adapter().get_provider(request, PROVIDER_ID)
    try:
        return provider.redirect(
            request,
            "login",
            login_hint=request.user.email,
            prompt="login",
            max_age=step_up.MAX_AGE_SECONDS,
            step_up={"user": request.user.pk, "token": token},
        )
    except Exception:  # the authority is unreachable: say so, do not 500
        logger.exception("could not start the step-up sign-in")
        return render(request, "accounts/sign_in_unavailable.html", status=503)
