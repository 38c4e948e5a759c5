"""The provisioning API's benchmark: a page of 100 grants of one agreement holding many, read by
an application with an app-only token from the stand-in (issue 16: p95 under 30 ms, queries not
growing with the data)."""

from __future__ import annotations

import statistics
import time
from datetime import date

import requests
from django.db import transaction

from bench.load import percentile
from entra_standin import demo

AGREEMENT = "BENCHAPI01"
ORM_BATCH = 2_000


def seed_agreement(grants: int) -> str:
    """An agreement with ``grants`` permission grants (distinct addresses, kinds in turn), which
    Contoso's demo application may read. Reuses what a previous run left."""
    from agreements.models import Agreement, PermissionGrant
    from api.models import ApplicationAuthorisation

    agreement, _ = Agreement.objects.get_or_create(
        number=AGREEMENT,
        defaults={
            "program": Agreement.Program.ENTERPRISE_AGREEMENT,
            "customer": "Bench API customer",
            "start_date": date(2024, 1, 1),
        },
    )
    if PermissionGrant.objects.filter(agreement=agreement).count() != grants:
        kinds = list(PermissionGrant.Kind.values)
        with transaction.atomic():
            PermissionGrant.objects.filter(agreement=agreement).delete()
            PermissionGrant.objects.bulk_create(
                (
                    PermissionGrant(
                        agreement=agreement,
                        email=f"person{n:06d}@bench.example",
                        kind=kinds[n % len(kinds)],
                    )
                    for n in range(grants)
                ),
                batch_size=ORM_BATCH,
            )
    ApplicationAuthorisation.objects.get_or_create(
        agreement=agreement,
        tenant_id=demo.CONTOSO_TID,
        client_id=demo.CONTOSO_APP_CLIENT_ID,
        revoked_at__isnull=True,
        defaults={"access": ApplicationAuthorisation.Access.READ},
    )
    return AGREEMENT


def app_token(standin) -> str:
    """Contoso's demo application's app-only token for the API (client credentials, MSAL)."""
    import msal

    session = requests.Session()
    session.trust_env = False
    session.verify = str(standin.ca_path)
    result = msal.ConfidentialClientApplication(
        demo.CONTOSO_APP_CLIENT_ID,
        client_credential=demo.CONTOSO_APP_SECRET,
        authority=standin.authority(demo.CONTOSO_TID),
        instance_discovery=False,
        http_client=session,
    ).acquire_token_for_client(scopes=[f"{demo.API_APP_ID_URI}/.default"])
    if "access_token" not in result:
        raise RuntimeError(f"no API token from the stand-in: {result}")
    return result["access_token"]


def grants_url(base: str, *, limit: int = 100) -> str:
    return f"{base}/api/v1/agreements/{AGREEMENT}/permissions?limit={limit}"


def latency(url: str, *, token: str, samples: int) -> dict:
    """One request at a time (``samples`` of them after a few discarded): p50 and p95 in ms."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {token}"
    times: list[float] = []
    for n in range(samples + 5):
        t0 = time.perf_counter()
        response = session.get(url, timeout=10)
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200 or len(response.json()["items"]) == 0:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
        if n >= 5:
            times.append(elapsed)
    times.sort()
    return {
        "samples": samples,
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
    }


def queries(standin, token: str, path: str) -> int:
    """The queries of one API request in this process (Django's client), pointed at the
    stand-in as the servers are; the second of two requests (keys and discovery cached)."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from accounts.entra import client as entra

    with override_settings(
        ENTRA_AUTHORITY_HOST=standin.tls_url,
        ENTRA_TENANT="common",
        ENTRA_CA_BUNDLE=str(standin.ca_path),
        ENTRA_INSTANCE_DISCOVERY=False,
    ):
        entra.reset_caches()
        try:
            browser = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            browser.get(path)
            with CaptureQueriesContext(connection) as captured:
                response = browser.get(path)
        finally:
            entra.reset_caches()
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]}")
    return len(captured.captured_queries)
