"""What happens when an address without an account tries to sign in.

See ``entra_standin/README.md`` for the table of AADSTS codes.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from entra_standin.demo import CONSUMER_DOMAINS

from .models import Domain, Tenant

# AADSTS codes. 990002/990003/990004 are the stand-in's own: Microsoft's self-service sign-up
# reports those refusals on its own pages without a public AADSTS number. The others are real.
RESTRICTED_DOMAIN = "AADSTS990002"
SIGNUP_DISABLED = "AADSTS990003"
ADMIN_BLOCKS_SIGNUP = "AADSTS990004"
USER_NOT_FOUND = "AADSTS50034"
USER_NOT_IN_TENANT = "AADSTS50020"
USER_DECLINED = "AADSTS65004"
LOGIN_REQUIRED = "AADSTS50058"

DESCRIPTIONS = {
    RESTRICTED_DOMAIN: _("The email domain is restricted for automatic (self-service) sign-up."),
    SIGNUP_DISABLED: _("The organisation's directory has self-service sign-up turned off."),
    ADMIN_BLOCKS_SIGNUP: _(
        "The administrator of the email domain does not allow users to sign up on their own."
    ),
    USER_NOT_FOUND: _("The user account does not exist in the organisation's directory."),
    USER_NOT_IN_TENANT: _(
        "The user account does not exist in the tenant the application asked for and cannot "
        "access it."
    ),
    USER_DECLINED: _("The user cancelled the sign-in."),
    LOGIN_REQUIRED: _("The user is not signed in and no prompt was allowed."),
}


@dataclass
class Outcome:
    kind: str  # "no_account" (consumer), "error" (AADSTS code), "signup"
    code: str = ""
    domain: Domain | None = None


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def is_consumer_domain(domain: str) -> bool:
    if domain in CONSUMER_DOMAINS:
        return True
    return Domain.objects.filter(name=domain, tenant__kind=Tenant.CONSUMER).exists()


def outcome_for_unknown_address(email: str) -> Outcome:
    """Decide what an address with no account in the directory gets."""
    name = domain_of(email)
    if is_consumer_domain(name):
        return Outcome("no_account")
    domain = Domain.objects.select_related("tenant").filter(name=name).first()
    if domain is None:
        return Outcome("signup")  # a new unmanaged tenant is made when the form is sent
    tenant = domain.tenant
    if domain.restricted_for_auto_signup:
        return Outcome("error", RESTRICTED_DOMAIN, domain)
    if not tenant.self_service_signup:
        return Outcome("error", SIGNUP_DISABLED, domain)
    if domain.admin_blocks_self_signup:
        return Outcome("error", ADMIN_BLOCKS_SIGNUP, domain)
    if tenant.kind == Tenant.MANAGED:
        return Outcome("error", USER_NOT_FOUND, domain)
    return Outcome("signup", domain=domain)


def error_description(code: str) -> str:
    return f"{code}: {DESCRIPTIONS[code]}"
