"""The README's example, run as written (its defaults replaced through the environment variables
it reads) against the live portal and the running stand-in: MSAL client credentials, then list,
add and remove a permission."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from agreements.models import AuditEvent, PermissionGrant

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("\n## Provisioning API\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_lists_adds_and_removes_a_permission(entra, live_server, settings):
    settings.API_AUDIENCES = ["api://vlsc-portal"]
    call_command("seed_demo", verbosity=0)
    env = {
        **os.environ,
        "PORTAL_URL": live_server.url,
        "ENTRA_AUTHORITY_HOST": entra.tls_url,
        "ENTRA_CA_BUNDLE": str(entra.ca_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", readme_example()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        result.stdout
        + result.stderr
        + str([(e.action, e.detail) for e in AuditEvent.objects.all()])
    )
    assert "has admin@contoso.com administrator" in result.stdout
    assert "added" in result.stdout and "removed" in result.stdout
    assert not PermissionGrant.objects.filter(email="new.buyer@contoso.com").exists()
    vias = set(
        AuditEvent.objects.filter(subject_email="new.buyer@contoso.com").values_list(
            "via", flat=True
        )
    )
    assert vias == {
        "API (application 3f8c2a91-5d7e-4b60-9a1f-2c4e6b8d0f13 of tenant "
        "81d2f501-53b9-5d41-8823-64b2dd3f90e9)"
    }
