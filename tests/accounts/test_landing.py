"""The landing page: rendered once per language for anonymous visitors (each process keeps it with
the static fragments), and for everyone else as they are."""

from __future__ import annotations

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.test import Client, RequestFactory

from accounts.views.signin import CSRF_PLACEHOLDER
from tests.accounts.conftest import make_user

pytestmark = pytest.mark.django_db
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "landing-test"}


@pytest.fixture
def fragments(settings):
    settings.CACHES = {**settings.CACHES, "static_fragments": LOCMEM}
    caches["static_fragments"].clear()
    yield caches["static_fragments"]
    caches["static_fragments"].clear()


def test_an_anonymous_visitor_gets_the_page_kept_for_the_language(client, fragments):
    first = client.get("/").content.decode()
    assert "Sign in with your Work Account" in first
    kept = fragments.get("landing-page:en")
    # The kept page holds no visitor's CSRF token: the footer's language switcher gets each
    # visitor's own.
    assert CSRF_PLACEHOLDER in kept and CSRF_PLACEHOLDER not in first
    token = client.cookies["vlsc_csrftoken"].value
    assert first == kept.replace(
        CSRF_PLACEHOLDER, first.split('csrfmiddlewaretoken" value="')[1][:64]
    )
    other = Client(enforce_csrf_checks=True)
    second = other.get("/").content.decode()
    assert other.cookies["vlsc_csrftoken"].value != token
    assert second.replace(CSRF_PLACEHOLDER, "") != first  # a different token in it
    assert other.post("/i18n/setlang/", {"language": "fr", "next": "/"}).status_code == 403
    response = other.post(
        "/i18n/setlang/",
        {
            "language": "fr",
            "next": "/",
            "csrfmiddlewaretoken": second.split('csrfmiddlewaretoken" value="')[1][:64],
        },
    )
    assert response.status_code == 302


def test_a_signed_in_person_gets_their_own_header(client, fragments):
    client.get("/")  # kept for anonymous visitors
    client.force_login(make_user("bob@fabrikam.com"))
    page = client.get("/").content.decode()
    assert "Signed in as <strong>bob@fabrikam.com</strong>" in page
    assert "Sign out" in page


def test_a_waiting_message_is_shown_once(client, fragments):
    client.get("/")
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(constants.INFO, "You were signed out: a session lasts at most 8 hours.")
    response = client.get("/")  # no message yet: the kept page
    storage.update(response)
    client.cookies.update(response.cookies)
    page = client.get("/").content.decode()
    assert "You were signed out" in page
    assert "You were signed out" not in client.get("/").content.decode()


def test_a_signed_in_person_is_offered_the_dashboard_and_no_sign_in(client, fragments):
    client.get("/")  # kept for anonymous visitors: not served to the signed-in
    client.force_login(make_user("bob@fabrikam.com"))
    page = client.get("/").content.decode()
    assert '<a class="button" href="/dashboard/">Go to your dashboard</a>' in page
    assert "Sign in with your Work Account" not in page and "Submit" not in page


def test_support_staff_start_at_the_support_console(client, fragments, rf):
    from django.contrib.auth.models import Group

    from accounts.adapters import AccountAdapter
    from support.selectors import SUPPORT_GROUP

    support = make_user("support@vlsc.example")
    support.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client.force_login(support)
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/support/")
    request = rf.get("/")
    request.user = support
    assert AccountAdapter().get_login_redirect_url(request) == "/support/"
    request.user = make_user("bob@fabrikam.com")
    assert AccountAdapter().get_login_redirect_url(request) == "/dashboard/"
