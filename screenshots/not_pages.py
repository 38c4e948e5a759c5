"""The portal's named URL patterns that are not pages of their own, so no journey of the gallery
shows them, each with the reason. ``tests/platform/test_screenshot_journeys.py`` fails when a
named pattern is in neither a journey (``journeys.py``) nor here, and when a name here no longer
exists or is also in a journey. The Django admin's patterns are left out of that check (journey
06 shows a sample of the admin).
"""

from __future__ import annotations

# Named URL patterns that are not pages of their own, so no journey shows them, and why.
# ``"api:*"`` stands for every name in the namespace.
NOT_PAGES = {
    "accounts:sign_out": "POST only: signs out and redirects to the landing page (02 signed-out)",
    "accounts:resend_verification": "POST only: resends, then the registration status page",
    "accounts:convert_code_resend": "POST only: resends, then the signup code page",
    "accounts:cancel_pending_registration": (
        "the old address of Cancel this registration: a redirect to its confirmation page"
    ),
    "support:request_assign": "POST only: then the request's page",
    "support:request_answer": "POST only: then the request's page",
    "support:request_close": "POST only: then the request's page",
    "support:registration_resend": "POST only: then the person's page",
    "support:registration_cancel": "POST only: then the person's page",
    "admin_login": "a redirect to the portal's sign-in page (the admin's pages are journey 06)",
    "healthz": "the health check's JSON",
    "favicon": "/favicon.ico: a redirect to the icon the pages link to",
    "set_language": "POST only: the footer's language switcher, then back to the page it was on",
    "accounts:registration_email_delivery": (
        "the email's delivery as a fragment, polled into the registration status page"
    ),
    "api:*": "the provisioning API (/api/v1/): JSON, its OpenAPI document; the page is api-docs",
}
