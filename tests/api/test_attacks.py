"""Attacks: tokens that are not for the API or not from the authority, and an administrator of
one agreement reaching for another's rows through every endpoint and identifier."""

import pytest

from agreements.models import AccessRequest, AgreementContact, Invitation, PermissionGrant
from api.models import ApplicationAuthorisation

from .conftest import (
    APP_CLIENT_ID,
    CONTOSO_TID,
    FABRIKAM_TID,
    OTHER_KEY,
    app_token,
    make_person,
    person_token,
    token,
)

pytestmark = pytest.mark.usefixtures("authority")

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("forge", "status", "reason"),
    [
        (lambda user: person_token(user, aud="vlsc-portal-dev"), 401, "wrong_audience"),
        (
            lambda user: person_token(user, iss=f"https://idp.test/{FABRIKAM_TID}/v2.0"),
            401,
            "wrong_issuer",
        ),
        (lambda user: person_token(user, iss="https://evil.test/x/v2.0"), 401, "wrong_issuer"),
        (lambda user: person_token(user, key=OTHER_KEY), 401, "bad_signature"),
        (lambda user: person_token(user, kid="unknown"), 401, "unknown_signing_key"),
        (lambda user: person_token(user, exp=1, iat=1, nbf=1), 401, "expired"),
        (lambda user: person_token(user, nbf=None), 401, "invalid"),
        (lambda user: "not-a-token", 401, "malformed"),
        (lambda user: person_token(user, scp="User.Read"), 403, None),
        (lambda user: token(roles=["Something.Else"], azp=APP_CLIENT_ID), 403, None),
        # Right signature and issuer, but the identity is another tenant's: nobody the portal knows.
        (lambda user: person_token(user, tid=FABRIKAM_TID), 403, None),
    ],
)
def test_bad_tokens_get_problem_documents(api, contoso_admin, forge, status, reason):
    response = api(forge(contoso_admin)).get("/agreements/V1234567/permissions")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["reason"] == reason


def test_no_token_is_401_with_a_challenge(api, contoso):
    response = api(None).get("/agreements")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["reference_id"]


def test_a_tenant_outside_the_allowed_ones_is_refused(api, contoso_admin, settings):
    settings.ENTRA_ALLOWED_TENANTS = [FABRIKAM_TID]
    response = api(person_token(contoso_admin)).get("/agreements")
    assert response.status_code == 401 and response.json()["reason"] == "tenant_not_allowed"


@pytest.fixture
def fabrikam_rows(fabrikam, fabrikam_admin):
    contact = AgreementContact.objects.create(
        agreement=fabrikam, role="primary_contact", email="c@fabrikam.com"
    )
    grant = PermissionGrant.objects.create(
        agreement=fabrikam, email="g@fabrikam.com", kind="downloads"
    )
    invitation = Invitation.objects.create(
        agreement=fabrikam,
        email="g@fabrikam.com",
        first_sent_at="2020-01-01T00:00Z",
        last_sent_at="2020-01-01T00:00Z",
    )
    requester = make_person("r@fabrikam.com", FABRIKAM_TID)
    request = AccessRequest.objects.create(
        requester=requester,
        email="r@fabrikam.com",
        agreement_number=fabrikam.number,
        agreement=fabrikam,
        kind="downloads",
    )
    return {"contact": contact, "grant": grant, "invitation": invitation, "request": request}


def _everything(number, rows):
    """Every operation of the API on agreement ``number`` and the given row ids."""
    c, g, i, r = (rows[k].pk for k in ("contact", "grant", "invitation", "request"))
    base = f"/agreements/{number}"
    return [
        ("get", base, None),
        ("get", f"{base}/contacts", None),
        ("get", f"{base}/contacts/{c}", None),
        ("post", f"{base}/contacts", {"role": "primary_contact", "email": "x@contoso.com"}),
        ("delete", f"{base}/contacts/{c}", None),
        ("get", f"{base}/permissions", None),
        ("get", f"{base}/permissions/{g}", None),
        ("post", f"{base}/permissions", {"email": "x@contoso.com", "kind": "downloads"}),
        ("delete", f"{base}/permissions/{g}", None),
        ("get", f"{base}/invitations", None),
        ("get", f"{base}/invitations/{i}", None),
        ("post", f"{base}/invitations/{i}/resend", None),
        ("get", f"{base}/access-requests", None),
        ("get", f"{base}/access-requests/{r}", None),
        ("post", f"{base}/access-requests/{r}/decision", {"accept": True}),
        ("get", f"{base}/audit-events", None),
    ]


def _call(caller, method, path, body):
    if method == "post":
        return caller.post(path, body)
    return getattr(caller, method)(path)


def _unchanged(fabrikam, rows):
    assert AgreementContact.objects.filter(agreement=fabrikam).count() == 1
    assert PermissionGrant.objects.filter(agreement=fabrikam).count() == 2
    assert Invitation.objects.get(pk=rows["invitation"].pk).times_sent == 1
    assert AccessRequest.objects.get(pk=rows["request"].pk).state == "pending"


@pytest.mark.parametrize("who", ["person", "application"])
def test_another_agreements_administrator_reaches_nothing(
    api, who, contoso_admin, contoso_app, fabrikam, fabrikam_rows
):
    caller = api(person_token(contoso_admin) if who == "person" else app_token())
    # Fabrikam's agreement by its number, and Fabrikam's row ids under Contoso's own agreement.
    for number in ("O8880202", "V1234567"):
        for method, path, body in _everything(number, fabrikam_rows):
            if number == "V1234567" and path.count("/") <= 3:
                continue  # Contoso's own collections and agreement: allowed, and not Fabrikam's
            response = _call(caller, method, path, body)
            assert response.status_code == 404, (method, path, response.content)
            assert response["Content-Type"] == PROBLEM
    listed = caller.get("/agreements").json()["items"]
    assert [a["number"] for a in listed] == ["V1234567"]
    _unchanged(fabrikam, fabrikam_rows)


def test_an_application_authorised_elsewhere_or_in_another_tenant_gets_nothing(
    api, contoso, contoso_admin, fabrikam, fabrikam_rows
):
    ApplicationAuthorisation.objects.create(
        agreement=fabrikam,
        tenant_id=FABRIKAM_TID,
        client_id=APP_CLIENT_ID,
        access="read_write",
        authorised_by=contoso_admin,
    )
    # The same client id, but a token from Contoso's tenant: the authorisation names Fabrikam's.
    caller = api(app_token(tid=CONTOSO_TID))
    for method, path, body in _everything("O8880202", fabrikam_rows):
        assert _call(caller, method, path, body).status_code == 404, path
    _unchanged(fabrikam, fabrikam_rows)


def test_a_person_who_merely_has_access_reads_the_agreement_not_its_people(api, contoso, fabrikam):
    user = make_person("viewer@contoso.com", CONTOSO_TID)
    PermissionGrant.objects.create(agreement=contoso, email="viewer@contoso.com", kind="downloads")
    caller = api(person_token(user))
    assert caller.get("/agreements/V1234567").json()["administered"] is False
    response = caller.get("/agreements/V1234567/permissions")
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM
    assert caller.get("/agreements/O8880202").status_code == 404


def test_an_id_token_is_not_an_access_token_even_for_the_same_audience(
    api, contoso_admin, settings
):
    """Where the API's audiences include the portal's own client id (one app registration), an
    id_token names nobody's scopes or roles: refused."""
    settings.API_AUDIENCES = ["api://vlsc-portal", "portal-client"]
    account = contoso_admin.socialaccount_set.get()
    oid, tid = account.uid.split(".")
    id_token = token(aud="portal-client", oid=oid, tid=tid, nonce="n")
    response = api(id_token).get("/agreements")
    assert response.status_code == 403 and "insufficient_scope" in response["WWW-Authenticate"]


def test_an_inactive_persons_token_gets_nothing(api, contoso_admin):
    contoso_admin.is_active = False
    contoso_admin.save()
    response = api(person_token(contoso_admin)).get("/agreements")
    assert response.status_code == 403 and response["Content-Type"] == PROBLEM


def test_an_unreachable_authority_is_503_not_500(api, contoso_admin, monkeypatch):
    from accounts.entra import client

    def down():
        raise client.ProviderUnavailable("discovery: refused")

    bearer = person_token(contoso_admin)
    monkeypatch.setattr(client, "openid_configuration", down)
    response = api(bearer).get("/agreements")
    assert response.status_code == 503 and response["Retry-After"]
    assert response["Content-Type"] == PROBLEM
