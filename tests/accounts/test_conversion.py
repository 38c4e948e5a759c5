"""Flow C: converting a legacy personal-account user to a work account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.demo import GRACE_MSA_OID, seed_demo_users
from accounts.models import Conversion, OrganisationCountry, Registration, SignupCode, User
from accounts.services import conversion as conversions
from accounts.services import signin
from accounts.views import conversion as views
from tests.accounts.conftest import make_user, proven, signed_in_with

pytestmark = pytest.mark.django_db
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
GRACE_UID = f"{GRACE_MSA_OID}.{CONSUMER}"
WORK_CLAIMS = {"oid": "w-oid", "tid": "litware-tid", "preferred_username": "grace@litware.com"}
State = Conversion.State


@pytest.fixture(autouse=True)
def _emails_leave_at_once(monkeypatch):
    """The test's transaction never commits: hand emails over as if it had."""
    monkeypatch.setattr(
        "notifications.services.transaction.on_commit", lambda func, *a, **k: func()
    )


@pytest.fixture
def grace():
    seed_demo_users()
    return User.objects.get(username="grace")


@pytest.fixture
def grace_client(client, grace):
    session = client.session
    session[views.SESSION_CONTEXT] = {
        "user": grace.pk,
        "uid": GRACE_UID,
        "address": "grace@outlook.com",
    }
    session.save()
    return client


def last_code() -> str:
    return re.search(r"signup code is: (\d{6})", mail.outbox[-1].body).group(1)


def start(client, work_email="grace@litware.com", name="Grace Litware"):
    return client.post("/convert/", {"name": name, "work_email": work_email})


def test_a_legacy_user_is_asked_to_convert_and_not_let_in(grace_client):
    page = grace_client.get("/convert/")
    assert page.status_code == 200
    assert "Convert your user ID to a work account" in page.content.decode()
    assert "_auth_user_id" not in grace_client.session


def test_the_pages_need_the_personal_sign_in_first(client):
    for url in ["/convert/", "/convert/code/", "/convert/country/", "/convert/finish/"]:
        assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("address", "status", "words"),
    [
        ("grace@gmail.com", 400, "personal email address"),
        ("grace@outlook.com", 400, "personal email address"),
        ("not an address", 400, "Enter a valid email address"),
        ("x" * 250 + "@litware.com", 400, "There is a problem"),
    ],
)
def test_bad_work_addresses_are_refused_with_a_clear_message(grace_client, address, status, words):
    response = start(grace_client, address)
    assert response.status_code == status
    assert words in response.content.decode()
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("how", ["verified", "proven at sign-in"])
def test_an_address_another_user_owns_is_refused(grace_client, how):
    other = make_user("someone@litware.com", username="other-grace")
    if how == "verified":
        EmailAddress.objects.create(user=other, email="grace@litware.com", verified=True)
    else:
        proven(other, "Grace@Litware.com")
    response = start(grace_client)
    assert response.status_code == 409
    assert "already belongs to another user" in response.content.decode()


@pytest.mark.parametrize(
    "claims",
    [{}, {"email": "grace@litware.com"}, {"email": "grace@litware.com", "xms_edov": False}],
    ids=["nothing", "email alone", "domain not verified"],
)
def test_a_sign_in_address_nothing_proved_does_not_take_the_address(grace_client, grace, claims):
    """Someone who signed in as grace@litware.com without proof (a self-service sign-up in an
    unverified domain, say) must not block Grace's conversion."""
    signed_in_with(make_user("grace@litware.com", username="squatter"), **claims)
    assert start(grace_client)["Location"] == "/convert/code/"
    grace_client.post("/convert/code/", {"code": last_code()})
    choose_country(grace_client, "US")
    conversion = Conversion.objects.get()
    user = conversions.complete_conversion(conversion_id=conversion.pk, claims=WORK_CLAIMS)
    assert user.pk == grace.pk
    assert EmailAddress.objects.get(email="grace@litware.com", verified=True).user == grace


def test_the_code_is_emailed_stored_hashed_and_works_once(grace_client, grace):
    assert start(grace_client)["Location"] == "/convert/code/"
    code = last_code()
    assert mail.outbox[-1].subject == "Your VLSC signup code"
    assert mail.outbox[-1].to == ["grace@litware.com"]
    stored = SignupCode.objects.get()
    assert code not in stored.code_hash
    page = grace_client.get("/convert/code/").content.decode()
    assert "Signup code" in page
    assert grace_client.post("/convert/code/", {"code": code})["Location"] == "/convert/country/"
    conversion = Conversion.objects.get()
    with pytest.raises(conversions.ConversionClosed):  # replayed after use
        conversions.verify_code(conversion=conversion, code=code)
    # the code page now moves the person on rather than accepting the code again
    assert grace_client.post("/convert/code/", {"code": code})["Location"] == "/convert/country/"


def test_a_wrong_code_says_how_many_tries_are_left_then_requires_a_new_code(grace_client):
    start(grace_client)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    response = grace_client.post("/convert/code/", {"code": wrong})
    assert response.status_code == 400
    assert "You have 4 tries left." in response.content.decode()
    for _ in range(2):
        grace_client.post("/convert/code/", {"code": wrong})
    # the singular form, from ngettext (README "Languages and time zones")
    response = grace_client.post("/convert/code/", {"code": wrong})
    assert "You have 1 try left." in response.content.decode()
    response = grace_client.post("/convert/code/", {"code": wrong})
    assert response.status_code == 429
    response = grace_client.post("/convert/code/", {"code": code})  # even the right one now
    assert response.status_code == 429
    assert "Ask for a new code" in response.content.decode()
    assert SignupCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(grace_client):
    start(grace_client)
    code = last_code()
    SignupCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = grace_client.post("/convert/code/", {"code": code})
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_malformed_code_gets_a_form_error(grace_client):
    start(grace_client)
    # Full-width and Arabic-Indic digits match a regex's \d but are not the code's digits: a
    # form error, not a wrong try.
    for bad in ["abc", "1" * 30, "", "\uff11" * 6, "\u0661" * 6]:
        assert grace_client.post("/convert/code/", {"code": bad}).status_code == 400
    assert SignupCode.objects.get().attempts == 0


def test_resend_replaces_the_code_and_is_rate_limited(grace_client):
    start(grace_client)
    first = last_code()
    assert grace_client.post("/convert/code/resend/").status_code == 302
    second = last_code()
    assert len(mail.outbox) == 2
    limited = grace_client.post("/convert/code/resend/")
    assert limited.status_code == 429
    assert "once a minute and at most five times an hour" in limited.content.decode()
    assert len(mail.outbox) == 2
    if first != second:
        assert grace_client.post("/convert/code/", {"code": first}).status_code == 400
    assert grace_client.post("/convert/code/", {"code": second}).status_code == 302


def walk_to_country(client):
    start(client)
    client.post("/convert/code/", {"code": last_code()})


def choose_country(client, code: str):
    """Choose ``code`` on the form, then confirm it on the confirmation page."""
    assert client.post("/convert/country/", {"country": code})["Location"] == (
        "/convert/country/confirm/"
    )
    return client.post("/convert/country/confirm/", {"country": code})


def test_the_country_step_warns_and_records_the_country_once(grace_client, grace):
    walk_to_country(grace_client)
    page = grace_client.get("/convert/country/").content.decode()
    assert "You cannot change this after you finish the signup process." in page
    assert "Åland Islands" in page or "Aland Islands" in page  # the full ISO 3166 list
    assert grace_client.post("/convert/country/", {"country": "ZZ"}).status_code == 400
    response = choose_country(grace_client, "NL")
    assert response["Location"] == "/convert/finish/"
    assert OrganisationCountry.objects.get(user=grace).country.code == "NL"
    # the step cannot be taken again to change it
    for url in ("/convert/country/", "/convert/country/confirm/"):
        assert grace_client.post(url, {"country": "DE"})["Location"] == "/convert/finish/"
    assert OrganisationCountry.objects.get(user=grace).country.code == "NL"


def test_the_country_cannot_be_changed_by_any_model_path(grace):
    record = OrganisationCountry.objects.create(user=grace, country="NL")
    record.country = "DE"
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        OrganisationCountry.objects.filter(pk=record.pk).update(country="DE")
    with pytest.raises(ValidationError):
        record.delete()
    with pytest.raises(ValidationError):
        OrganisationCountry.objects.all().delete()
    with (
        pytest.raises((IntegrityError, DatabaseError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE accounts_organisationcountry SET country = 'DE'")
    assert OrganisationCountry.objects.get().country.code == "NL"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM accounts_organisationcountry",
        "UPDATE accounts_organisationcountry SET user_id = {other}",
    ],
)
def test_the_database_refuses_to_remove_the_country_so_the_user_stays(grace, statement):
    record = OrganisationCountry.objects.create(user=grace, country="NL")
    other = User.objects.create(username="other", email="other@litware.com")
    with (
        pytest.raises((IntegrityError, DatabaseError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(other=other.pk))
    assert OrganisationCountry.objects.get().user == grace
    with pytest.raises(ProtectedError):
        grace.delete()
    assert OrganisationCountry.objects.get(pk=record.pk).country.code == "NL"


def test_the_admin_cannot_change_the_country(admin_client, grace):
    record = OrganisationCountry.objects.create(user=grace, country="NL")
    url = f"/admin/accounts/organisationcountry/{record.pk}/change/"
    assert admin_client.post(url, {"country": "DE", "user": grace.pk}).status_code == 403
    page = admin_client.get(f"/admin/accounts/user/{grace.pk}/change/").content.decode()
    assert "Netherlands" in page
    assert 'name="country"' not in page
    assert OrganisationCountry.objects.get().country.code == "NL"


def finish_conversion(client):
    walk_to_country(client)
    choose_country(client, "US")
    return Conversion.objects.get()


def test_the_work_sign_in_completes_the_move_in_one_step(grace_client, grace):
    Registration.objects.create(
        user=grace,
        state=Registration.State.COMPLETED,
        sign_in_address="grace@outlook.com",
        invitation_address="grace@outlook.com",
        expires_at=timezone.now() + timedelta(hours=1),
        nonce="n",
    )
    conversion = finish_conversion(grace_client)
    user = conversions.complete_conversion(conversion_id=conversion.pk, claims=WORK_CLAIMS)
    assert user.pk == grace.pk
    assert user.email == "grace@litware.com" and not user.is_legacy_personal
    assert SocialAccount.objects.filter(user=grace, uid="w-oid.litware-tid").exists()
    assert SocialAccount.objects.filter(user=grace, uid=GRACE_UID).exists()  # kept
    assert set(
        EmailAddress.objects.filter(user=grace, verified=True).values_list("email", flat=True)
    ) == {"grace@outlook.com", "grace@litware.com"}
    assert Registration.objects.get().user == grace
    conversion.refresh_from_db()
    assert conversion.state == State.COMPLETED
    # a later sign-in with the personal account gets E06 naming the work account
    owner = signin.work_account_for_personal(
        {"oid": GRACE_MSA_OID, "tid": CONSUMER, "preferred_username": "grace@outlook.com"}
    )
    assert owner.email == "grace@litware.com"
    with pytest.raises(conversions.ConversionClosed):
        conversions.complete_conversion(conversion_id=conversion.pk, claims=WORK_CLAIMS)


def test_another_work_account_does_not_complete_it(grace_client, grace):
    conversion = finish_conversion(grace_client)
    with pytest.raises(conversions.WrongWorkAccount):
        conversions.complete_conversion(
            conversion_id=conversion.pk,
            claims={**WORK_CLAIMS, "preferred_username": "someone@litware.com"},
        )
    grace.refresh_from_db()
    assert grace.is_legacy_personal
    assert not SocialAccount.objects.filter(uid="w-oid.litware-tid").exists()


def test_a_work_identity_of_another_user_does_not_complete_it(grace_client, grace):
    conversion = finish_conversion(grace_client)
    other = make_user("someone@litware.com", username="someone")
    SocialAccount.objects.create(user=other, provider="entra", uid="w-oid.litware-tid")
    with pytest.raises(conversions.AddressOwned):
        conversions.complete_conversion(conversion_id=conversion.pk, claims=WORK_CLAIMS)
    grace.refresh_from_db()
    assert grace.is_legacy_personal


def test_two_conversions_racing_for_one_address_let_one_through(grace_client, grace):
    start(grace_client)
    rival = User.objects.create(
        username="rival", email="rival@outlook.com", is_legacy_personal=True
    )
    with pytest.raises(conversions.ConversionInProgress):
        conversions.start_conversion(
            user=rival,
            personal_uid="r.x",
            personal_address="r@x.com",
            name="Rival",
            work_email="grace@litware.com",
        )
    assert Conversion.objects.filter(work_email="grace@litware.com").count() == 1


def test_abandoned_conversions_expire_and_can_start_over(grace_client):
    start(grace_client)
    later = timezone.now() + timedelta(days=2)
    assert conversions.expire_stale(now=later) == 1
    assert conversions.expire_stale(now=later) == 0
    assert grace_client.get("/convert/code/").status_code == 410
    assert start(grace_client)["Location"] == "/convert/code/"
    assert Conversion.objects.filter(state=State.STARTED).count() == 1


def test_starting_over_replaces_the_unfinished_conversion(grace_client):
    start(grace_client)
    start(grace_client, "grace2@litware.com")
    assert list(Conversion.objects.values_list("state", flat=True).order_by("pk")) == [
        State.EXPIRED,
        State.STARTED,
    ]


def test_the_legacy_personal_account_is_sent_to_convert_through_the_real_sign_in(client, entra):
    from tests.accounts.test_sign_in import sign_in

    seed_demo_users()
    response, _ = sign_in(client, "grace@outlook.com")
    assert response.status_code == 302 and response["Location"] == "/convert/"
    assert "_auth_user_id" not in client.session
    assert client.session[views.SESSION_CONTEXT]["uid"] == GRACE_UID


# --- one canonical form for every address (see also test_canonical_addresses.py) ----------

BAD_ADDRESSES = [
    ("licensing@fabrikam.com\u200b", "invisible characters"),
    ('"licensing"@fabrikam.com', "quotation marks"),
    ("lïcensing@fabrikam.com", "not accented"),
    ("licensing@fabrikam.com.", "not a valid domain name"),
]


@pytest.mark.parametrize(("address", "words"), BAD_ADDRESSES)
def test_conversion_refuses_an_address_with_no_canonical_form(grace_client, address, words):
    response = start(grace_client, address)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Conversion.objects.exists()


def test_a_fullwidth_personal_domain_is_still_a_personal_domain(grace_client):
    response = start(grace_client, "grace@ｏｕｔｌｏｏｋ.com")
    assert response.status_code == 400
    assert "personal email address" in response.content.decode()
    assert not Conversion.objects.exists()


def test_conversion_compares_the_canonical_form(grace_client):
    owner = make_user("someone@litware.com", username="owner")
    EmailAddress.objects.create(user=owner, email="grace@litware.com", verified=True)
    response = start(grace_client, "ＧＲＡＣＥ@Litware.com")
    assert response.status_code == 409
    assert "already belongs to another user" in response.content.decode()


def test_conversion_stores_the_canonical_form_and_matches_the_work_sign_in(grace_client):
    start(grace_client, "Grace@Litware.COM")
    assert Conversion.objects.get().work_email == "grace@litware.com"
    assert mail.outbox[-1].to == ["grace@litware.com"]
    grace_client.post("/convert/code/", {"code": last_code()})
    choose_country(grace_client, "US")
    conversion = Conversion.objects.get()
    claims = {**WORK_CLAIMS, "preferred_username": "GRACE@litware.com"}
    user = conversions.complete_conversion(conversion_id=conversion.pk, claims=claims)
    assert user.email == "grace@litware.com"
    assert EmailAddress.objects.get(user=user, primary=True).email == "grace@litware.com"


def test_nothing_is_preselected_from_the_browsers_language(grace_client):
    walk_to_country(grace_client)
    page = grace_client.get("/convert/country/", HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9").content
    page = page.decode()
    assert '<option value="" selected>Choose your country or region</option>' in page
    country_select = page.split('name="country"')[1].split("</select>")[0]  # not the footer's
    assert "selected" not in country_select.replace('<option value="" selected>', "")


def test_the_country_is_required_with_a_clear_message(grace_client):
    walk_to_country(grace_client)
    response = grace_client.post("/convert/country/", {"country": ""})
    assert response.status_code == 400
    assert "Choose your country or region." in response.content.decode()
    assert not OrganisationCountry.objects.exists()


def test_the_choice_is_shown_with_its_permanence_before_it_is_saved(grace_client):
    walk_to_country(grace_client)
    grace_client.post("/convert/country/", {"country": "NL"})
    assert not OrganisationCountry.objects.exists()  # choosing saves nothing
    page = grace_client.get("/convert/country/confirm/").content.decode()
    assert "Netherlands" in page
    assert "You cannot change this later." in page
    assert 'href="/convert/country/"' in page  # "Change"
    assert 'name="country" value="NL"' in page
    assert not OrganisationCountry.objects.exists()


def test_change_goes_back_to_the_form_with_the_choice_kept(grace_client, grace):
    walk_to_country(grace_client)
    grace_client.post("/convert/country/", {"country": "NL"})
    page = grace_client.get("/convert/country/").content.decode()
    assert '<option value="NL" selected>' in page
    assert choose_country(grace_client, "DE")["Location"] == "/convert/finish/"
    assert OrganisationCountry.objects.get(user=grace).country.code == "DE"


@pytest.mark.parametrize("posted", ["DE", "ZZ", "", "NL ", "nl"])
def test_a_confirmation_with_another_or_an_invalid_country_is_refused(grace_client, posted):
    walk_to_country(grace_client)
    grace_client.post("/convert/country/", {"country": "NL"})
    response = grace_client.post("/convert/country/confirm/", {"country": posted})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not the one you chose. Nothing was saved" in page
    assert "Netherlands" in page
    assert not OrganisationCountry.objects.exists()
    assert Conversion.objects.get().state == Conversion.State.CODE_VERIFIED


def test_skipping_the_choice_is_refused_and_saves_nothing(grace_client):
    walk_to_country(grace_client)
    assert grace_client.get("/convert/country/confirm/")["Location"] == "/convert/country/"
    response = grace_client.post("/convert/country/confirm/", {"country": "NL"})
    assert response.status_code == 400
    assert "Choose your country or region, then confirm it. Nothing was saved." in (
        response.content.decode()
    )
    assert not OrganisationCountry.objects.exists()


def test_the_confirmation_is_out_of_order_before_the_code_and_for_nobody(grace_client):
    from django.test import Client

    start(grace_client)  # code not entered yet
    response = grace_client.post("/convert/country/confirm/", {"country": "NL"})
    assert response["Location"] == "/convert/code/"
    assert not OrganisationCountry.objects.exists()
    assert Client().post("/convert/country/confirm/", {"country": "NL"}).status_code == 403


def test_a_choice_made_for_another_conversion_does_not_carry_over(grace_client):
    walk_to_country(grace_client)
    session = grace_client.session
    session[views.SESSION_COUNTRY] = {
        "conversion": Conversion.objects.get().pk + 1,
        "country": "NL",
    }
    session.save()
    assert grace_client.post("/convert/country/confirm/", {"country": "NL"}).status_code == 400
    assert not OrganisationCountry.objects.exists()
