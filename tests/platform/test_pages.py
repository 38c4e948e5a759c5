import mailbox

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from vlsc_portal.mail import MaildirEmailBackend


@pytest.mark.django_db
def test_the_landing_page_says_what_the_portal_is_for(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sign in with your Work Account" in html
    assert "volume-licensing agreement" in html
    assert response["X-Reference-Id"]


@pytest.mark.django_db
def test_it_shows_a_404_page_with_the_reference_id(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["X-Reference-Id"] in response.content.decode()


@pytest.mark.django_db
def test_the_log_line_of_a_404_carries_the_reference_id_the_page_shows(client):
    import logging

    from vlsc_portal.middleware import ReferenceIdLogFilter

    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(f"{record.reference_id} {record.getMessage()}")

    handler = Collect()
    handler.addFilter(ReferenceIdLogFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/")
    finally:
        logger.removeHandler(handler)
    assert seen == [f"{response['X-Reference-Id']} Not Found: /no-such-page/"]


@override_settings(DEBUG=False)
def test_it_shows_a_500_page_not_a_traceback(rf):
    from vlsc_portal.errors import server_error

    request = rf.get("/")
    request.reference_id = "ABCDEFGH2345"
    request.user = None
    response = server_error(request)
    assert response.status_code == 500
    assert "ABCDEFGH2345" in response.content.decode()


@pytest.mark.django_db
def test_a_form_post_without_csrf_token_gets_a_clear_403(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/sign-in/", {"email": "a@b.com"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_the_maildir_backend_keeps_one_file_per_message(tmp_path):
    backend = MaildirEmailBackend(mailbox_dir=tmp_path / "box")
    message = mail.EmailMessage("Hello", "Body http://x/", "from@vlsc.example", ["to@contoso.com"])
    assert backend.send_messages([message, message]) == 2
    assert backend.send_messages([]) == 0
    box = mailbox.Maildir(tmp_path / "box", create=False)
    assert sorted(m["Subject"] for m in box) == ["Hello", "Hello"]


@pytest.mark.django_db
def test_there_are_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_demo_seed_is_idempotent_and_matches_the_standin_directory():
    from allauth.socialaccount.models import SocialAccount

    from accounts import demo as portal_demo
    from entra_standin import demo as standin_demo

    call_command("seed_demo", verbosity=0)
    counts = SocialAccount.objects.count()
    call_command("seed_demo", verbosity=0)
    assert SocialAccount.objects.count() == counts
    for name in ("CONTOSO_TID", "ALICE_OID", "ALICE_MSA_OID", "GRACE_MSA_OID"):
        assert getattr(portal_demo, name) == getattr(standin_demo, name)
    from api import demo as api_demo
    from api.models import ApplicationAuthorisation

    assert api_demo.CONTOSO_APP_CLIENT_ID == standin_demo.CONTOSO_APP_CLIENT_ID
    assert api_demo.CONTOSO_TID == standin_demo.CONTOSO_TID
    assert (
        ApplicationAuthorisation.objects.filter(client_id=api_demo.CONTOSO_APP_CLIENT_ID).count()
        == 1
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="vlsc_portal.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/agreements/V12\x00/", None),
        ("get", "/sign-in/?email=a%00b", None),
        ("post", "/sign-in/", {"email": "a\x00@contoso.com"}),
        ("get", "/register/confirm/abc\x00def/", None),
    ],
)
def test_a_nul_character_anywhere_gets_a_400_not_a_database_error(client, method, url, data):
    response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


@pytest.mark.parametrize("length", ["abc", "-5", "\u0661", "0x10"])
@pytest.mark.parametrize("url", ["/sign-in/", "/support/contact/", "/i18n/setlang/"])
def test_a_content_length_that_is_not_a_number_gets_a_400(client, url, length):
    """gunicorn refuses these itself; Django's development server passes them on, and Django's
    int() of it when a view read the body was a 500."""
    response = client.post(
        url,
        "email=a%40contoso.com",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()
