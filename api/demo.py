"""Demo data of the API: Contoso's own application, registered in the stand-in's demo
directory, authorised read and write on Contoso's agreement V1234567 by its administrator, so
the README's example runs against ``make run``. The portal never imports the stand-in, so the
ids are repeated here; a test checks that they match ``entra_standin/demo.py``. Idempotent."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from agreements.models import Agreement
from api.models import ApplicationAuthorisation

CONTOSO_TID = "81d2f501-53b9-5d41-8823-64b2dd3f90e9"
CONTOSO_APP_CLIENT_ID = "3f8c2a91-5d7e-4b60-9a1f-2c4e6b8d0f13"
AGREEMENT = "V1234567"
AUTHORISED_BY = "admin@contoso.com"


def seed_demo_authorisations() -> None:
    agreement = Agreement.objects.filter(number=AGREEMENT).first()
    if agreement is None:
        return
    owner = EmailAddress.objects.filter(email=AUTHORISED_BY, verified=True).first()
    ApplicationAuthorisation.objects.get_or_create(
        agreement=agreement,
        tenant_id=CONTOSO_TID,
        client_id=CONTOSO_APP_CLIENT_ID,
        revoked_at__isnull=True,
        defaults={
            "name": "Contoso licensing provisioning",
            "access": ApplicationAuthorisation.Access.READ_WRITE,
            "authorised_by": owner.user if owner else None,
        },
    )
