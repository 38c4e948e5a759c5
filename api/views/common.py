"""What every operation shares: the caller, the agreement's scope, service errors as problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext as _

from agreements import services
from api import problems
from api.auth import Caller
from api.selectors import active_authorisations
from vlsc_portal.addresses import InvalidEmailAddress

LIMIT_DOC = "Items per page, 1 to 100."


def refuse_administrator_change_for_applications(caller: Caller) -> None:
    """Giving or taking Administrator needs a person's recent sign-in: never app-only."""
    if caller.app_only:
        raise problems.forbidden(
            _(
                "Giving or taking Administrator needs a delegated token of a person who signed "
                "in within the last 10 minutes; an application's token cannot do it."
            ),
            slug="delegated-sign-in-required",
        )


def step_up_problem() -> problems.Problem:
    """RFC 9470: the token's sign-in is too old for this change."""
    return problems.Problem(
        401,
        "recent-sign-in-required",
        _(
            "Giving or taking Administrator needs a sign-in within the last 10 minutes. Sign in "
            "again (prompt=login, max_age=600) and retry with the new token."
        ),
        headers={
            "WWW-Authenticate": 'Bearer realm="vlsc-portal", '
            'error="insufficient_user_authentication", max_age=600'
        },
    )


def application_name(caller: Caller) -> str:
    """How an app-only caller is named to the people whose access it changes: the name an
    administrator gave it when authorising it (the first authorisation that has one), else its
    client id. "" for a delegated caller (the person is named)."""
    if not caller.app_only:
        return ""
    names = (
        active_authorisations(caller).exclude(name="").order_by("pk").values_list("name", flat=True)
    )
    name = names.first()
    return name or _("application %(client_id)s") % {"client_id": caller.client_id}


@contextmanager
def changing(caller: Caller) -> Iterator[None]:
    """Run agreement services as this caller: their audit events record the API and who
    called it, access change emails name the application for an app-only caller; their refusals
    become problem documents."""
    try:
        with services.acting_via(caller.via, by=application_name(caller)):
            yield
    except InvalidEmailAddress as exc:
        raise problems.Problem(
            422,
            "invalid-email",
            " ".join(str(m) for m in exc.messages),
            extra={"errors": [{"loc": ["body", "email"], "msg": str(exc.messages[0])}]},
        ) from exc
    except services.StepUpRequired as exc:
        raise step_up_problem() from exc
    except services.LastAdministrator as exc:
        raise problems.Problem(
            409,
            "last-administrator",
            _(
                "You are the last administrator of this agreement: you cannot remove your own "
                "Administrator permission. Give another person Administrator first."
            ),
        ) from exc
