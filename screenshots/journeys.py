"""The gallery's journeys: the README's flows as a person walks them, one screenshot per page.

Each :class:`Step` is either a path to open on the portal or an action (``actions.py``) that
clicks and types its way to the page; ``routes`` names the portal's URL patterns the page is
(checked while walking, and by ``tests/platform/test_screenshot_journeys.py``, which fails when a
page of the portal is in no journey and not in ``not_pages.py``). A step marked ``optional``
shows a page that another branch is adding: while its URL answers 404 it is skipped with a
warning, and it appears once that branch is merged.

File names are ``<NN>-<journey>-<step>-<desktop|mobile>.png`` with the journey's number: adding
a step to a journey adds files and renames none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page

from screenshots import actions as a
from screenshots.steps import Run


@dataclass(frozen=True)
class Step:
    slug: str
    title: str  # what the page shows, for the index
    routes: tuple[str, ...] = ()  # the portal's URL names it is; () for the stand-in's pages
    path: str = ""  # open this path on the portal ...
    action: Callable[[Page, Run], None] | None = None  # ... or do this
    optional: bool = False  # added by another branch: skipped with a warning while it is a 404
    # Open ``path`` on the portal with DEBUG off (the portal's own 404 page, not Django's).
    debug_off: bool = False


@dataclass(frozen=True)
class Journey:
    number: int
    slug: str
    title: str
    steps: tuple[Step, ...]


JOURNEYS = (
    Journey(
        1,
        "visitor",
        "A visitor, signed out",
        (
            Step("landing", "Landing page", ("accounts:landing",), path="/"),
            Step("sign-in", "Sign-in page", ("accounts:sign_in",), action=a.sign_in_form),
            Step(
                "sign-in-error",
                "Sign-in page submitted empty: the error summary",
                ("accounts:sign_in",),
                action=a.sign_in_form_empty,
            ),
            Step("api-reference", "The provisioning API's reference", ("api-docs",), "/api/docs/"),
            Step("not-found", "Page not found (404)", (), path="/no-such-page/", debug_off=True),
        ),
    ),
    Journey(
        2,
        "alice",
        "alice@contoso.com: first sign-in, dashboard and agreements",
        (
            Step("standin-sign-in", "The stand-in's sign-in page", action=a.alice_at_standin),
            Step(
                "register",
                "First sign-in: register the invitation address (prefilled)",
                ("accounts:register",),
                action=a.alice_registers,
            ),
            Step(
                "dashboard",
                "Dashboard: her agreements and what she may do",
                ("agreements:dashboard",),
                action=a.alice_dashboard,
            ),
            Step(
                "agreement",
                "An agreement: her permissions and what each allows",
                ("agreements:detail",),
                action=a.alice_agreement,
            ),
            Step(
                "agreement-not-available",
                "Another organisation's agreement: not available",
                ("agreements:detail",),
                path="/agreements/O8880202/",
            ),
            Step(
                "request-access-error",
                "Request access, submitted empty",
                ("agreements:request_access",),
                action=a.request_access_empty,
            ),
            Step(
                "request-access-sent",
                "Request access: received",
                ("agreements:request_sent",),
                action=a.request_access_sent,
            ),
            Step(
                "registration-status",
                "Registration status of a registered person",
                ("accounts:registration_status",),
                path="/register/status/",
            ),
            Step(
                "preferences",
                "Preferences (language, time zone)",
                ("accounts:preferences",),
                path="/account/preferences/",
                optional=True,
            ),
            Step(
                "forbidden",
                "A support page for someone who is not support staff (403)",
                ("support:lookup",),
                path="/support/",
            ),
            Step(
                "landing-signed-in",
                "The landing page, signed in",
                ("accounts:landing",),
                path="/",
            ),
            Step(
                "signed-out",
                "Signed out: the landing page says so",
                ("accounts:landing",),
                action=a.signed_out,
            ),
        ),
    ),
    Journey(
        3,
        "bob",
        "bob@fabrikam.com: registering licensing@fabrikam.com, then Contact support",
        (
            Step(
                "register-another-address",
                "Registration form with another address typed in",
                ("accounts:register",),
                action=a.bob_register_form,
            ),
            Step(
                "registration-status",
                "Registration status: waiting for verification, email sent",
                ("accounts:registration_status",),
                action=a.bob_status,
            ),
            Step(
                "link-cut-off",
                "The verification link without its token",
                ("accounts:confirm_prefix",),
                path="/register/confirm/",
            ),
            Step(
                "cancel-confirmation",
                "Cancel the registration? (confirmation)",
                ("accounts:cancel_registration",),
                action=a.bob_cancel_confirmation,
            ),
            Step("mailbox-email", "Dev mailbox: the verification email", action=a.bob_email),
            Step(
                "confirm",
                "Confirm that this address is yours",
                ("accounts:confirm",),
                action=a.bob_confirm,
            ),
            Step(
                "confirmed",
                "Registration complete",
                ("accounts:confirm",),
                action=a.bob_confirmed,
            ),
            Step(
                "dashboard",
                "Dashboard with Fabrikam's agreement",
                ("agreements:dashboard",),
                action=a.bob_dashboard,
            ),
            Step(
                "start-again",
                "A forged or stale sign-in callback: start again (400)",
                ("entra:callback",),
                action=a.stale_callback,
            ),
            Step(
                "contact-support",
                "Contact support, from the error page (filled in)",
                ("support:contact",),
                action=a.contact_form,
            ),
            Step(
                "contact-support-sent",
                "Contact support: request received",
                ("support:contact_sent",),
                action=a.contact_sent,
            ),
        ),
    ),
    Journey(
        4,
        "grace",
        "grace@outlook.com: converting a personal account to a work account",
        (
            Step(
                "convert",
                "Convert your user ID to a work account",
                ("accounts:convert_start",),
                action=a.grace_start,
            ),
            Step(
                "convert-personal-address",
                "A personal address refused",
                ("accounts:convert_start",),
                action=a.grace_personal_address,
            ),
            Step(
                "signup-code",
                "Enter your signup code",
                ("accounts:convert_code",),
                action=a.grace_code_page,
            ),
            Step("mailbox-code", "Dev mailbox: the signup code", action=a.grace_code_email),
            Step(
                "country",
                "Country or region of the organisation",
                ("accounts:convert_country",),
                action=a.grace_country,
            ),
            Step(
                "country-missing",
                "Country or region not chosen: the error",
                ("accounts:convert_country",),
                action=a.grace_country_missing,
            ),
            Step(
                "country-confirm",
                "Check the country or region (it cannot change later)",
                ("accounts:convert_country_confirm",),
                action=a.grace_country_confirm,
            ),
            Step(
                "finish",
                "Last step: sign in with the work account",
                ("accounts:convert_finish",),
                action=a.grace_finish,
            ),
            Step("standin-sign-up", "The stand-in's sign-up form", action=a.grace_standin_sign_up),
            Step(
                "standin-verify",
                "The stand-in asks for the emailed code",
                action=a.grace_standin_verify,
            ),
            Step(
                "dashboard",
                "Dashboard of the converted account",
                ("agreements:dashboard",),
                action=a.grace_dashboard,
            ),
        ),
    ),
    Journey(
        5,
        "sign-in-errors",
        "Sign-in refusals E02–E06",
        (
            Step(
                "e02",
                "E02: domain restricted for automatic sign-up",
                ("entra:callback",),
                action=a.e02,
            ),
            Step("e03", "E03: self-service sign-up turned off", ("entra:callback",), action=a.e03),
            Step(
                "e04",
                "E04: the domain's administrator blocks sign-up",
                ("entra:callback",),
                action=a.e04,
            ),
            Step(
                "e05", "E05: no account in the managed directory", ("entra:callback",), action=a.e05
            ),
            Step(
                "e06",
                "E06: a personal account of a work-account user",
                ("entra:callback",),
                action=a.e06,
            ),
        ),
    ),
    Journey(
        6,
        "admin",
        "admin@contoso.com: the admin's first visit",
        (
            Step(
                "sign-in",
                "Opening /admin/ signed out: the sign-in page",
                ("accounts:sign_in",),
                action=a.admin_first_visit,
            ),
            Step(
                "register",
                "Registration on the way to the admin",
                ("accounts:register",),
                action=a.admin_registers,
            ),
            Step("index", "The admin's home", ("admin:index",), action=a.admin_index),
            Step(
                "permissions",
                "Change list: permissions",
                ("admin:agreements_permissiongrant_changelist",),
                path="/admin/agreements/permissiongrant/",
            ),
            Step(
                "agreement",
                "Change form: an agreement with its contacts and permissions",
                ("admin:agreements_agreement_change",),
                action=a.admin_agreement,
            ),
            Step(
                "add-permission",
                "Add form: a permission",
                ("admin:agreements_permissiongrant_add",),
                path="/admin/agreements/permissiongrant/add/",
            ),
            Step(
                "sign-in-again",
                "Making an Administrator after an old sign-in: sign in again",
                ("accounts:step_up",),
                action=a.admin_step_up,
            ),
        ),
    ),
    Journey(
        7,
        "support",
        "support@vlsc.example: the support console",
        (
            Step(
                "first-page",
                "Where support staff land after signing in",
                ("agreements:dashboard", "accounts:register", "support:lookup"),
                action=a.support_first_page,
            ),
            Step("console", "Support console: look up a person", ("support:lookup",), "/support/"),
            Step(
                "person",
                "A person: summary and timeline",
                ("support:person",),
                action=a.support_person,
            ),
            Step("queue", "Request queue", ("support:queue",), path="/support/queue/"),
            Step("request", "A support request", ("support:request",), action=a.support_request),
            Step(
                "overview",
                "Support overview: trends over 30 days",
                ("support:overview",),
                path="/support/overview/",
                optional=True,
            ),
        ),
    ),
    Journey(
        8,
        "harry",
        "harry@woodgrove.com: signed in, with no contact role and no permission",
        (
            Step(
                "dashboard",
                "Dashboard: no permissions are associated with the account",
                ("agreements:dashboard",),
                action=a.harry_dashboard,
            ),
        ),
    ),
)
