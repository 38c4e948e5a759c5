"""No parameter that redirects sends anyone off the portal: sign-in's ``next`` (through the
whole sign-in), the admin's login and logout, sign-out, and the verification link's way back
after signing in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from accounts.models import Registration
from accounts.services import registration as registrations
from agreements.models import PermissionGrant
from agreements.services import sync_staff_access
from tests.accounts.conftest import make_user
from tests.accounts.standin_driver import sign_in_at_standin

pytestmark = pytest.mark.django_db

# As they appear in a query string (the server decodes them once).
PAYLOADS = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/%5Cevil.example",  # /\evil.example: browsers read the backslash as a slash
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "javascript:alert(document.domain)",
    "%2F%2Fevil.example",
    "%252F%252Fevil.example",  # //evil.example encoded twice
    "https:evil.example",
    "///evil.example",
    "%09//evil.example",  # browsers drop tabs and newlines in URLs
    "http://testserver@evil.example/",
    "//testserver.evil.example/",
]


def stays_on_the_portal(location: str, *, base: str = "http://testserver/sign-in/") -> bool:
    """Where a browser would go from ``location`` stays on this portal (read as browsers read
    it: tabs and newlines dropped, backslashes as slashes)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").strip()
    target = urlsplit(urljoin(base, cleaned))
    return target.scheme in ("http", "https") and target.netloc == "testserver"


def test_the_check_itself_tells_the_portal_from_elsewhere():
    assert stays_on_the_portal("/dashboard/")
    assert stays_on_the_portal("%2F%2Fevil.example")  # a relative path on the portal
    for location in ["//evil.example", "/\\evil.example", "\t//evil.example", "javascript:x"]:
        assert not stays_on_the_portal(location), location


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sign_in_never_returns_to_another_site(client, entra, payload):
    response = client.post(f"/sign-in/?next={payload}", {"email": "alice@contoso.com"})
    assert response.status_code == 302
    callback = sign_in_at_standin(response["Location"])
    response = client.get(callback)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert stays_on_the_portal(response["Location"]), response["Location"]


def test_sign_in_returns_to_the_portal_page_asked_for(client, entra):
    response = client.post(
        "/sign-in/?next=/agreements/request-access/", {"email": "alice@contoso.com"}
    )
    response = client.get(sign_in_at_standin(response["Location"]))
    assert response["Location"] == "/agreements/request-access/"


@pytest.fixture
def administrator(db):
    from tests.agreements.conftest import make_agreement
    from tests.agreements.conftest import make_user as make_verified_user

    contoso = make_agreement("V1234567")
    PermissionGrant.objects.create(
        agreement=contoso, email="admin@contoso.com", kind=PermissionGrant.Kind.ADMINISTRATOR
    )
    user = make_verified_user("admin@contoso.com")
    sync_staff_access(user=user)
    return user


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_admin_login_never_sends_anyone_elsewhere(client, administrator, payload):
    response = client.get(f"/admin/login/?next={payload}")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?")
    [next_url] = parse_qs(urlsplit(response["Location"]).query)["next"]
    assert stays_on_the_portal(next_url), next_url
    client.force_login(administrator)
    response = client.get(f"/admin/login/?next={payload}")
    assert response.status_code == 302
    assert stays_on_the_portal(response["Location"]), response["Location"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_admin_logout_never_sends_anyone_elsewhere(client, administrator, payload):
    client.force_login(administrator)
    response = client.post(f"/admin/logout/?next={payload}", {"next": payload})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert stays_on_the_portal(response["Location"]), response["Location"]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_sign_out_comes_back_only_to_the_portal(client, entra, payload):
    client.force_login(make_user("alice@contoso.com"))
    response = client.post(
        f"/sign-out/?next={payload}&post_logout_redirect_uri={payload}",
        {"next": payload, "post_logout_redirect_uri": payload},
    )
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{entra.http_url}/")
    assert parse_qs(urlsplit(location).query)["post_logout_redirect_uri"] == ["http://testserver/"]


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_the_verification_links_sign_in_comes_back_to_the_link_only(client, payload):
    bob = make_user("bob@fabrikam.com")
    registrations.start_registration(
        user=bob, invitation_address="licensing@fabrikam.com", confirm_url="http://testserver/c/"
    )
    token = registrations.make_token(Registration.objects.get())
    link = f"/register/confirm/{token}/"
    response = client.get(f"{link}?next={payload}")
    assert response.status_code == 200
    [sign_in_url] = re.findall(r'href="(/sign-in/\?[^"]+)"', response.content.decode())
    query = parse_qs(urlsplit(sign_in_url.replace("&amp;", "&")).query)
    [next_url] = query["next"]
    assert next_url.startswith(link)
    assert stays_on_the_portal(next_url)
