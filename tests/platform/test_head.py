"""HEAD answers wherever GET does with no side effect (RFC 9110 9.3.2): the same status and
headers as GET, and no body. A monitor checking ``/healthz`` or the landing page with HEAD got a
405. Two GET-only addresses keep refusing it: the sign-in callback (its flow is single-use) and
the old "cancel this registration" address (it leaves a message)."""

from __future__ import annotations

import pytest

from tests.agreements.conftest import make_user
from tests.support.conftest import support_user  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

ANONYMOUS = ["/", "/sign-in/", "/support/contact/", "/healthz", "/register/confirm/"]
SIGNED_IN = ["/dashboard/", "/agreements/request-access/sent/", "/register/status/"]
SUPPORT = ["/support/", "/support/queue/", "/support/overview/", "/support/person/?user=1"]


def assert_head_is_get_without_body(client, url: str) -> None:
    get = client.get(url)
    head = client.head(url)
    assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
    assert head.content == b""
    assert head.get("Content-Type") == get.get("Content-Type")
    assert head.get("Location") == get.get("Location")


@pytest.mark.parametrize("url", ANONYMOUS + SIGNED_IN + SUPPORT)
def test_anonymous_head_is_get(client, url):
    assert_head_is_get_without_body(client, url)


@pytest.mark.parametrize("url", SIGNED_IN)
def test_signed_in_head_is_get(client, url):
    client.force_login(make_user("alice@contoso.com"))
    assert_head_is_get_without_body(client, url)


@pytest.mark.parametrize("url", SUPPORT)
def test_support_head_is_get(client, support_user, url):  # noqa: F811
    client.force_login(support_user)
    assert_head_is_get_without_body(client, url)


def test_head_on_the_landing_page_says_ok_with_no_body(client):
    response = client.head("/")
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    "url", ["/accounts/entra/login/callback/?code=x&state=y", "/register/cancel/"]
)
def test_the_callback_and_the_old_cancel_address_refuse_head(client, url):
    client.force_login(make_user("alice@contoso.com"))
    assert client.head(url).status_code == 405
