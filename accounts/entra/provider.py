"""An allauth provider whose redirect and callback go through MSAL (auth-code flow with PKCE).

Accounts are keyed on ``f"{oid}.{tid}"``, never on an email address; allauth is given no email
addresses from the token (nOAuth), the portal records the sign-in address itself.
"""

from __future__ import annotations

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.entra import client, flow_cookie
from vlsc_portal.addresses import canonical_or_unchanged

PROVIDER_ID = "entra"


class EntraAccount(ProviderAccount):
    def to_str(self) -> str:
        return self.account.extra_data.get("preferred_username") or super().to_str()


class EntraProvider(Provider):
    id = PROVIDER_ID
    name = "Microsoft Entra ID"
    account_class = EntraAccount
    uses_apps = False
    supports_redirect = True

    def get_login_url(self, request: HttpRequest, **kwargs) -> str:
        url = reverse("accounts:sign_in")
        return f"{url}?{urlencode(kwargs)}" if kwargs else url

    def callback_url(self, request: HttpRequest) -> str:
        return request.build_absolute_uri(flow_cookie.callback_path())

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        """Start MSAL's flow for ``login_hint`` and send the browser to the authority, with the
        flow in its cookie (``accounts.entra.flow_cookie``: written once, nothing on the server).

        ``prompt`` and ``max_age`` go to the authority as they are (MSAL then refuses a token
        whose ``auth_time`` is older than ``max_age``); ``step_up``, kept in the flow only, tells
        the callback that this sign-in confirms the signed-in person
        (``accounts.services.callback``). ``process`` and ``data`` are allauth's: this provider
        only signs in."""
        login_hint = kwargs.pop("login_hint", "")
        step_up = kwargs.pop("step_up", None)
        flow = client.msal_app().initiate_auth_code_flow(
            scopes=[],
            redirect_uri=self.callback_url(request),
            login_hint=login_hint or None,
            prompt=kwargs.pop("prompt", None),
            max_age=kwargs.pop("max_age", None),
        )
        response = HttpResponseRedirect(flow["auth_uri"])
        flow_cookie.set_on(
            response,
            flow_cookie.FlowState(
                msal_flow=flow,
                login_hint=login_hint,
                next_url=next_url or "",
                step_up=step_up or {},
            ),
        )
        return response

    def extract_uid(self, data: dict) -> str:
        return f"{data['oid']}.{data['tid']}"

    def extract_common_fields(self, data: dict) -> dict:
        name = (data.get("name") or "").strip()
        first, _, last = name.partition(" ")
        return {"first_name": first[:150], "last_name": last[:150]}

    def extract_extra_data(self, data: dict) -> dict:
        # email and xms_edov: what accounts.selectors.proven_sign_in_address reads. The email is
        # kept canonical, so that conversion finds another user's proven address by an exact
        # lookup (one with no canonical form stays as it came and matches no address).
        keep = ("oid", "tid", "preferred_username", "email", "xms_edov", "name", "iss")
        extra = {key: data[key] for key in keep if key in data}
        if isinstance(extra.get("email"), str):
            extra["email"] = canonical_or_unchanged(extra["email"])
        return extra

    def extract_email_addresses(self, data: dict) -> list:
        return []


provider_classes = [EntraProvider]
