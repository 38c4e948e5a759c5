"""The authentication backend every sign-in records in its session.

allauth's backend (Django's ``ModelBackend`` with allauth's additions), loading the signed-in user
with one statement written out instead of a queryset: ``get_user`` runs on every signed-in
request, and building ``User.objects.get(pk=...)`` cost three times what the database took to
answer it. The rules stay Django's: the same row, the same ``user_can_authenticate`` (an
inactive user is not signed in), and Django's session check against the password hash after it.

Permissions, which every page asks about (the app shell's "Support console" link), are
``ModelBackend``'s: the user's own and their groups', ``app_label.codename``, kept on the user
object for the request only. Two things are cheaper than in ``ModelBackend``, which builds two
querysets per request (under load, building them cost more than a third of the dashboard's CPU):
the user's statement also says whether they belong to any group or hold any permission of their
own, and most people do neither, so theirs is the empty set without a query; for the others one
statement written out reads both kinds at once. A superuser's are every permission, as Django's
(``ModelBackend``'s own queries).
"""

from __future__ import annotations

from typing import NamedTuple

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from accounts.models import User

_quote = connection.ops.quote_name
_COLUMNS = ", ".join(f"u.{_quote(str(f.column))}" for f in User._meta.concrete_fields)
_PK = _quote(str(User._meta.pk.column))


class _Link(NamedTuple):
    """A many-to-many table, quoted: its name, the column of this side and of the other."""

    table: str
    own: str
    other: str


def _through(model, field: str) -> _Link:
    """The table of ``model``'s many-to-many ``field``."""
    relation = model._meta.get_field(field)
    through = relation.remote_field.through._meta
    own = through.get_field(relation.m2m_field_name()).column
    other = through.get_field(relation.m2m_reverse_field_name()).column
    return _Link(_quote(through.db_table), _quote(own), _quote(other))


_USER_GROUPS = _through(User, "groups")
_USER_PERMISSIONS = _through(User, "user_permissions")
_GROUP_PERMISSIONS = _through(Group, "permissions")
_USER_SQL = (
    f"SELECT {_COLUMNS}, (EXISTS (SELECT 1 FROM {_USER_GROUPS.table} m"  # noqa: S608
    f" WHERE m.{_USER_GROUPS.own} = u.{_PK}) OR EXISTS (SELECT 1 FROM {_USER_PERMISSIONS.table} m"
    f" WHERE m.{_USER_PERMISSIONS.own} = u.{_PK})) AS holds_permissions"
    f" FROM {_quote(User._meta.db_table)} u WHERE u.{_PK} = %s"
)
_PERMISSIONS_SQL = (
    "SELECT ct.app_label, p.codename"  # noqa: S608
    f" FROM {_quote(Permission._meta.db_table)} p"
    f" JOIN {_quote(ContentType._meta.db_table)} ct ON ct.id = p.content_type_id"
    f" WHERE p.id IN (SELECT {_USER_PERMISSIONS.other} FROM {_USER_PERMISSIONS.table}"
    f" WHERE {_USER_PERMISSIONS.own} = %(user)s)"
    f" OR p.id IN (SELECT gp.{_GROUP_PERMISSIONS.other} FROM {_GROUP_PERMISSIONS.table} gp"
    f" JOIN {_USER_GROUPS.table} ug ON ug.{_USER_GROUPS.other} = gp.{_GROUP_PERMISSIONS.own}"
    f" WHERE ug.{_USER_GROUPS.own} = %(user)s)"
)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: int) -> User | None:
        """The user ``user_id`` if they may sign in (active), else None."""
        user = next(iter(User._default_manager.raw(_USER_SQL, [user_id])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        held = vars(user)
        held["_holds_permissions"] = bool(held.pop("holds_permissions"))
        return user

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """``ModelBackend``'s answer (the module docstring says how it is cheaper), kept in the
        same per-request cache, which the other backends in the list read too."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        held: set[str] = set()
        if getattr(user_obj, "_holds_permissions", True):
            with connection.cursor() as cursor:
                cursor.execute(_PERMISSIONS_SQL, {"user": user_obj.pk})
                held = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        user_obj._perm_cache = held
        return held
