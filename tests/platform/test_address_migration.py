"""The data migration that rewrites stored addresses in their canonical form and reports, rather
than merges, what it cannot rewrite (``accounts/migrations/0012_canonicalise_stored_addresses``).
Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import logging
from datetime import date
from importlib import import_module

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.apps import apps as django_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from agreements.models import Agreement, AgreementContact
from notifications.models import OutboundEmail

MIGRATION = "0012_canonicalise_stored_addresses"
migration = import_module(f"accounts.migrations.{MIGRATION}")


@pytest.fixture
def contoso(db):
    return Agreement.objects.create(
        number="V1234567", program="vla", customer="Contoso", start_date=date(2024, 1, 1)
    )


def _store_raw(model, pk: int, column: str, value: str) -> None:
    """Write a value as an older release could have stored it, past the canonicalising field."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s",
            [value, pk],
        )


def _raw(model, pk: int, column: str) -> str:
    return model.objects.filter(pk=pk).values_list(column, flat=True).get()


@pytest.fixture
def legacy_rows(contoso):
    """Rows as the portal stored them before addresses had one form."""
    alice = User.objects.create(username="alice", email="alice@contoso.com")
    harry = User.objects.create(username="harry", email="harry@woodgrove.com")
    mallory = User.objects.create(username="mallory", email="mallory@woodgrove.com")
    rows = {
        "alice_verified": EmailAddress.objects.create(
            user=alice, email="licensing@fabrikam.com", verified=True
        ),
        # The bypass: the same mailbox verified again by someone else, in another spelling.
        "harry_zero_width": EmailAddress.objects.create(
            user=harry, email="licensing@fabrikam.com\u200b", verified=True
        ),
        "harry_quoted": EmailAddress.objects.create(
            user=harry, email='"licensing"@fabrikam.com', verified=False
        ),
        "mallory_upper": EmailAddress.objects.create(
            user=mallory, email="LICENSING@FABRIKAM.COM", verified=True
        ),
        "harry_idn": EmailAddress.objects.create(
            user=harry, email="harry@bücher.example", verified=True
        ),
        "contact_a": AgreementContact.objects.create(
            agreement=contoso, role="primary_contact", email="pat@contoso.com"
        ),
        "contact_b": AgreementContact.objects.create(
            agreement=contoso, role="primary_contact", email="other@contoso.com"
        ),
        "contact_other_role": AgreementContact.objects.create(
            agreement=contoso, role="notices_correspondent", email="other2@contoso.com"
        ),
        "email": OutboundEmail.objects.create(
            kind="k", to="x@x.example", subject="s", body="", queued_at=contoso.created_at
        ),
        "identity": SocialAccount.objects.create(
            user=alice,
            provider="entra",
            uid="oid-alice.tid-x",
            extra_data={"email": "Alice@Contoso.COM", "xms_edov": True, "tid": "tid-x"},
        ),
    }
    _store_raw(User, alice.pk, "email", "Alice@Contoso.com")
    _store_raw(AgreementContact, rows["contact_b"].pk, "email", "PAT@contoso.com")  # collides
    _store_raw(AgreementContact, rows["contact_other_role"].pk, "email", "Pat@Contoso.com")
    _store_raw(OutboundEmail, rows["email"].pk, "to", "Jane@Bücher.Example")
    rows["alice"] = alice
    return rows


def _problems(report) -> dict:
    return {(p.table, p.column, tuple(p.pks)): p.reason for p in report.problems}


@pytest.mark.django_db
def test_the_migration_canonicalises_rows_and_reports_instead_of_merging(legacy_rows, caplog):
    rows = legacy_rows
    with caplog.at_level(logging.WARNING, logger="vlsc_portal.addresses"):
        report = migration.canonicalise_stored_addresses(django_apps)

    # Rewritten where nothing else claims the address.
    assert _raw(User, rows["alice"].pk, "email") == "alice@contoso.com"
    assert _raw(EmailAddress, rows["harry_idn"].pk, "email") == "harry@xn--bcher-kva.example"
    assert _raw(OutboundEmail, rows["email"].pk, "to") == "jane@xn--bcher-kva.example"
    contact = rows["contact_other_role"]
    assert _raw(AgreementContact, contact.pk, "email") == "pat@contoso.com"  # another role
    rows["identity"].refresh_from_db()
    assert rows["identity"].extra_data["email"] == "alice@contoso.com"
    assert report.changed["accounts_user.email"] == 1

    # Left unchanged and reported: no canonical form, and two rows becoming one address.
    problems = _problems(report)
    zero_width, quoted = rows["harry_zero_width"].pk, rows["harry_quoted"].pk
    assert problems[("account_emailaddress", "email", (zero_width,))] == (
        "no canonical form (invisible)"
    )
    assert problems[("account_emailaddress", "email", (quoted,))] == "no canonical form (quoted)"
    verified_twice = (rows["alice_verified"].pk, rows["mallory_upper"].pk)
    assert (
        "would become one address, licensing@fabrikam.com"
        in (problems[("account_emailaddress", "email", verified_twice)])
    )
    same_role = (rows["contact_a"].pk, rows["contact_b"].pk)
    assert "pat@contoso.com" in problems[("agreements_agreementcontact", "email", same_role)]
    assert len(problems) == 4
    assert _raw(EmailAddress, rows["mallory_upper"].pk, "email") == "LICENSING@FABRIKAM.COM"
    assert _raw(EmailAddress, zero_width, "email") == "licensing@fabrikam.com\u200b"
    assert _raw(AgreementContact, rows["contact_b"].pk, "email") == "PAT@contoso.com"
    logged = [r.getMessage() for r in caplog.records if r.name == "vlsc_portal.addresses"]
    assert len(logged) == 4 and all("left unchanged" in line for line in logged)

    # Safe to run again: nothing more to rewrite, the same report.
    again = migration.canonicalise_stored_addresses(django_apps)
    assert set(again.changed.values()) == {0}
    assert _problems(again) == problems


@pytest.mark.django_db(transaction=True)
def test_the_migration_runs_the_canonicalisation(legacy_rows):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("accounts", "0011_canonical_addresses")])
        executor.loader.build_graph()
        executor.migrate([("accounts", MIGRATION)])
    finally:  # back to the latest schema, whatever came after 0012, for the tests that follow
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _raw(User, legacy_rows["alice"].pk, "email") == "alice@contoso.com"
    assert _raw(OutboundEmail, legacy_rows["email"].pk, "to") == "jane@xn--bcher-kva.example"
    assert _raw(AgreementContact, legacy_rows["contact_b"].pk, "email") == "PAT@contoso.com"
