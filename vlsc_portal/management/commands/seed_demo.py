"""The demo data of every app, in one command. Part of the composition root (docs/architecture.md):
like ``vlsc_portal/urls.py`` it may import any app, and each app seeds only its own rows."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand

from accounts.demo import seed_demo_users
from agreements.demo import seed_demo_agreements
from api.demo import seed_demo_authorisations
from support.demo import seed_support_staff


class Command(BaseCommand):
    help = "Create the portal's demo data (idempotent): users linked to the stand-in's directory."

    def handle(self, *args, **options) -> None:
        Site.objects.update_or_create(
            pk=settings.SITE_ID,
            defaults={"domain": urlsplit(settings.PORTAL_URL).netloc, "name": "VLSC Portal"},
        )
        users = seed_demo_users()
        seed_demo_agreements()
        seed_demo_authorisations()
        users.append(seed_support_staff())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(users)} users."))
