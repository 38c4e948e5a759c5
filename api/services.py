"""Writes of the API's own: authorising an organisation's application on an agreement, and
revoking it (both audited on the agreement); forgetting old idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from agreements.models import Agreement, AuditEvent
from agreements.services import audit
from api.models import ApplicationAuthorisation, IdempotentRequest

Action = AuditEvent.Action


class AlreadyAuthorised(Exception):
    """The application already has an unrevoked authorisation on the agreement."""


def _describe(authorisation: ApplicationAuthorisation) -> str:
    name = f"{authorisation.name} " if authorisation.name else ""
    return (
        f"{name}(application {authorisation.client_id} of tenant {authorisation.tenant_id}): "
        f"{authorisation.get_access_display()}"
    )


def application_authorise(
    *,
    agreement: Agreement,
    tenant_id: uuid.UUID | str,
    client_id: str,
    access: str,
    actor: User,
    name: str = "",
) -> ApplicationAuthorisation:
    """Let the application (``tenant_id``, ``client_id``) use the API on ``agreement`` with
    ``access``; audited. The caller checked that ``actor`` administers the agreement. Raises
    AlreadyAuthorised when an unrevoked authorisation exists (revoke it first)."""
    try:
        with transaction.atomic():
            authorisation = ApplicationAuthorisation.objects.create(
                agreement=agreement,
                tenant_id=uuid.UUID(str(tenant_id)),
                client_id=client_id.strip(),
                name=name.strip(),
                access=access,
                authorised_by=actor,
            )
            audit(
                actor=actor,
                action=Action.APPLICATION_AUTHORISED,
                agreement=agreement,
                detail=_describe(authorisation),
            )
    except IntegrityError as exc:
        raise AlreadyAuthorised(agreement) from exc
    return authorisation


def application_revoke(*, authorisation: ApplicationAuthorisation, actor: User) -> bool:
    """Revoke the authorisation now: the application's next request gets nothing on the
    agreement (every request reads the authorisation). One conditional update, audited; safe to
    repeat (returns False when it was revoked already)."""
    with transaction.atomic():
        updated = ApplicationAuthorisation.objects.filter(
            pk=authorisation.pk, revoked_at__isnull=True
        ).update(revoked_at=timezone.now(), revoked_by=actor)
        if not updated:
            return False
        authorisation.refresh_from_db()
        audit(
            actor=actor,
            action=Action.APPLICATION_REVOKED,
            agreement=authorisation.agreement,
            detail=_describe(authorisation),
        )
    return True


IDEMPOTENCY_KEYS_KEPT = timedelta(hours=24)


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Forget the answers to POSTs made with an ``Idempotency-Key`` more than
    :data:`IDEMPOTENCY_KEYS_KEPT` ago (a retry later than that is a new request). One bulk
    statement; safe to repeat and to run on two machines at once."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEYS_KEPT
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
