"""Four languages and the person's time zone (README "Languages and time zones"): how the language
of a request is chosen, the footer's switcher and its attacks, the preferences page, the time
zone middleware, the one ``|datetime`` filter, plural forms and emails in the recipient's
language. The Japanese strings come from locale/ja (compiled by ``make install-test``; the
``compiled`` fixture compiles a catalogue newer than its .mo)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import User
from accounts.services import registration as registrations
from notifications.services import render_email
from support.services import answer_support_request, open_support_request
from tests.accounts.conftest import make_user

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SETLANG = "/i18n/setlang/"


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The catalogues compiled (compilemessages skips a .mo newer than its .po)."""
    call_command("compilemessages", ignore_patterns=[".venv", "node_modules", "var"], verbosity=0)
    translation.trans_real._translations = {}  # drop catalogues loaded before compiling
    translation.trans_real._active = translation.trans_real.Local()


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English (a request leaves its language active in the thread)."""
    translation.activate("en")
    yield
    translation.activate("en")


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang>"
    return match.group(1)


def japanese(message: str) -> str:
    with translation.override("ja"):
        text = gettext(message)
    assert JAPANESE.search(text), f"no Japanese translation of {message!r}"
    return text


# --- which language a request gets ----------------------------------------------------------


def test_accept_language_chooses_the_language_of_an_anonymous_visitor(client):
    response = client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9,en;q=0.5")
    assert html_lang(response) == "ja"
    assert response["Content-Language"] == "ja"
    assert japanese("Business email address") in response.content.decode()
    assert html_lang(client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl")) == "en"
    assert html_lang(client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="de-AT,de;q=0.8")) == "de"


def test_the_switchers_cookie_wins_over_accept_language(client):
    client.post(SETLANG, {"language": "fr", "next": "/sign-in/"})
    assert html_lang(client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="ja")) == "fr"


def test_a_signed_in_persons_stored_language_wins_and_their_browser_gets_the_cookie(client):
    user = make_user("bob@fabrikam.com")
    User.objects.filter(pk=user.pk).update(language="de")
    client.cookies["django_language"] = "fr"
    client.force_login(user)
    response = client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="ja")
    assert html_lang(response) == "de"
    assert response.cookies["django_language"].value == "de"
    client.post("/sign-out/")
    assert html_lang(client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="ja")) == "de"  # the cookie


def test_the_language_of_the_first_sign_in_is_stored_for_someone_who_never_chose(client):
    user = make_user("bob@fabrikam.com")
    with translation.override("ja"):
        client.force_login(user)
    user.refresh_from_db()
    assert user.language == "ja"
    with translation.override("fr"):  # a later sign-in does not overwrite it
        Client().force_login(user)
    user.refresh_from_db()
    assert user.language == "ja"


# --- the switcher -----------------------------------------------------------------------------


def test_every_page_has_a_labelled_switcher_that_comes_back_to_the_page(client):
    page = client.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    form = page.split('class="language-switcher')[1].split("</form>")[0]
    assert 'action="/i18n/setlang/"' in page and 'method="post"' in page
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="hidden" name="next" value="/sign-in/">' in form
    assert '<label for="language-switcher">' in form and 'id="language-switcher"' in form
    for code, name in [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("ja", "日本語")]:
        assert f'lang="{code}"' in form and name in form
    assert '<option value="ja" lang="ja" selected>' in form
    assert japanese("Change language") in form


def test_the_switcher_sets_the_cookie_and_returns_to_the_page(client):
    response = client.post(SETLANG, {"language": "ja", "next": "/support/contact/"})
    assert response.status_code == 302
    assert response["Location"] == "/support/contact/"
    assert response.cookies["django_language"].value == "ja"
    assert response.cookies["django_language"]["httponly"]
    assert response.cookies["django_language"]["samesite"] == "Lax"
    assert html_lang(client.get("/support/contact/")) == "ja"


def test_the_switcher_remembers_the_choice_of_a_signed_in_person(client):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    client.post(SETLANG, {"language": "fr", "next": "/dashboard/"})
    user.refresh_from_db()
    assert user.language == "fr"
    other = Client()  # another browser of the same person
    other.force_login(user)
    assert html_lang(other.get("/sign-in/", HTTP_ACCEPT_LANGUAGE="de")) == "fr"


@pytest.mark.parametrize(
    "forged", ["xx", "en-us", "ja<script>", "", "de;q=1", "f" * 10_000, "zh-hans"]
)
def test_a_forged_language_is_refused_with_a_clear_400_and_changes_nothing(client, forged):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(language="de")
    client.cookies["django_language"] = "de"
    response = client.post(SETLANG, {"language": forged, "next": "/dashboard/"})
    assert response.status_code == 400
    with translation.override("de"):  # the refusal speaks the person's language
        refused = gettext("That language is not one the portal offers")
    assert refused != "That language is not one the portal offers"
    assert refused in response.content.decode()
    assert "django_language" not in response.cookies
    user.refresh_from_db()
    assert user.language == "de"
    anonymous = Client().post(SETLANG, {"language": forged, "next": "/"})
    assert anonymous.status_code == 400 and "django_language" not in anonymous.cookies


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_a_next_address_off_the_site_is_not_followed(client, next_url):
    response = client.post(SETLANG, {"language": "de", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = client.post(
        SETLANG, {"language": "de", "next": next_url}, HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == "/"


def test_the_switcher_needs_the_csrf_token_and_a_post():
    client = Client(enforce_csrf_checks=True)
    assert client.post(SETLANG, {"language": "fr", "next": "/"}).status_code == 403
    assert client.get(SETLANG, {"language": "fr", "next": "/"}).status_code == 405


def test_an_oversized_body_is_refused_without_a_server_error(client):
    response = client.post(
        SETLANG, {"language": "fr", "next": "/" + "a" * 3_000_000}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400


# --- the preferences page ---------------------------------------------------------------------


def test_preferences_need_a_sign_in(client):
    response = client.get("/account/preferences/")
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_preferences_store_language_and_time_zone(client):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    page = client.get("/account/preferences/").content.decode()
    assert '<option value="Asia/Tokyo">Asia/Tokyo</option>' in page
    response = client.post("/account/preferences/", {"language": "ja", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert response["Location"] == "/account/preferences/"
    assert response.cookies["django_language"].value == "ja"
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("ja", "Asia/Tokyo")
    page = client.get("/account/preferences/").content.decode()
    assert '<html lang="ja">' in page
    assert "JST</time>" in page
    assert '<option value="ja" selected>' in page
    assert '<option value="Asia/Tokyo" selected>' in page


def test_preferences_start_from_what_the_portal_uses_now(client):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(language="", time_zone="")
    page = client.get("/account/preferences/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<option value="de" selected>' in page
    assert '<option value="UTC" selected>' in page


@pytest.mark.parametrize(
    "data, field",
    [
        ({"language": "xx", "time_zone": "UTC"}, "language"),
        ({"language": "", "time_zone": "UTC"}, "language"),
        ({"language": "fr", "time_zone": ""}, "time_zone"),
        ({"language": "fr", "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"language": "fr", "time_zone": "../../etc/passwd"}, "time_zone"),
        ({"language": "fr", "time_zone": "Europe/Paris" * 1000}, "time_zone"),
        # In the tz database's folder but no place: the server's own zone, the placeholder.
        ({"language": "fr", "time_zone": "localtime"}, "time_zone"),
        ({"language": "fr", "time_zone": "Factory"}, "time_zone"),
    ],
)
def test_preferences_refuse_bad_input_with_the_error_summary(client, data, field):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(language="de", time_zone="Europe/Berlin")
    response = client.post("/account/preferences/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-summary"' in page and f'href="#id_{field}"' in page
    assert 'aria-invalid="true"' in page
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("de", "Europe/Berlin")


def test_preferences_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("bob@fabrikam.com"))
    assert client.post("/account/preferences/", {"language": "fr"}).status_code == 403


def test_the_footer_links_to_preferences_for_a_signed_in_person_only(client):
    assert "/account/preferences/" not in client.get("/sign-in/").content.decode()
    client.force_login(make_user("bob@fabrikam.com"))
    assert 'href="/account/preferences/"' in client.get("/sign-in/").content.decode()


# --- time zones -------------------------------------------------------------------------------


def shown_zone(client) -> str:
    page = client.get("/account/preferences/").content.decode()
    return re.search(r'<time datetime="[^"]+Z" title="[^"]+ UTC">[^<]* (\S+)</time>', page)[1]


def test_the_browsers_time_zone_is_used_and_stored_once_for_a_signed_in_person(client):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    assert shown_zone(client) == "UTC"  # nothing known yet
    client.cookies["tz"] = "Asia/Tokyo"
    assert shown_zone(client) == "JST"
    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"
    client.cookies["tz"] = "Europe/Berlin"  # the stored zone wins; the page changes it
    assert shown_zone(client) == "JST"


@pytest.mark.parametrize(
    "cookie",
    ["Mars/Olympus_Mons", "../../etc/passwd", "Asia/Tokyo" * 20, "local", "utc", "localtime"],
)
def test_an_invalid_tz_cookie_is_ignored(client, cookie):
    user = make_user("bob@fabrikam.com")
    client.force_login(user)
    client.cookies["tz"] = cookie
    assert shown_zone(client) == "UTC"
    user.refresh_from_db()
    assert user.time_zone == ""


def test_a_stored_zone_that_is_no_longer_valid_is_passed_over_not_a_server_error(client):
    """Written around the form's validator (an update, a zone a tzdata upgrade dropped)."""
    user = make_user("bob@fabrikam.com")
    User.objects.filter(pk=user.pk).update(time_zone="Mars/Olympus_Mons")
    client.force_login(user)
    client.cookies["tz"] = "Asia/Tokyo"
    assert shown_zone(client) == "JST"  # the browser's zone instead, and the page renders


def test_an_anonymous_visitors_time_zone_comes_from_the_cookie(client):
    client.cookies["tz"] = "America/New_York"
    page = client.get("/sign-in/").content.decode()
    assert "<footer" in page  # the page rendered; the zone was active while it did
    assert timezone.get_current_timezone_name() == "UTC"  # and is not left active afterwards


# --- the |datetime filter ---------------------------------------------------------------------

WHEN = dt.datetime(2026, 11, 30, 14, 3, tzinfo=dt.UTC)


def render(source: str, **context) -> str:
    return Template("{% load portal_time %}" + source).render(Context(context))


def test_the_filter_shows_the_language_and_time_zone_with_utc_in_the_tooltip():
    with translation.override("en"), timezone.override(dt.UTC):
        assert render("{{ when|datetime }}", when=WHEN) == (
            '<time datetime="2026-11-30T14:03:00Z" title="2026-11-30 14:03 UTC">'
            "Nov. 30, 2026, 2:03 p.m. UTC</time>"
        )
    with translation.override("ja"), timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert render("{{ when|datetime }}", when=WHEN) == (
            '<time datetime="2026-11-30T14:03:00Z" title="2026-11-30 14:03 UTC">'
            "2026年11月30日23:03 JST</time>"
        )
    with translation.override("de"), timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert render('{{ when|datetime:"time" }}', when=WHEN).endswith(">15:03 CET</time>")
        assert render('{{ when|datetime:"date" }}', when=WHEN).endswith(">30. November 2026</time>")


def test_the_filter_takes_dates_and_nothing():
    with translation.override("fr"):
        assert render('{{ d|datetime:"date" }}', d=dt.date(2027, 1, 5)) == (
            '<time datetime="2027-01-05">5 janvier 2027</time>'
        )
    assert render('{{ none|datetime|default:"—" }}', none=None) == "—"


def test_the_filter_refuses_an_unknown_style():
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        render('{{ when|datetime:"century" }}', when=WHEN)


def test_the_admin_shows_times_in_the_persons_time_zone(client):
    admin = User.objects.create_superuser("root", "root@contoso.com", "x", time_zone="Asia/Tokyo")
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{admin.pk}/change/").content.decode()
    joined = timezone.localtime(admin.date_joined, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f'value="{joined:%Y-%m-%d}"' in page
    assert f'value="{joined:%H:%M:%S}"' in page


# --- plural forms -----------------------------------------------------------------------------


def test_plural_forms_per_language():
    singular = "That code is not right. You have %(left)d try left."
    plural = "That code is not right. You have %(left)d tries left."
    with translation.override("en"):
        assert ngettext(singular, plural, 1) % {"left": 1} == singular % {"left": 1}
        assert ngettext(singular, plural, 4) % {"left": 4} == plural % {"left": 4}
    with translation.override("ja"):  # one form (nplurals=1)
        one, four = (ngettext(singular, plural, n) % {"left": n} for n in (1, 4))
        assert JAPANESE.search(one) and one.replace("1", "4") == four
    with translation.override("fr"):  # 0 and 1 are singular in French
        assert ngettext(singular, plural, 0) == ngettext(singular, plural, 1)
        assert ngettext(singular, plural, 1) != ngettext(singular, plural, 2)


def test_the_sign_in_problems_are_translated():
    from accounts.problems import PROBLEMS

    for code in ["E02", "E03", "E04", "E05", "E06"]:
        problem = PROBLEMS[code]
        for text in (problem.message, problem.explanation, problem.next_step, problem.who_can_fix):
            with translation.override("ja"):
                assert JAPANESE.search(str(text)), (code, str(text))


# --- emails in the recipient's language -------------------------------------------------------


def test_render_email_writes_in_the_language_given_and_in_utc():
    with translation.override("fr"), timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        subject, _ = render_email(
            "accounts/email/verification",
            {"registration": None, "link": "x"},
            language="ja",
        )
        assert subject == japanese(
            "Thank you for Registering with the Volume Licensing Service Center"
        )
        assert translation.get_language() == "fr"  # restored
        assert timezone.get_current_timezone_name() == "Asia/Tokyo"


def test_the_verification_email_is_in_the_registrants_stored_language(
    django_capture_on_commit_callbacks,
):
    user = make_user("bob@fabrikam.com")
    User.objects.filter(pk=user.pk).update(language="ja")
    user.refresh_from_db()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        registrations.start_registration(
            user=user,
            invitation_address="licensing@fabrikam.com",
            confirm_url="http://testserver/register/confirm/",
        )
    email = mail.outbox[-1]
    assert email.subject == japanese(
        "Thank you for Registering with the Volume Licensing Service Center"
    )
    assert "UTC" in email.body  # times in emails stay in UTC and say so


def test_supports_answer_reaches_an_anonymous_requester_in_their_language(
    django_capture_on_commit_callbacks,
):
    staff = make_user("support@vlsc.example")
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        request = open_support_request(
            name="Anna",
            email="anna@fabrikam.com",
            topic="sign_in",
            message="Hilfe",
        )
    assert request.language == "de"
    with translation.override("ja"), django_capture_on_commit_callbacks(execute=True):
        answer_support_request(support_request=request, actor=staff, answer="Bitte erneut.")
    with translation.override("de"):
        expected = gettext("Answer to your request %(reference)s") % {
            "reference": request.reference
        }
    assert mail.outbox[-1].subject == expected
    assert expected != f"Answer to your request {request.reference}"


def test_the_user_admin_shows_and_validates_language_and_time_zone(client):
    admin = User.objects.create_superuser("root", "root@contoso.com", "x")
    client.force_login(admin)
    url = f"/admin/accounts/user/{admin.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="language"' in page and 'name="time_zone"' in page
    form = {
        "username": "root",
        "email": "root@contoso.com",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-11-30",
        "date_joined_1": "00:00:00",
        "language": "fr",
        "time_zone": "Mars/Olympus_Mons",
    }
    response = client.post(url, form)
    assert response.status_code == 200  # the form again, with the error
    assert "is not a time zone name" in response.content.decode()
    admin.refresh_from_db()
    assert (admin.language, admin.time_zone) == ("en", "")  # English from the sign-in, unchanged
