"""schemathesis against the live API: every operation, with the stateful links between create,
read and delete, and a valid app-only token from the stand-in (Contoso's application, authorised
read/write on V1234567 by the demo seed). No server error, every response as documented."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.api_grants import app_token
from entra_standin import demo

HERE = Path(__file__).resolve().parent
MAX_SECONDS = 120


def pending_invitation() -> int:
    """An invitation on V1234567 that may be resent now."""
    from datetime import timedelta

    from django.utils import timezone

    from agreements.models import Agreement, Invitation

    long_ago = timezone.now() - timedelta(days=1)
    invitation, _ = Invitation.objects.update_or_create(
        agreement=Agreement.objects.get(number="V1234567"),
        email="invited@contoso.com",
        defaults={"first_sent_at": long_ago, "last_sent_at": long_ago},
    )
    return invitation.pk


def pending_access_request() -> int:
    """A pending request for Downloads on V1234567."""
    from accounts.models import User
    from agreements.models import AccessRequest, Agreement

    requester = User.objects.create(username="requester", email="requester@contoso.com")
    return AccessRequest.objects.create(
        requester=requester,
        email="requester@contoso.com",
        agreement_number="V1234567",
        agreement=Agreement.objects.get(number="V1234567"),
        kind="downloads",
    ).pk


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(
    entra, live_server, settings, tmp_path
):
    settings.API_AUDIENCES = [demo.API_APP_ID_URI]
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "api": "100000/m/key"}
    call_command("seed_demo", verbosity=0)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        (HERE / "schemathesis.toml").read_text()
        + f'"path.invitation_id" = {pending_invitation()}\n'
        + f'"path.request_id" = {pending_access_request()}\n'
    )
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {app_token(entra)}",
        "--checks",
        "all",
        # Valid-looking data is refused where the rules say so (another agreement's ids: 404;
        # Administrator for an application: 403), so "positive data is accepted" cannot hold.
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        "12",
        "--max-time",
        str(MAX_SECONDS),
        "--seed",
        "16",
        "--workers",
        "1",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,  # its cache (.schemathesis/) stays out of the repository
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 120,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-4000:]
    [junit] = tmp_path.glob("junit-*.xml")
    report = junit.read_text()
    assert 'failures="0"' in report and 'errors="0"' in report
    assert report.count("<testcase ") == 18  # the 17 operations and the stateful run
    assert "POST /api/v1/agreements/{number}/permissions" in report
    assert "Stateful tests" in report
