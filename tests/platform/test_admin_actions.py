"""Every admin change list with actions answers a forged selection (``_selected_action`` that is
not a row id) with a 400 and changes nothing, instead of Django's 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory

from agreements.models import Agreement, PermissionGrant
from tests.agreements.conftest import make_agreement, make_user

pytestmark = pytest.mark.django_db

FORGED = ["abc", "99999999999999999999", "-99999999999999999999", "1.5", ""]


def changelists_with_actions(user) -> list[tuple[str, str]]:
    """(change list URL, action) for every registered model whose admin offers actions."""
    request = RequestFactory().get("/admin/")
    request.user = user
    found = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        for action in model_admin.get_actions(request):
            found.append((f"/admin/{meta.app_label}/{meta.model_name}/", action))
    return found


def test_the_admin_offers_actions_to_check(admin_user):
    names = {action for _, action in changelists_with_actions(admin_user)}
    assert {"delete_selected", "resend", "revoke"} <= names, names


@pytest.mark.parametrize("forged", FORGED)
def test_a_forged_selection_is_a_400_on_every_change_list(admin_client, admin_user, forged):
    agreement = make_agreement("V1234567")
    grant = PermissionGrant.objects.create(
        agreement=agreement, email="ann@contoso.com", kind=PermissionGrant.Kind.DOWNLOADS
    )
    for url, action in changelists_with_actions(admin_user):
        response = admin_client.post(
            url, {"action": action, "index": "0", ACTION_CHECKBOX_NAME: [str(grant.pk), forged]}
        )
        assert response.status_code == 400, (url, action, response.status_code)
    assert PermissionGrant.objects.filter(pk=grant.pk).exists()
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_a_real_selection_still_reaches_the_action(admin_client):
    agreement = make_agreement("V1234567")
    make_user("ann@contoso.com")
    grant = PermissionGrant.objects.create(
        agreement=agreement, email="ann@contoso.com", kind=PermissionGrant.Kind.DOWNLOADS
    )
    response = admin_client.post(
        "/admin/agreements/permissiongrant/",
        {"action": "delete_selected", "index": "0", ACTION_CHECKBOX_NAME: [str(grant.pk)]},
    )
    assert response.status_code in (200, 302)  # Django's confirmation page, or step-up first
