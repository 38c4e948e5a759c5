"""The sign-in error pages: the portal's documented table of codes, messages and causes.

Messages are the FAQ's, word for word; explanations and next steps are the portal's own words.
Which identity-provider (AADSTS) code maps to which page is :data:`AADSTS_TO_CODE`; the Entra ID
stand-in produces each of them (its README has the same table).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DOMAIN_RESTRICTED_MESSAGE = _(
    "We are sorry. We are unable to complete your sign up to VLSC as the email domain you have "
    "provided is restricted for automatic sign up."
)


@dataclass(frozen=True)
class SignInProblem:
    code: str
    message: Promise
    explanation: Promise
    next_step: Promise
    who_can_fix: Promise


PROBLEMS: dict[str, SignInProblem] = {
    "E02": SignInProblem(
        "E02",
        DOMAIN_RESTRICTED_MESSAGE,
        _(
            "Your organisation's IT administrators have restricted your email domain so that "
            "people cannot sign up for online services on their own. The portal uses the same "
            "work-account sign-up, so it is blocked too."
        ),
        _(
            "Ask your IT administrator to allow sign-up for your domain. The change need not be "
            "permanent: it can be reversed as soon as your registration is complete."
        ),
        _("Your IT administrator"),
    ),
    "E03": SignInProblem(
        "E03",
        _(
            "Sorry, we cannot finish signing you up. Your IT Department has turned off signup "
            "for Volume Licensing Service Center"
        ),
        _(
            "An administrator of your organisation's Microsoft services has turned off "
            "self-service sign-up for people with your domain name. That setting also stops "
            "sign-up for this portal. You do not need any subscription to register."
        ),
        _(
            "Contact your network administrator (the person who administers your domain) and "
            "ask them to allow you to sign up, then try again."
        ),
        _("Your network administrator"),
    ),
    "E04": SignInProblem(
        "E04",
        DOMAIN_RESTRICTED_MESSAGE,
        _(
            "The administrator of your email domain has set it so that people cannot create work "
            "accounts for themselves; only an administrator can."
        ),
        _(
            "Ask the administrator of your domain to change the domain setting, or to create "
            "your work account. The setting can be changed back once your registration is done."
        ),
        _("Your IT administrator"),
    ),
    "E05": SignInProblem(
        "E05",
        DOMAIN_RESTRICTED_MESSAGE,
        _(
            "Your organisation manages its own directory, and it has no account for this "
            "address. A work account cannot be created for an address your organisation's "
            "directory does not hold."
        ),
        _(
            "Ask your IT administrator which account to use, or to create an account for you "
            "in your organisation's directory. Then sign in with that account."
        ),
        _("Your IT administrator"),
    ),
    "E06": SignInProblem(
        "E06",
        _("We are unable to complete your action"),
        _(
            "You have already used a work account with this portal, and then signed in with a "
            "personal Microsoft account. Personal accounts are not used here any more."
        ),
        _("Sign out, then sign in with the work account shown on this page."),
        _("Only you: use your work account"),
    ),
    # The token was valid but its organisation (tenant) is not one ENTRA_ALLOWED_TENANTS lets in.
    "tenant_not_allowed": SignInProblem(
        "",
        _("Your organisation cannot use this portal"),
        _(
            "You signed in with a work account of an organisation this portal is not set up "
            "for. Only the organisations it serves can sign in here. You have not been signed "
            "in and nothing was changed."
        ),
        _(
            "If you have another work account, from an organisation on a volume-licensing "
            "agreement, sign in with that one. If your organisation should be able to use this "
            "portal, contact support and quote the reference id below."
        ),
        _("VLSC support"),
    ),
    "generic": SignInProblem(
        "",
        _("We could not sign you in"),
        _("The sign-in service refused the request for a reason the portal does not recognise."),
        _(
            "Try again. If it happens again, contact support and quote the reference id below "
            "so we can see what the sign-in service reported."
        ),
        _("Support can look into it"),
    ),
}

# Identity-provider codes → portal pages. 50034 is Entra's real "user account does not exist in
# the directory"; 990002–990004 are the stand-in's codes for the self-service sign-up refusals,
# which Microsoft reports on its own sign-up pages without a public AADSTS number.
AADSTS_TO_CODE: dict[str, str] = {
    "AADSTS990002": "E02",
    "AADSTS990003": "E03",
    "AADSTS990004": "E04",
    "AADSTS50034": "E05",
}


# The person cancelled at the identity provider: Entra reports declining the consent prompt (or
# cancelling sign-in) as ``access_denied`` with AADSTS65004 ("user declined to consent"). A
# callback with neither a code nor an error is treated as a cancellation too.
CANCELLED_CODES = frozenset({"AADSTS65004"})


def problem_for(provider_code: str) -> SignInProblem:
    return PROBLEMS[AADSTS_TO_CODE.get(provider_code, "generic")]
