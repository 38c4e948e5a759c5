"""``python -m entra_standin seed_demo_directory``: the demo directory (idempotent)."""

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model

from entra_standin import demo
from entra_standin.directory.models import AppRegistration, Domain, Tenant, User


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
        self._seed_applications()
        self.stdout.write(self.style.SUCCESS("Demo directory seeded:"))
        for tid, name, kind, _signup, _domains in demo.TENANTS:
            self.stdout.write(f"  tenant {tid}  {name} ({kind})")
        for oid, tid, address, _name in demo.USERS:
            self.stdout.write(f"  user   {oid}  {address}  (tid {tid})")
        for client_id, _secret, tid, name, roles in demo.APPLICATIONS:
            self.stdout.write(f"  app    {client_id}  {name} (tid {tid}; {' '.join(roles)})")

    def _seed_applications(self):
        """Organisations' own app registrations: confidential clients with client credentials,
        granted app roles on the portal's API."""
        Application = get_application_model()
        for client_id, secret, tid, name, roles in demo.APPLICATIONS:
            app = Application.objects.filter(client_id=client_id).first() or Application(
                client_id=client_id
            )
            app.name = name
            app.client_type = Application.CLIENT_CONFIDENTIAL
            app.authorization_grant_type = Application.GRANT_CLIENT_CREDENTIALS
            app.algorithm = Application.RS256_ALGORITHM
            app.hash_client_secret = True
            app.client_secret = secret
            app.save()
            AppRegistration.objects.update_or_create(
                application=app, defaults={"tenant_id": tid, "app_roles": " ".join(roles)}
            )
