"""Security headers: a strict Content-Security-Policy on every page, a Permissions-Policy, and
``Cache-Control: no-store`` on every page that shows a signed-in person's data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from agreements.models import AgreementContact, PermissionGrant
from agreements.services import sync_staff_access
from support.selectors import SUPPORT_GROUP
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent

STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice in {header}"
        parsed[name] = values
    return parsed


@pytest.fixture
def personas(db):
    """An anonymous visitor, a contact of V1234567, its administrator and support staff, each
    with a client."""
    contoso = make_agreement("V1234567")
    AgreementContact.objects.create(
        agreement=contoso, role=AgreementContact.Role.PRIMARY_CONTACT, email="alice@contoso.com"
    )
    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind=PermissionGrant.Kind.ADMINISTRATOR
    )
    administrator = make_user("admin@contoso.com")
    sync_staff_access(user=administrator)
    staff = make_user("support@vlsc.example")
    staff.groups.add(Group.objects.get_or_create(name=SUPPORT_GROUP)[0])
    clients = {"anonymous": Client()}
    for name, user in [
        ("alice", make_user("alice@contoso.com")),
        ("administrator", administrator),
        ("staff", staff),
    ]:
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


ANONYMOUS_PAGES = ["/", "/sign-in/", "/support/contact/", "/no-such-page/", "/admin/"]
SIGNED_IN_PAGES = {
    "alice": [
        "/",
        "/dashboard/",
        "/register/",
        "/register/status/",
        "/agreements/V1234567/",
        "/agreements/request-access/",
        "/support/contact/",
        "/no-such-page/",
    ],
    "administrator": [
        "/admin/",
        "/admin/agreements/agreement/",
        "/admin/agreements/permissiongrant/add/",
        "/admin/agreements/invitation/",
        "/agreements/V1234567/",
    ],
    "staff": [
        "/support/",
        "/support/queue/",
        "/support/overview/",
        "/support/person/?email=alice%40contoso.com",
    ],
}


def test_every_page_gets_a_strict_content_security_policy(personas, settings):
    settings.ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com"
    settings.STANDIN_HTTP_URL = ""
    pages = [("anonymous", url) for url in ANONYMOUS_PAGES] + [
        (who, url) for who, urls in SIGNED_IN_PAGES.items() for url in urls
    ]
    strict_csrf = Client(enforce_csrf_checks=True)
    responses = [(who, url, personas[who].get(url)) for who, url in pages]
    responses.append(("anonymous", "csrf", strict_csrf.post("/sign-in/", {"email": "a@b.com"})))
    for who, url, response in responses:
        assert response.status_code < 500, (who, url)
        policy = directives(response)
        assert policy == {
            **STRICT,
            "form-action": ["'self'", "https://login.microsoftonline.com"],
        }, (who, url, response["Content-Security-Policy"])


def test_form_action_allows_the_configured_identity_provider_and_nothing_else(client, settings):
    """The sign-in and sign-out forms are redirected to the authority (Chrome applies
    form-action to redirects): its origin, and in development the stand-in's browser side."""
    settings.ENTRA_AUTHORITY_HOST = "https://127.0.0.1:8443"
    settings.STANDIN_HTTP_URL = "http://localhost:8001"
    assert directives(client.get("/"))["form-action"] == [
        "'self'",
        "https://127.0.0.1:8443",
        "http://localhost:8001",
    ]
    settings.ENTRA_AUTHORITY_HOST = "https://login.microsoftonline.com/"
    settings.STANDIN_HTTP_URL = ""
    assert directives(client.get("/"))["form-action"] == [
        "'self'",
        "https://login.microsoftonline.com",
    ]


def test_browser_features_the_portal_does_not_use_are_turned_off(client):
    header = client.get("/")["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in header.split(","))
    for feature in ["camera", "microphone", "geolocation", "payment", "usb", "serial", "hid"]:
        assert features[feature] == "()", feature


def test_pages_with_a_signed_in_persons_data_are_not_stored(personas):
    for who, urls in SIGNED_IN_PAGES.items():
        for url in urls:
            response = personas[who].get(url)
            assert "no-store" in response.get("Cache-Control", ""), (who, url)
            assert "private" in response["Cache-Control"], (who, url)


def test_public_pages_stay_cacheable(personas):
    for url in ["/", "/sign-in/", "/support/contact/"]:
        response = personas["anonymous"].get(url)
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", ""), url


def test_a_verification_link_page_is_not_stored_even_for_nobody_signed_in(client, db):
    from accounts.models import Registration
    from accounts.services import registration as registrations
    from tests.accounts.conftest import make_user as make_work_user

    bob = make_work_user("bob@fabrikam.com")
    registrations.start_registration(
        user=bob, invitation_address="licensing@fabrikam.com", confirm_url="http://testserver/c/"
    )
    token = registrations.make_token(Registration.objects.get())
    response = client.get(f"/register/confirm/{token}/")
    assert response.status_code == 200
    assert "bob@fabrikam.com" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_portal_template_has_inline_script_or_style():
    """The policy forbids them; this finds one before a browser refuses it. The stand-in is a
    separate development app with no policy of its own."""
    templates = [
        path
        for path in ROOT.glob("**/templates/**/*.html")
        if not {".venv", "node_modules", "entra_standin"} & set(path.relative_to(ROOT).parts)
    ]
    assert len(templates) > 40
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for pattern, what in INLINE
        if pattern.search(path.read_text())
    ]
    assert not found, found
