"""Keep VLSC administrators' admin access in step with their Administrator permissions, and the
dashboards' access version in step with the rows they show."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.signals import address_verified, admin_requested
from agreements import access_version, services
from agreements.models import Agreement, AgreementContact, PermissionGrant


@receiver(address_verified, dispatch_uid="agreements.sync_on_address_verified")
def sync_on_address_verified(sender, user=None, email=None, **kwargs) -> None:
    if user is not None:
        services.sync_staff_access(user=user)


@receiver(admin_requested, dispatch_uid="agreements.sync_on_admin_requested")
def sync_on_admin_requested(sender, user=None, **kwargs) -> None:
    services.sync_staff_access(user=user)


@receiver(user_logged_in, dispatch_uid="agreements.sync_on_login")
def sync_on_login(sender, request=None, user=None, **kwargs) -> None:
    if user is not None:
        services.sync_staff_access(user=user)


def bump_access_version(sender, **kwargs) -> None:
    access_version.bump()


for _model in (Agreement, AgreementContact, PermissionGrant, EmailAddress):
    for _signal in (post_save, post_delete):
        _signal.connect(
            bump_access_version,
            sender=_model,
            dispatch_uid=f"agreements.access_version.{_signal is post_save}.{_model.__name__}",
        )
