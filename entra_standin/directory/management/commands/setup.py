"""``python -m entra_standin setup``: data dir, database, CA and TLS cert, signing key, client."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from oauth2_provider.models import get_application_model

from entra_standin import config, demo
from entra_standin.directory.models import Domain, Tenant, User

DEFAULT_REDIRECT_URI = "http://localhost:8000/accounts/entra/login/callback/"
DEFAULT_POST_LOGOUT_REDIRECT_URI = "http://localhost:8000/"


def _merge(existing: str, new: list[str]) -> str:
    items = existing.split()
    for uri in new:
        if uri not in items:
            items.append(uri)
    return " ".join(items)


def ensure_certificates(directory, stdout=None) -> None:
    import trustme

    ca_cert, ca_key = directory / config.CA_CERT_FILE, directory / config.CA_KEY_FILE
    tls_cert, tls_key = directory / config.TLS_CERT_FILE, directory / config.TLS_KEY_FILE
    if ca_cert.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="VLSC portal development CA (Entra ID stand-in)")
        ca.cert_pem.write_to_path(str(ca_cert))
        ca.private_key_pem.write_to_path(str(ca_key))
        ca_key.chmod(0o600)
        tls_cert.unlink(missing_ok=True)  # re-issue under the new CA
        if stdout:
            stdout.write(f"Created the local CA {ca_cert}")
    if not (tls_cert.exists() and tls_key.exists()):
        leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
        tls_cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        tls_key.write_bytes(leaf.private_key_pem.bytes())
        tls_key.chmod(0o600)
        if stdout:
            stdout.write(f"Issued the TLS certificate {tls_cert} for 127.0.0.1 and localhost")


def ensure_signing_key(directory, stdout=None) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = directory / config.SIGNING_KEY_FILE
    if path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    if stdout:
        stdout.write(f"Created the RSA signing key {path}")


def ensure_consumer_tenant() -> Tenant:
    tenant, _ = Tenant.objects.update_or_create(
        tid=demo.CONSUMER_TID,
        defaults={
            "name": "Microsoft accounts",
            "kind": Tenant.CONSUMER,
            "self_service_signup": False,
        },
    )
    for name in demo.CONSUMER_DOMAINS:
        Domain.objects.update_or_create(name=name, defaults={"tenant": tenant})
    return tenant


class Command(BaseCommand):
    help = "Prepare the Entra ID stand-in (idempotent) and register the portal as a client."

    def add_arguments(self, parser):
        import os

        parser.add_argument(
            "--client-id", default=os.environ.get("ENTRA_CLIENT_ID") or "vlsc-portal-dev"
        )
        parser.add_argument(
            "--client-secret",
            default=os.environ.get("ENTRA_CLIENT_SECRET") or "dev-secret-change-me",
        )
        parser.add_argument("--redirect-uri", action="append", dest="redirect_uris")
        parser.add_argument(
            "--post-logout-redirect-uri", action="append", dest="post_logout_redirect_uris"
        )

    def handle(self, *args, **options):
        directory = settings.STANDIN_DATA_DIR
        directory.mkdir(parents=True, exist_ok=True)
        settings.MAILBOX_DIR.mkdir(parents=True, exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            (settings.MAILBOX_DIR / sub).mkdir(exist_ok=True)

        call_command("migrate", interactive=False, verbosity=0)
        ensure_certificates(directory, self.stdout)
        ensure_signing_key(directory, self.stdout)

        with transaction.atomic():
            ensure_consumer_tenant()
            if not User.objects.filter(username="admin").exists():
                User.objects.create_superuser("admin", "admin@standin.invalid", "Passw0rd!")
                self.stdout.write("Created the stand-in superuser admin / Passw0rd!")
            self._register_client(options)

        self.stdout.write(
            self.style.SUCCESS(
                f"Stand-in ready in {directory} (CA: {directory / config.CA_CERT_FILE})"
            )
        )

    def _register_client(self, options):
        Application = get_application_model()
        client_id = options["client_id"]
        redirect_uris = options["redirect_uris"] or [DEFAULT_REDIRECT_URI]
        logout_uris = options["post_logout_redirect_uris"] or [DEFAULT_POST_LOGOUT_REDIRECT_URI]
        app = Application.objects.filter(client_id=client_id).first()
        if app is None:
            app = Application(client_id=client_id, name=f"VLSC portal ({client_id})")
        app.client_type = Application.CLIENT_CONFIDENTIAL
        app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
        app.algorithm = Application.RS256_ALGORITHM
        app.skip_authorization = True
        app.hash_client_secret = True
        app.client_secret = options["client_secret"]
        app.redirect_uris = _merge(app.redirect_uris or "", redirect_uris)
        app.post_logout_redirect_uris = _merge(app.post_logout_redirect_uris or "", logout_uris)
        app.save()
        self.stdout.write(
            f"Client {client_id}: redirect URIs {app.redirect_uris}; "
            f"post-logout redirect URIs {app.post_logout_redirect_uris}"
        )
