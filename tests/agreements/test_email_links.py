"""Every email links to the portal's configured address (``PORTAL_URL``), and the welcome email's
copy fits the recipient: an address already registered is told to sign in and see the agreement,
any other to register."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.core import mail

from accounts.services import registration as registrations
from agreements import services
from agreements.models import PermissionGrant
from notifications.models import OutboundEmail
from tests.agreements.conftest import make_user
from vlsc_portal.links import portal_link

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
PORTAL = "http://portal.example:8080"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def portal(settings):
    settings.PORTAL_URL = PORTAL
    return PORTAL


def links_in(body: str) -> list[str]:
    return re.findall(r"https?://[^\s,]+", body)


def welcome_to(email: str) -> str:
    return OutboundEmail.objects.get(kind="agreement_welcome", to=email).body


def test_an_unregistered_address_is_told_to_register_at_the_portal(portal, contoso, superuser):
    services.permission_grant(
        agreement=contoso, email="new@contoso.com", kind=Kind.DOWNLOADS, actor=superuser
    )
    body = welcome_to("new@contoso.com")
    assert "To use it, register" in body
    assert "already registered" not in body
    assert links_in(body) == [f"{PORTAL}/"]


def test_a_registered_address_is_told_to_sign_in_and_see_the_agreement(portal, contoso, superuser):
    make_user("keys@contoso.com")  # verified by an active user
    services.permission_grant(
        agreement=contoso, email="keys@contoso.com", kind=Kind.PRODUCT_KEYS, actor=superuser
    )
    body = welcome_to("keys@contoso.com")
    assert "already registered" in body
    assert "sign in" in body and "V1234567" in body
    assert "register:" not in body and "invitation to register" not in body
    assert links_in(body) == [f"{PORTAL}/agreements/V1234567/"]


def test_an_address_verified_only_by_a_deactivated_user_is_told_to_register(
    portal, contoso, superuser
):
    make_user("gone@contoso.com", is_active=False)
    services.permission_grant(
        agreement=contoso, email="gone@contoso.com", kind=Kind.DOWNLOADS, actor=superuser
    )
    assert "To use it, register" in welcome_to("gone@contoso.com")


def test_the_verification_link_is_on_the_portal_address_whatever_host_was_asked(
    portal, client, eager_celery, settings, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/", {"email": "licensing@fabrikam.com"}, HTTP_HOST="other.example")
    [link] = links_in(mail.outbox[-1].body)
    assert link.startswith(f"{PORTAL}/register/confirm/")
    assert registrations.pending_registration(user=user) is not None


@pytest.mark.parametrize("bad", ["", "agreements/", "https://evil.example/"])
def test_portal_link_takes_only_a_path_on_the_portal(portal, bad):
    assert portal_link("/dashboard/") == f"{PORTAL}/dashboard/"
    with pytest.raises(ValueError):
        portal_link(bad)


def test_make_run_gives_every_process_portal_url_from_its_port():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8080"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.replace("\\\n", " ")  # one line per command
    honcho = next(line for line in dry.splitlines() if "honcho" in line)
    assert "PORTAL_URL=http://localhost:8080 " in honcho
    assert "PORTAL_URL=http://localhost:8080 " in next(
        line for line in dry.splitlines() if "seed_demo" in line and "manage.py" in line
    )
