"""Sign-in, accounts and their limits: the part of the settings that is the portal's account
policy (allauth, the authentication backends, home pages, registration and conversion windows,
rate limits and budgets). ``vlsc_portal/settings.py`` includes it; the README's "Settings" and
"Rate limits and budgets" describe it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from vlsc_portal.env import env_list, env_str

# The first is the one sign-ins record in the session (allauth's, loading the user each request
# with less work: accounts/backends.py); the other two still load sessions made before it.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "agreements:dashboard"
# Home pages by permission, first match wins: after a sign-in without a ``next``, and on the
# landing page, a person holding the permission goes to the page instead of the dashboard
# (accounts.next_page.home_page). Support staff start at the support console.
HOME_PAGES = [("support.use_support_console", "support:lookup")]
# What confirming an invitation address would unlock, shown on the confirmation page: accounts
# sits below agreements and names it only here (docs/architecture.md).
REGISTRATION_UNLOCKS = "agreements.selectors.access_for_addresses"
# Whether registering would make a signed-in person an administrator (``/admin/`` then leads them
# through registration instead of refusing them); named here for the same reason.
ADMIN_PROSPECT = "agreements.selectors.may_become_administrator"
# No local (password) sign-in exists: accounts come from work-account sign-in only, and allauth
# generates the internal username.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_EMAIL_CONFIRMATION_HMAC = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 2
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# allauth's name for a person (its "Signed in as ..." message): their name, not the username.
ACCOUNT_USER_DISPLAY = "accounts.models.display_name"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # The portal's own limits, in allauth's syntax, counted by vlsc_portal.ratelimits (atomic
    # counters in Redis, or in the database without Redis). Per object: a registration's or a
    # conversion's resends (the key).
    "sign_in_start": "30/m/ip",
    # A sign-in flow (its state) completes once: a second callback for it is a replay. The
    # window outlasts the flow's cookie (10 minutes, accounts/entra/flow_cookie.py).
    "sign_in_flow": "1/10m/key",
    "registration_resend": "1/m/key,5/d/key",
    "signup_code_resend": "1/m/key,5/h/key",
    # Contact support: per IP, and per sender address (the key).
    "support_request": "10/h/ip,3/h/key",
    "access_request": "5/h/user",
    # Budgets across flows. Every email sent at a person's request (verification and its resend,
    # signup code and its resend, a restarted conversion's code, support's acknowledgement)
    # counts per address it goes to, whoever asked, and per user it is sent for, whatever address.
    "email_to_address": "5/h/key,10/d/key",
    "email_by_user": "10/h/user,20/d/user",
    # Signup-code tries per user a day, across conversions (starting again does not reset it).
    "signup_code_guess": "20/d/user",
    # The provisioning API, per caller (a person, or an organisation's application).
    "api": env_str("API_RATE_LIMIT", "600/m/key"),
}
REGISTRATION_RESEND_LIMIT_TEXT = _("once a minute and at most five times a day")
REGISTRATION_WINDOW_HOURS = 48
CONVERSION_WINDOW_HOURS = 24
SIGNUP_CODE_MINUTES = 15
SIGNUP_CODE_ATTEMPTS = 5
SIGNUP_CODE_RESEND_LIMIT_TEXT = _("once a minute and at most five times an hour")
# Domains of personal email: a conversion needs a work address.
CONSUMER_EMAIL_DOMAINS = env_list(
    "CONSUMER_EMAIL_DOMAINS",
    [
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
    ],
)
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
