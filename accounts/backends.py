"""The authentication backend every sign-in records in its session.

allauth's backend (Django's ``ModelBackend`` with allauth's additions), loading the signed-in user
with one statement written out instead of a queryset: ``get_user`` runs on every signed-in
request, and building ``User.objects.get(pk=...)`` cost three times what the database took to
answer it. The rules stay Django's: the same row, the same ``user_can_authenticate`` (an
inactive user is not signed in), and Django's session check against the password hash after it.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.db import connection

from accounts.models import User

_COLUMNS = ", ".join(connection.ops.quote_name(str(f.column)) for f in User._meta.concrete_fields)
_USER_SQL = (
    f"SELECT {_COLUMNS} FROM {connection.ops.quote_name(User._meta.db_table)}"  # noqa: S608
    f" WHERE {connection.ops.quote_name(str(User._meta.pk.column))} = %s"  # noqa: S608
)


class AuthenticationBackend(AllauthBackend):
    def get_user(self, user_id: int) -> User | None:
        """The user ``user_id`` if they may sign in (active), else None."""
        user = next(iter(User._default_manager.raw(_USER_SQL, [user_id])), None)
        return user if user is not None and self.user_can_authenticate(user) else None
