"""Records kept as evidence are read-only in the admin, even for a superuser, through the one
mixin in ``vlsc_portal.admin``."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import Conversion, OrganisationCountry, Registration, SignInEvent
from agreements.models import AuditEvent
from notifications.models import OutboundEmail
from support.models import SupportAction, SupportRequest
from vlsc_portal.admin import ReadOnlyAdminMixin

EVIDENCE = [
    SignInEvent,
    Registration,
    Conversion,
    OrganisationCountry,
    AuditEvent,
    OutboundEmail,
    SupportRequest,
    SupportAction,
]


@pytest.mark.parametrize("model", EVIDENCE, ids=lambda model: model.__name__)
def test_evidence_cannot_be_added_changed_or_deleted_in_the_admin(model, django_user_model, db):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = django_user_model(is_superuser=True, is_staff=True, is_active=True)
    assert isinstance(model_admin, ReadOnlyAdminMixin)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
