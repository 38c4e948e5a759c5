"""Rewrite every stored email address in its canonical form (``vlsc_portal.addresses``), and
report what cannot be rewritten instead of merging it.

Left as they are, and reported:
- a value with no canonical form (a zero-width space, a quoted or non-ASCII local part, a
  domain that is no domain name): it can equal no canonical address, so from now on it matches
  nothing and owns nothing;
- rows that would become one address where addresses are unique (allauth's one user per
  verified address and one row per user and address, one contact per agreement, role and
  address, one grant per agreement, kind and address, one invitation per agreement and address,
  one pending registration and one active conversion per address): which of them keeps the
  address is for a person to decide, not for a migration.

Each problem is logged as a warning (logger ``vlsc_portal.addresses``), so ``migrate`` shows
the report. :func:`canonicalise_stored_addresses` does the work and returns the report; the
tests call it with rows made to need it.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import migrations

from vlsc_portal.addresses import InvalidEmailAddress, canonical_email

logger = logging.getLogger("vlsc_portal.addresses")

ACTIVE_CONVERSION_STATES = ["started", "code_verified", "awaiting_sign_in"]
BATCH = 500

# (app label, model, column, uniqueness scopes). A scope is the other columns of a unique
# constraint and the filter for the rows it covers (None: every row).
COLUMNS = [
    ("account", "EmailAddress", "email", [(("user",), None), ((), {"verified": True})]),
    ("accounts", "User", "email", []),
    ("accounts", "SignInEvent", "address", []),
    ("accounts", "Registration", "sign_in_address", []),
    ("accounts", "Registration", "invitation_address", [((), {"state": "pending"})]),
    ("accounts", "Conversion", "personal_address", []),
    ("accounts", "Conversion", "work_email", [((), {"state__in": ACTIVE_CONVERSION_STATES})]),
    ("agreements", "AgreementContact", "email", [(("agreement", "role"), None)]),
    ("agreements", "PermissionGrant", "email", [(("agreement", "kind"), None)]),
    ("agreements", "Invitation", "email", [(("agreement",), None)]),
    ("agreements", "AccessRequest", "email", []),
    ("agreements", "AuditEvent", "actor_email", []),
    ("agreements", "AuditEvent", "subject_email", []),
    ("support", "SupportRequest", "email", []),
    ("support", "SupportAction", "actor_email", []),
    ("support", "SupportAction", "subject_email", []),
    ("notifications", "OutboundEmail", "to", []),
]


@dataclass
class Problem:
    """Rows left unchanged: ``table.column`` of rows ``pks`` (values ``values``), and why."""

    table: str
    column: str
    pks: list
    values: list
    reason: str

    def __str__(self) -> str:
        rows = ", ".join(f"{pk}={value!r}" for pk, value in zip(self.pks, self.values))
        return f"{self.table}.{self.column} rows {rows}: {self.reason}; left unchanged"


@dataclass
class Report:
    changed: dict = field(default_factory=dict)  # "table.column" -> rows rewritten
    problems: list = field(default_factory=list)


def _batches(items):
    items = list(items)
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _collisions(Model, column, changes, scopes):
    """Groups of rows that ``changes`` ({pk: canonical}) would give one address within a
    uniqueness scope: each as (address, [(pk, value), ...]). Reads only the changed rows and the
    rows already holding an address some change would write."""
    found = []
    for others, condition in scopes:
        rows = Model.objects.filter(**(condition or {}))
        groups = defaultdict(dict)
        for batch in _batches(changes):
            for pk, value, *scope in rows.filter(pk__in=batch).values_list("pk", column, *others):
                groups[(*scope, changes[pk])][pk] = value
        for batch in _batches(set(changes.values())):
            in_place = rows.filter(**{f"{column}__in": batch})
            for pk, value, *scope in in_place.values_list("pk", column, *others):
                if pk not in changes:
                    groups[(*scope, value)][pk] = value
        for key, members in groups.items():
            if len(members) > 1:
                found.append((key[-1], sorted(members.items())))
    return found


def _canonicalise_column(Model, column, scopes, report):
    table = Model._meta.db_table
    changes = {}
    values = Model.objects.exclude(**{column: ""}).values_list("pk", column)
    for pk, value in values.iterator(chunk_size=2000):
        try:
            canonical = canonical_email(value)
        except InvalidEmailAddress as exc:
            report.problems.append(
                Problem(table, column, [pk], [value], f"no canonical form ({exc.code})")
            )
            continue
        if canonical != value:
            changes[pk] = canonical
    if changes and scopes:
        for address, members in _collisions(Model, column, changes, scopes):
            pks = [pk for pk, _value in members]
            if not any(pk in changes for pk in pks):
                continue  # already together before; nothing of ours
            report.problems.append(
                Problem(
                    table,
                    column,
                    pks,
                    [value for _pk, value in members],
                    f"would become one address, {address}, where addresses are unique",
                )
            )
            for pk in pks:
                changes.pop(pk, None)
    for batch in _batches(changes.items()):
        Model.objects.bulk_update([Model(pk=pk, **{column: value}) for pk, value in batch], [column])
    report.changed[f"{table}.{column}"] = len(changes)


def _canonicalise_identity_emails(apps, report):
    """The ``email`` claim the portal keeps in its work identities' ``extra_data``, which
    conversion looks up exactly (``accounts.entra.provider``)."""
    SocialAccount = apps.get_model("socialaccount", "SocialAccount")
    changed = 0
    accounts = SocialAccount.objects.filter(provider="entra", extra_data__has_key="email")
    for account in accounts.only("pk", "extra_data").iterator(chunk_size=2000):
        value = account.extra_data.get("email")
        if not isinstance(value, str) or not value:
            continue
        try:
            canonical = canonical_email(value)
        except InvalidEmailAddress as exc:
            report.problems.append(
                Problem(
                    SocialAccount._meta.db_table,
                    "extra_data.email",
                    [account.pk],
                    [value],
                    f"no canonical form ({exc.code})",
                )
            )
            continue
        if canonical != value:
            account.extra_data = {**account.extra_data, "email": canonical}
            account.save(update_fields=["extra_data"])
            changed += 1
    report.changed[f"{SocialAccount._meta.db_table}.extra_data.email"] = changed


def canonicalise_stored_addresses(apps) -> Report:
    """Canonicalise every address column (``COLUMNS``) and the identities' ``email`` claims in
    place; returns the report (every problem also logged). Safe to run again: canonical values
    stay as they are, and what was left unchanged is reported again."""
    report = Report()
    for app_label, model_name, column, scopes in COLUMNS:
        Model = apps.get_model(app_label, model_name)
        _canonicalise_column(Model, column, scopes, report)
    _canonicalise_identity_emails(apps, report)
    for problem in report.problems:
        logger.warning("canonical addresses: %s", problem)
    return report


def forwards(apps, schema_editor):
    canonicalise_stored_addresses(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("account", "0009_emailaddress_unique_primary_email"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        ("accounts", "0011_canonical_addresses"),
        ("agreements", "0003_canonical_addresses"),
        ("notifications", "0003_canonical_addresses"),
        ("support", "0002_canonical_addresses"),
    ]

    # Not reversible in meaning (the earlier spellings are gone), harmless to leave in place.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
