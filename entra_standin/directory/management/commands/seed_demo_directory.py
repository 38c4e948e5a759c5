"""``python -m entra_standin seed_demo_directory``: the demo directory (idempotent)."""

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from entra_standin import demo
from entra_standin.directory.models import Domain, Tenant, User


class Command(BaseCommand):
    help = "Create or reset the demo tenants, domains and users (password Passw0rd! for all)."

    @transaction.atomic
    def handle(self, *args, **options):
        for tid, name, kind, signup, domains in demo.TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                tid=tid, defaults={"name": name, "kind": kind, "self_service_signup": signup}
            )
            for domain, restricted, blocks, verified in domains:
                Domain.objects.update_or_create(
                    name=domain,
                    defaults={
                        "tenant": tenant,
                        "restricted_for_auto_signup": restricted,
                        "admin_blocks_self_signup": blocks,
                        "verified": verified,
                    },
                )
        # One hash for all demo users: they share a documented password anyway.
        password = make_password(demo.DEMO_PASSWORD)
        for oid, tid, address, display_name in demo.USERS:
            User.objects.filter(username=address).exclude(oid=oid).delete()
            User.objects.update_or_create(
                oid=oid,
                defaults={
                    "username": address,
                    "email": address,
                    "display_name": display_name,
                    "tenant_id": tid,
                    "password": password,
                    "is_active": True,
                },
            )
        self.stdout.write(self.style.SUCCESS("Demo directory seeded:"))
        for tid, name, kind, _signup, _domains in demo.TENANTS:
            self.stdout.write(f"  tenant {tid}  {name} ({kind})")
        for oid, tid, address, _name in demo.USERS:
            self.stdout.write(f"  user   {oid}  {address}  (tid {tid})")
