"""OpenID Connect pieces: the Entra-shaped validator and the tenant-aware endpoints."""

import base64
import hashlib
import json
import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import View
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model, get_grant_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import AuthorizationView
from oauthlib.common import add_params_to_uri

from entra_standin.demo import CONSUMER_TID

from . import access_tokens, outcomes
from .models import Domain, GrantAuthTime, Tenant

MULTI_TENANT = ("common", "organizations", "consumers")
TENANT_RE = r"(?P<tenant>common|organizations|consumers|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"  # noqa: E501
AUTHORIZE_PATH_RE = re.compile(r"^/" + TENANT_RE + r"/oauth2/v2\.0/authorize/?$")
AUTH_TIME_SESSION_KEY = "standin_auth_time"


def remember_auth_time(request) -> None:
    """Call right after a password or sign-up code signed someone in: this browser session's
    sign-in time, which ``max_age`` is checked against and id_tokens carry as ``auth_time``."""
    request.session[AUTH_TIME_SESSION_KEY] = int(time.time())


def session_auth_time(request):
    """Seconds since the epoch of this browser session's sign-in, or None (unknown)."""
    value = request.session.get(AUTH_TIME_SESSION_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def requested_max_age(request):
    """The authorize request's ``max_age`` in seconds, or None when absent. A value that is not
    a whole number of seconds counts as 0 (sign in again): refusing to guess is the safe side."""
    raw = request.GET.get("max_age")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return 0
    return max(value, 0)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issuer_for(tid: str) -> str:
    return f"{settings.STANDIN_TLS_URL}/{tid}/v2.0"


def pairwise_sub(oid, client_id: str) -> str:
    return b64url(hashlib.sha256(f"{oid}:{client_id}".encode()).digest())


def known_tenant(tenant: str) -> bool:
    if tenant in MULTI_TENANT:
        return True
    try:
        return Tenant.objects.filter(tid=uuid.UUID(tenant)).exists()
    except ValueError:
        return False


def email_domain_verified(user) -> bool:
    """Entra's optional claim ``xms_edov``: the user's email domain is one whose ownership the
    user's own tenant has verified. Never true for a tenant made by self-service sign-up."""
    domain = outcomes.domain_of(user.email or user.username)
    return Domain.objects.filter(name=domain, tenant_id=user.tenant_id, verified=True).exists()


def tenant_error(tenant):
    return JsonResponse(
        {
            "error": "invalid_tenant",
            "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
        },
        status=400,
    )


class EntraValidator(OAuth2Validator):
    # Return every claim whatever the scopes: Entra puts these in every v2 id_token.
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        return {
            "sub": pairwise_sub(user.oid, request.client_id or request.client.client_id),
            "oid": str(user.oid),
            "tid": str(user.tenant_id),
            "preferred_username": user.username,
            "email": user.email or user.username,
            # Optional in Entra (turned on in the app registration); always sent here.
            "xms_edov": email_domain_verified(user),
            "name": user.get_full_name(),
            "ver": "2.0",
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        # DOT puts the user's last_login in auth_time: the latest sign-in in any browser. The
        # sign-in of the session the code was issued to is the one that counts (validate_code).
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        auth_time = getattr(request, "standin_auth_time", None)
        if isinstance(auth_time, int):
            claims["auth_time"] = auth_time
        return claims, expiration_time

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        auth_time = getattr(request, "standin_auth_time", None)  # set by the authorize view
        if isinstance(auth_time, int):
            grant = get_grant_model().objects.get(code=code["code"])
            GrantAuthTime.objects.create(grant=grant, auth_time=auth_time)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            auth_time = (
                GrantAuthTime.objects.filter(grant__code=code, grant__application=client)
                .values_list("auth_time", flat=True)
                .first()
            )
            if auth_time is not None:
                request.standin_auth_time = auth_time
        return valid

    def get_oidc_issuer_endpoint(self, request):
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "tenant_id", None):
            return issuer_for(str(user.tenant_id))
        return issuer_for("{tenantid}")

    def save_bearer_token(self, token, request, *args, **kwargs):
        result = super().save_bearer_token(token, request, *args, **kwargs)
        user = request.user
        if user is not None and getattr(user, "tenant_id", None):
            info = {"uid": str(user.oid), "utid": str(user.tenant_id)}
            token["client_info"] = b64url(json.dumps(info).encode())
        return result

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        # As Entra: client credentials ask for ``{resource}/.default`` only, and only an
        # application registered in a tenant (AppRegistration) gets app-only tokens.
        if request.grant_type == "client_credentials":
            return list(scopes) == [access_tokens.DEFAULT_SCOPE] and hasattr(client, "registration")
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True


def discovery(request, tenant):
    if not known_tenant(tenant):
        return tenant_error(tenant)
    http, tls = settings.STANDIN_HTTP_URL, settings.STANDIN_TLS_URL
    if tenant in ("common", "organizations"):
        issuer = issuer_for("{tenantid}")
    elif tenant == "consumers":
        issuer = issuer_for(CONSUMER_TID)
    else:
        issuer = issuer_for(str(uuid.UUID(tenant)))
    doc = {
        "issuer": issuer,
        "authorization_endpoint": f"{http}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{tls}/{tenant}/oauth2/v2.0/token",
        "jwks_uri": f"{tls}/{tenant}/discovery/v2.0/keys",
        "end_session_endpoint": f"{http}/{tenant}/oauth2/v2.0/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [
            "openid",
            "profile",
            "email",
            "offline_access",
            *access_tokens.api_scopes(),
        ],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "oid",
            "tid",
            "preferred_username",
            "email",
            "xms_edov",
            "name",
            "ver",
        ],
        "request_uri_parameter_supported": False,
        "frontchannel_logout_supported": False,
        "http_logout_supported": False,
    }
    return JsonResponse(doc)


def error_redirect(application, redirect_uri, state, code, error="access_denied"):
    params = [("error", error), ("error_description", outcomes.error_description(code))]
    if state:
        params.append(("state", state))
    url = add_params_to_uri(redirect_uri, params)
    return OAuth2ResponseRedirect(url, application.get_allowed_schemes())


def validated_auth_request(next_url):
    """(application, redirect_uri, state) of a stand-in authorize URL, or None.

    The client and the redirect_uri are checked against the registration, so an error is never
    sent to an address the client did not register.
    """
    if not next_url:
        return None
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or not AUTHORIZE_PATH_RE.match(parts.path):
        return None
    query = dict(parse_qsl(parts.query))
    client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri")
    if not client_id or not redirect_uri:
        return None
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None or not application.redirect_uri_allowed(redirect_uri):
        return None
    return application, redirect_uri, query.get("state")


def login_hint_of(next_url):
    if not next_url:
        return ""
    return dict(parse_qsl(urlsplit(next_url).query)).get("login_hint", "")


class EntraAuthorizationView(AuthorizationView):
    """DOT's authorize view, with the request validated before any sign-in or refusal."""

    http_method_names = ["get", "head", "options"]
    template_name = "standin/authorize.html"

    def dispatch(self, request, *args, **kwargs):
        # Skip LoginRequiredMixin: validate the client and redirect_uri first.
        self.oauth2_data = {}
        return View.dispatch(self, request, *args, **kwargs)

    def get(self, request, *args, tenant, **kwargs):
        if not known_tenant(tenant):
            return tenant_error(tenant)
        try:
            _scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)

        application = get_application_model().objects.get(client_id=credentials["client_id"])
        redirect_uri, state = credentials["redirect_uri"], credentials.get("state")
        prompt = set(request.GET.get("prompt", "").split())
        user = request.user
        signed_in = user.is_authenticated and user.tenant_id is not None
        hint = request.GET.get("login_hint", "").strip().lower()
        # max_age: the session's sign-in must be younger than this many seconds, or the person
        # signs in again (OpenID Connect Core 3.1.2.1); prompt=login always asks again.
        max_age = requested_max_age(request)
        auth_time = session_auth_time(request) if signed_in else None
        too_old = max_age is not None and (auth_time is None or time.time() - auth_time >= max_age)

        if "none" in prompt:
            if not signed_in or too_old or (hint and hint != user.username):
                return error_redirect(
                    application, redirect_uri, state, outcomes.LOGIN_REQUIRED, "login_required"
                )
        elif "login" in prompt or too_old or not signed_in or (hint and hint != user.username):
            if signed_in and ("login" in prompt or too_old):
                # End the session first: otherwise the authorize URL without prompt (where the
                # sign-in page sends the browser next) would still be served by the old session
                # without a password being entered.
                logout(request)
            query = [
                (k, v) for k, v in parse_qsl(request.META.get("QUERY_STRING", "")) if k != "prompt"
            ]
            next_url = f"{request.path}?{urlencode(query)}"
            return redirect(f"{reverse('standin:signin')}?{urlencode({'next': next_url})}")

        user_tid = str(user.tenant_id)
        if (
            (tenant == "organizations" and user_tid == CONSUMER_TID)
            or (tenant == "consumers" and user_tid != CONSUMER_TID)
            or (tenant not in MULTI_TENANT and str(uuid.UUID(tenant)) != user_tid)
        ):
            return error_redirect(application, redirect_uri, state, outcomes.USER_NOT_IN_TENANT)

        return super().get(request, *args, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        # Carried on oauthlib's request to save_authorization_code, which keeps it with the code.
        credentials["standin_auth_time"] = session_auth_time(request)
        return super().create_authorization_response(request, scopes, credentials, allow)


def end_session(request, tenant):
    """Entra's logout: end the stand-in session, go back only to a registered address."""
    uri = request.GET.get("post_logout_redirect_uri", "")
    state = request.GET.get("state")
    client_id = request.GET.get("client_id")
    if not client_id and request.GET.get("id_token_hint"):
        client_id = _aud_of(request.GET["id_token_hint"])
    logout(request)
    unregistered = False
    if uri:
        applications = get_application_model().objects.all()
        if client_id:
            applications = applications.filter(client_id=client_id)
        application = next(
            (app for app in applications if app.post_logout_redirect_uri_allowed(uri)), None
        )
        if application is not None:
            target = add_params_to_uri(uri, [("state", state)]) if state else uri
            return OAuth2ResponseRedirect(target, application.get_allowed_schemes())
        unregistered = True
    return render(
        request,
        "standin/signed_out.html",
        {"unregistered": unregistered, "title": _("You are signed out")},
    )


def _aud_of(id_token):
    """The audience of an id_token hint (only used to pick the client; not trusted further)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    aud = claims.get("aud")
    return aud[0] if isinstance(aud, list) and aud else aud if isinstance(aud, str) else None
