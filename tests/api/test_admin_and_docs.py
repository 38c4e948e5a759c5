"""Application authorisations in the scoped admin; the OpenAPI document and reference page."""

import pytest

from agreements.models import AuditEvent
from api import reference
from api.models import ApplicationAuthorisation

from .conftest import APP_CLIENT_ID, CONTOSO_TID

pytestmark = pytest.mark.usefixtures("authority")


def test_an_administrator_authorises_and_revokes_an_application_audited(
    client, contoso_admin, contoso, fabrikam
):
    client.force_login(contoso_admin)
    form = client.get("/admin/api/applicationauthorisation/add/")
    assert form.status_code == 200
    assert "O8880202" not in form.content.decode()  # only administered agreements to choose
    data = {
        "agreement": contoso.pk,
        "name": "Provisioning",
        "tenant_id": CONTOSO_TID,
        "client_id": APP_CLIENT_ID,
        "access": "read_write",
    }
    assert client.post("/admin/api/applicationauthorisation/add/", data).status_code == 302
    row = ApplicationAuthorisation.objects.get()
    assert row.authorised_by == contoso_admin
    assert AuditEvent.objects.filter(action="application_authorised", actor=contoso_admin).exists()
    twice = client.post("/admin/api/applicationauthorisation/add/", data)
    assert twice.status_code == 200 and ApplicationAuthorisation.objects.count() == 1
    elsewhere = client.post(
        "/admin/api/applicationauthorisation/add/", {**data, "agreement": fabrikam.pk}
    )
    assert elsewhere.status_code == 200 and ApplicationAuthorisation.objects.count() == 1

    client.post(
        "/admin/api/applicationauthorisation/",
        {"action": "revoke", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == contoso_admin
    assert AuditEvent.objects.filter(action="application_revoked").exists()


def test_another_agreements_administrator_does_not_see_the_authorisation(
    client, contoso_app, fabrikam_admin
):
    client.force_login(fabrikam_admin)
    listing = client.get("/admin/api/applicationauthorisation/")
    assert listing.status_code == 200 and APP_CLIENT_ID not in listing.content.decode()
    url = f"/admin/api/applicationauthorisation/{contoso_app.pk}/change/"
    assert client.get(url).status_code in (302, 403, 404)


def test_the_openapi_document_is_3_1_and_documents_problems(client, db):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) == 17
    for operation in operations:
        assert "application/problem+json" in operation["responses"]["default"]["content"]
        assert operation["security"] == [{"EntraBearer": []}]


def test_the_reference_page_documents_every_operation_and_schema_from_the_document(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    document = client.get("/api/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in html
        assert path in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script>" not in html and "cdn" not in html.lower()
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_the_reference_page_describes_types_in_words():
    assert reference.type_of({"type": "string", "format": "date"}) == "string (date)"
    assert reference.type_of({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == (
        "integer or null"
    )
    grants = {"type": "array", "items": {"$ref": "#/components/schemas/Grant"}}
    assert reference.type_of(grants) == "array of Grant"
    assert reference.type_of({"enum": ["read", "read_write"]}) == 'one of "read", "read_write"'
