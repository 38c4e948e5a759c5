"""Keep VLSC administrators' admin access in step with their Administrator permissions."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.signals import address_verified, admin_requested
from agreements import services


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
