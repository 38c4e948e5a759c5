"""The authentication backend (accounts/backends.py): the signed-in user in one statement, and
no permission queries for someone who holds no permission, without changing what anyone may do:
each request asks afresh, so a permission given or taken applies to the next page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import AuthenticationBackend
from accounts.models import User
from support.selectors import SUPPORT_GROUP
from tests.accounts.conftest import make_user

pytestmark = pytest.mark.django_db
CONSOLE = "support.use_support_console"


def loaded(user):
    return AuthenticationBackend().get_user(user.pk)


def test_someone_holding_no_permission_is_answered_without_a_query():
    user = loaded(make_user("bob@fabrikam.com"))
    with CaptureQueriesContext(connection) as queries:
        assert not user.has_perm(CONSOLE)
        assert user.get_all_permissions() == set()
    assert queries.captured_queries == []
    assert "holds_permissions" not in vars(user)


def test_someone_in_a_group_is_answered_with_one_query_as_django_would():
    user = make_user("sam@contoso.com")
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP), Group.objects.create(name="Empty"))
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="notifications", codename="view_outboundemail"
        )
    )
    django_answer = User.objects.get(pk=user.pk).get_all_permissions()  # ModelBackend's
    with CaptureQueriesContext(connection) as queries:
        assert loaded(user).get_all_permissions() == django_answer
    assert len(queries.captured_queries) == 2  # the user, then the permissions
    assert {CONSOLE, "notifications.view_outboundemail"} <= django_answer


def test_a_member_of_a_group_gets_the_groups_permissions():
    user = make_user("sam@contoso.com")
    user.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    assert loaded(user).has_perm(CONSOLE)


def test_a_permission_of_ones_own_counts():
    user = make_user("sam@contoso.com")
    app_label, codename = CONSOLE.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    assert loaded(user).has_perm(CONSOLE)


def test_a_superuser_holding_nothing_explicitly_still_has_every_permission():
    user = make_user("root@contoso.com")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    assert loaded(user).has_perm(CONSOLE)


def test_an_inactive_user_is_not_loaded():
    user = make_user("gone@contoso.com")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert loaded(user) is None
    assert AuthenticationBackend().get_user(10**9) is None


def test_a_permission_given_or_taken_applies_to_the_next_page(client):
    """Nothing is kept between requests: the console opens on the request after the group is
    given, and closes on the request after it is taken."""
    user = make_user("sam@contoso.com")
    client.force_login(user)
    assert client.get("/support/").status_code == 403
    group = Group.objects.get(name=SUPPORT_GROUP)
    user.groups.add(group)
    assert client.get("/support/").status_code == 200
    user.groups.remove(group)
    assert client.get("/support/").status_code == 403
