"""The app shell (templates/base.html): messages as labelled notices by level, navigation by
role with the current page marked, the favicon. Browser walks at 1280 and 390 px are in
tests/browser/test_app_shell.py."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, Group
from django.contrib.messages.storage.cookie import CookieStorage
from django.shortcuts import render
from django.test import RequestFactory

from accounts.models import User
from agreements.models import Agreement, PermissionGrant
from agreements.services.staff import sync_staff_access
from support.selectors import SUPPORT_GROUP


def page_with_messages(*added: tuple[int, str]) -> str:
    request = RequestFactory().get("/sign-in/cancelled/")
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    for level, text in added:
        messages.add_message(request, level, text)
    return render(request, "accounts/sign_in_cancelled.html", {"sign_in_url": "/"}).content.decode()


def notices(html: str) -> list[tuple[str, str, str, str]]:
    """(modifier, role, title, text) of each notice."""
    return re.findall(
        r'<div class="notice notice--(\w+)" role="(\w+)">\s*<p class="notice__title">([^<]+)</p>'
        r"\s*<p>([^<]+)</p>",
        html,
    )


def test_each_message_is_a_notice_labelled_in_words_and_only_errors_are_alerts():
    html = page_with_messages(
        (messages.ERROR, "The email was sent too recently."),
        (messages.SUCCESS, "We sent the email again."),
        (messages.WARNING, "Check the address."),
        (messages.INFO, "You have signed out."),
    )
    assert notices(html) == [
        ("error", "alert", "Error:", "The email was sent too recently."),
        ("success", "status", "Success:", "We sent the email again."),
        ("warning", "status", "Warning:", "Check the address."),
        ("info", "status", "Information:", "You have signed out."),
    ]


def test_a_page_without_messages_has_no_live_region():
    html = page_with_messages()
    assert 'role="alert"' not in html and 'role="status"' not in html


@pytest.fixture
def person(db) -> User:
    return User.objects.create(
        username="bob", email="bob@fabrikam.com", first_name="Bob", last_name="Fabrikam"
    )


def nav_items(html: str) -> list[tuple[str, str]]:
    """(label, aria-current or "") of each item of the portal's navigation."""
    nav = re.search(r'<nav aria-label="Portal" class="app-nav">(.*?)</nav>', html, re.S)
    assert nav, "no portal navigation"
    return [
        (label, current or "")
        for current, label in re.findall(
            r'<a href="[^"]+"(?: aria-current="(\w+)")?>([^<]+)</a>', nav[1]
        )
    ]


def test_a_person_sees_the_everyday_items_with_the_current_page_marked(client, person):
    client.force_login(person)
    html = client.get("/register/").content.decode()
    assert nav_items(html) == [
        ("Dashboard", ""),
        ("Registration status", "true"),  # registering belongs to it
        ("Contact support", ""),
    ]
    assert "Signed in as <strong>Bob Fabrikam</strong> bob@fabrikam.com" in html
    assert nav_items(client.get("/support/contact/").content.decode())[-1] == (
        "Contact support",
        "page",
    )


def test_support_staff_also_see_the_support_console(client, person):
    person.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client.force_login(person)
    assert nav_items(client.get("/support/").content.decode()) == [
        ("Dashboard", ""),
        ("Registration status", ""),
        ("Support console", "page"),
        ("Contact support", ""),
    ]
    assert ("Support console", "true") in nav_items(client.get("/support/queue/").content.decode())


def test_administrators_also_see_the_administration(client, person):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    agreement = Agreement.objects.create(
        number="E5550101", program="ea", customer="Fabrikam", start_date="2025-01-01"
    )
    PermissionGrant.objects.create(
        agreement=agreement, email=person.email, kind=PermissionGrant.Kind.ADMINISTRATOR
    )
    assert sync_staff_access(user=person)
    client.force_login(person)
    items = nav_items(client.get("/dashboard/").content.decode())
    assert items == [
        ("Dashboard", "page"),
        ("Registration status", ""),
        ("Administration", ""),
        ("Contact support", ""),
    ]


def test_anonymous_visitors_get_no_portal_navigation(client, db):
    html = client.get("/support/contact/").content.decode()
    assert 'class="app-nav"' not in html
    assert '<a class="app-header__signin" href="/sign-in/">Sign in</a>' in html


def test_the_pages_link_an_svg_favicon_and_favicon_ico_leads_to_it(client, db):
    html = client.get("/sign-in/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/favicon.svg")


@pytest.mark.parametrize("template", ["conversion_steps", "registration_steps"])
def test_the_step_indicator_marks_the_current_step_in_words_not_only_colour(template):
    from django.template.loader import render_to_string

    html = render_to_string(f"includes/{template}.html", {"current": 2})
    steps = re.findall(
        r"<li([^>]*)>([^<]+)<span[^>]*>: </span><span[^>]*>([^<]+)</span></li>", html
    )
    assert [(attrs.strip(), state) for attrs, _, state in steps[:3]] == [
        ('class="steps__done"', "Done"),
        ('aria-current="step"', "You are here"),
        ("", "To do"),
    ]
    assert html.count('aria-current="step"') == 1


FRAGMENTS = {
    "dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    "kept": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shell-test"},
}


def shell(html: str) -> str:
    """The page's head, header and footer, without the CSRF tokens (masked afresh each time)."""
    parts = [
        re.search(r"<head>.*?</head>", html, re.S)[0],
        re.search(r'<header class="app-header">.*?</header>', html, re.S)[0],
        re.search(r'<footer class="app-footer">.*?</footer>', html, re.S)[0],
    ]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", "".join(parts))


def test_the_app_shell_kept_in_each_process_is_the_one_rendered_afresh(settings, person):
    """Production keeps the shell's fixed parts (the asset links, the brand, the navigation by
    language, page, role and permission, the language switcher's choices) with the static
    fragments; each visitor, page and language must still get exactly what a fresh render
    gives, whoever was served before them."""
    from allauth.account.models import EmailAddress
    from django.core.cache import caches
    from django.test import Client

    staff = User.objects.create(username="sam", email="sam@contoso.com")
    staff.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    agreement = Agreement.objects.create(
        number="E5550102", program="ea", customer="Fabrikam", start_date="2025-01-01"
    )
    PermissionGrant.objects.create(
        agreement=agreement, email=person.email, kind=PermissionGrant.Kind.ADMINISTRATOR
    )
    sync_staff_access(user=person)
    plain = User.objects.create(username="ann", email="ann@contoso.com")
    users = {"person": plain, "support": staff, "administrator": person}
    clients = {"anonymous": Client()}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    cases = [
        (who, path, language)
        for language in ("en", "fr")
        for who, path in (
            ("anonymous", "/support/contact/"),
            ("anonymous", "/sign-in/"),
            ("person", "/register/"),
            ("person", "/support/contact/"),
            ("support", "/support/"),
            ("support", "/support/queue/"),
            ("support", "/support/contact/"),  # as the person's, but for the permission
            ("administrator", "/dashboard/"),
            ("administrator", "/register/"),
        )
    ]

    def page(who: str, path: str, language: str) -> str:
        if who in users:  # a signed-in person's language is the one stored for them
            User.objects.filter(pk=users[who].pk).update(language=language)
        response = clients[who].get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, (who, path)
        return shell(response.content.decode())

    settings.CACHES = {**settings.CACHES, "static_fragments": FRAGMENTS["dummy"]}
    fresh = {case: page(*case) for case in cases}
    assert len(set(fresh.values())) == len(cases)  # every case differs from every other
    settings.CACHES = {**settings.CACHES, "static_fragments": FRAGMENTS["kept"]}
    caches["static_fragments"].clear()
    try:
        for case in [*cases, *reversed(cases)]:
            assert page(*case) == fresh[case], case
    finally:
        caches["static_fragments"].clear()
