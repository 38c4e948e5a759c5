"""An administrator of one agreement trying to reach another through the admin: by URL (change,
delete, history), changelist filters, search, autocomplete, crafted POSTs with another
agreement's ids, bulk actions and other apps' pages. Each gets 403, 404, a redirect to the
admin's index, an error or an empty list: never a 500, never the other agreement's data."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import User
from agreements.models import (
    AccessRequest,
    Agreement,
    AgreementContact,
    AuditEvent,
    Invitation,
    PermissionGrant,
)
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
Kind = PermissionGrant.Kind
Role = AgreementContact.Role
MODELS = ["agreement", "agreementcontact", "permissiongrant", "invitation", "accessrequest"]
MODELS_WITH_AUDIT = [*MODELS, "auditevent"]


@pytest.fixture
def fabrikam_rows(contoso, fabrikam, administrator):
    """One row of every kind on Fabrikam's agreement, which admin@contoso.com does not
    administer (and the same on Contoso's, which they do)."""
    requester = User.objects.create(username="req", email="req@fabrikam.com")
    now = timezone.now()
    rows = {}
    for agreement, domain in [(contoso, "contoso.com"), (fabrikam, "fabrikam.com")]:
        rows[agreement.number] = {
            "agreement": agreement,
            "agreementcontact": AgreementContact.objects.create(
                agreement=agreement,
                role=Role.PRIMARY_CONTACT,
                email=f"licensing@{domain}",
                name="Fiona Secret" if agreement == fabrikam else "Carl Contoso",
            ),
            "permissiongrant": PermissionGrant.objects.create(
                agreement=agreement, email=f"keys@{domain}", kind=Kind.PRODUCT_KEYS
            ),
            "invitation": Invitation.objects.create(
                agreement=agreement,
                email=f"keys@{domain}",
                first_sent_at=now - timezone.timedelta(days=1),
                last_sent_at=now - timezone.timedelta(days=1),
            ),
            "accessrequest": AccessRequest.objects.create(
                requester=requester,
                email=f"req@{domain}",
                agreement_number=agreement.number,
                agreement=agreement,
                kind=Kind.DOWNLOADS,
            ),
            "auditevent": AuditEvent.objects.create(
                action=AuditEvent.Action.PERMISSION_GRANTED,
                agreement=agreement,
                subject_email=f"keys@{domain}",
            ),
        }
    return rows["O8880202"]


def assert_nothing_of_fabrikam(response, what, rows: dict, typed: bool = False) -> None:
    """No server error and nothing of Fabrikam's in the page: not its customer name, its
    contact's name, nor a link to one of its rows; unless the request itself carried them (a
    search box shows back what was searched for), not its name or number either."""
    assert response.status_code < 500, (what, response.status_code)
    body = response.content.decode().lower()
    links = [f"/admin/agreements/{model}/{row.pk}/" for model, row in rows.items()]
    secrets = ["fabrikam, inc.", "fiona secret", *links]
    if not typed:
        secrets += ["fabrikam", "o8880202"]
    for secret in secrets:
        assert secret not in body, (what, secret)


def assert_refused(response, what: str, rows: dict) -> None:
    """403, 404, or the admin's "does not exist" redirect to its index."""
    assert_nothing_of_fabrikam(response, what, rows)
    if response.status_code == 302:
        assert response["Location"] == "/admin/", what
    else:
        assert response.status_code in (403, 404), (what, response.status_code)


def test_another_agreements_pages_answer_nothing(vlsc_admin_client, fabrikam_rows):
    for model in MODELS_WITH_AUDIT:
        pk = fabrikam_rows[model].pk
        for page in ["change", "delete", "history"]:
            url = f"/admin/agreements/{model}/{pk}/{page}/"
            assert_refused(vlsc_admin_client.get(url), url, fabrikam_rows)
            assert_refused(
                vlsc_admin_client.post(url, {"post": "yes"}), f"POST {url}", fabrikam_rows
            )


def test_the_administrators_own_agreement_is_reachable_the_same_ways(
    vlsc_admin_client, fabrikam_rows, contoso
):
    """The refusals above are about scope, not broken pages: the same URLs on Contoso's rows
    answer."""
    own = {
        "agreement": contoso.pk,
        "agreementcontact": AgreementContact.objects.get(agreement=contoso).pk,
        "permissiongrant": PermissionGrant.objects.get(
            agreement=contoso, kind=Kind.PRODUCT_KEYS
        ).pk,
        "invitation": Invitation.objects.get(agreement=contoso).pk,
        "accessrequest": AccessRequest.objects.get(agreement=contoso).pk,
        "auditevent": AuditEvent.objects.get(agreement=contoso).pk,
    }
    for model, pk in own.items():
        for page in ["change", "history"]:
            url = f"/admin/agreements/{model}/{pk}/{page}/"
            assert vlsc_admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "query",
    [
        "agreement__id__exact={pk}",
        "agreement__id__exact={pk}&agreement__id__exact={pk}",
        "agreement={pk}",
        "agreement__number=O8880202",
        "agreement__customer__icontains=fab",
        "agreement__number__startswith=O",
        "agreement__permissions__email__contains=fabrikam",
        "q=fabrikam",
        "q=O8880202",
        "q=licensing@fabrikam.com",
        "q=keys@fabrikam.com",
        "q=req@fabrikam.com",
        "_to_field=customer&_popup=1",
        "_to_field=agreement&_popup=1",
        "o=-1&q=%25",
        "e=1&p=999",
    ],
)
def test_changelist_filters_and_search_never_show_another_agreement(
    vlsc_admin_client, fabrikam_rows, query
):
    query = query.format(pk=fabrikam_rows["agreement"].pk)
    for model in MODELS_WITH_AUDIT:
        url = f"/admin/agreements/{model}/?{query}"
        response = vlsc_admin_client.get(url)
        assert_nothing_of_fabrikam(response, url, fabrikam_rows, typed=True)
        if response.status_code == 302:
            assert response["Location"].startswith(f"/admin/agreements/{model}/?"), url


@pytest.mark.parametrize("model", ["permissiongrant", "agreementcontact", "accessrequest"])
def test_autocomplete_offers_only_administered_agreements(
    vlsc_admin_client, fabrikam_rows, contoso, model
):
    """No admin declares autocomplete fields, but Django's autocomplete view answers for any
    foreign key to a searchable admin: it searches that admin's own scoped queryset."""
    base = f"/admin/autocomplete/?app_label=agreements&model_name={model}&field_name=agreement"
    for term, expected in [("", [str(contoso.pk)]), ("fab", []), ("O8880202", [])]:
        response = vlsc_admin_client.get(f"{base}&term={term}")
        assert_nothing_of_fabrikam(response, (model, term), fabrikam_rows, typed=True)
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == expected, (model, term)


@pytest.mark.parametrize(
    ("model", "field"),
    [("accessrequest", "requester"), ("auditevent", "actor"), ("permissiongrant", "granted_by")],
)
def test_autocomplete_offers_no_person(vlsc_admin_client, fabrikam_rows, model, field):
    url = f"/admin/autocomplete/?app_label=agreements&model_name={model}&field_name={field}&term=r"
    response = vlsc_admin_client.get(url)
    assert_nothing_of_fabrikam(response, url, fabrikam_rows)
    assert response.status_code == 403, url


def test_crafted_posts_with_another_agreements_ids_change_nothing(
    vlsc_admin_client, fabrikam_rows, contoso, fabrikam
):
    fab = fabrikam_rows
    # A contact added to, or moved to, the other agreement.
    response = vlsc_admin_client.post(
        "/admin/agreements/agreementcontact/add/",
        {"agreement": fabrikam.pk, "role": Role.ONLINE_ADMINISTRATOR, "email": "m@contoso.com"},
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    own_contact = AgreementContact.objects.get(agreement=contoso)
    vlsc_admin_client.post(
        f"/admin/agreements/agreementcontact/{own_contact.pk}/change/",
        {"agreement": fabrikam.pk, "role": Role.PRIMARY_CONTACT, "email": own_contact.email},
    )
    own_contact.refresh_from_db()
    assert own_contact.agreement == contoso
    assert not AgreementContact.objects.filter(email="m@contoso.com").exists()
    # Deciding the other agreement's access request.
    vlsc_admin_client.post(
        f"/admin/agreements/accessrequest/{fab['accessrequest'].pk}/change/",
        {"decision": "accept", "decision_message": "ok"},
    )
    fab["accessrequest"].refresh_from_db()
    assert fab["accessrequest"].state == AccessRequest.State.PENDING
    assert not PermissionGrant.objects.filter(email="req@fabrikam.com").exists()
    # Changing the other agreement's grant into an Administrator one.
    vlsc_admin_client.post(
        f"/admin/agreements/permissiongrant/{fab['permissiongrant'].pk}/change/",
        {"agreement": contoso.pk, "email": "admin@contoso.com", "kind": Kind.ADMINISTRATOR},
    )
    fab["permissiongrant"].refresh_from_db()
    assert (fab["permissiongrant"].agreement, fab["permissiongrant"].kind) == (
        fabrikam,
        Kind.PRODUCT_KEYS,
    )


@pytest.mark.parametrize(
    ("model", "action"),
    [
        ("agreementcontact", "delete_selected"),
        ("permissiongrant", "delete_selected"),
        ("invitation", "resend"),
        ("agreement", "delete_selected"),
        ("accessrequest", "delete_selected"),
        ("auditevent", "delete_selected"),
    ],
)
def test_bulk_actions_never_touch_another_agreements_rows(
    vlsc_admin_client, fabrikam_rows, model, action
):
    row = fabrikam_rows[model]
    for data in [
        {"action": action, "_selected_action": [row.pk]},
        {"action": action, "_selected_action": [row.pk], "post": "yes"},
        {"action": action, "select_across": "1", "_selected_action": [row.pk]},
    ]:
        url = f"/admin/agreements/{model}/?agreement__id__exact={fabrikam_rows['agreement'].pk}"
        response = vlsc_admin_client.post(url, data, follow=True)
        assert_nothing_of_fabrikam(response, (model, action, data), fabrikam_rows)
        assert type(row).objects.filter(pk=row.pk).exists(), (model, action)
    assert not OutboundEmail.objects.filter(to__endswith="@fabrikam.com").exists()
    assert AuditEvent.objects.count() == 2  # the fixture's two: nothing else happened


def test_other_apps_pages_are_closed_to_an_agreement_administrator(
    vlsc_admin_client, fabrikam_rows
):
    for url in [
        "/admin/accounts/user/",
        "/admin/accounts/registration/",
        "/admin/accounts/signinevent/",
        "/admin/notifications/outboundemail/",
        "/admin/support/supportrequest/",
        "/admin/auth/group/",
        "/admin/sites/site/",
        "/admin/socialaccount/socialaccount/",
        "/admin/account/emailaddress/",
        f"/admin/accounts/user/{User.objects.get(username='req').pk}/change/",
    ]:
        response = vlsc_admin_client.get(url)
        assert_nothing_of_fabrikam(response, url, fabrikam_rows)
        assert response.status_code in (403, 404), (url, response.status_code)


def test_the_view_on_site_shortcut_reveals_no_agreement(vlsc_admin_client, fabrikam_rows):
    content_type = ContentType.objects.get_for_model(Agreement)
    url = f"/admin/r/{content_type.pk}/{fabrikam_rows['agreement'].pk}/"
    response = vlsc_admin_client.get(url)
    assert_nothing_of_fabrikam(response, url, fabrikam_rows)
    assert response.status_code == 404
