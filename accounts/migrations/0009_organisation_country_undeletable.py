"""The organisation-country trigger refuses DELETE as well as UPDATE.

0003's trigger refused only a change of country, so a raw DELETE removed the row, after which
the user it PROTECTs could be deleted. The row now cannot be removed or moved to another user
by any statement; the model, its queryset and the admin already refuse both.

PostgreSQL's TRUNCATE fires no row triggers (the test suite's flush uses it); SQLite has no
TRUNCATE, so tests/conftest.py lifts the DELETE trigger around the flush of a transactional test.
"""

from django.db import migrations

SQLITE_UPDATE_TRIGGER = (
    "CREATE TRIGGER organisation_country_immutable BEFORE UPDATE OF country, user_id ON "
    "accounts_organisationcountry BEGIN SELECT RAISE(ABORT, 'country cannot be changed'); END;"
)
SQLITE_DELETE_TRIGGER = (
    "CREATE TRIGGER organisation_country_undeletable BEFORE DELETE ON "
    "accounts_organisationcountry BEGIN SELECT RAISE(ABORT, 'country cannot be removed'); END;"
)
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION organisation_country_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'country cannot be removed';
  END IF;
  IF NEW.country IS DISTINCT FROM OLD.country OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
    RAISE EXCEPTION 'country cannot be changed';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS organisation_country_immutable ON accounts_organisationcountry;
CREATE TRIGGER organisation_country_immutable BEFORE UPDATE OR DELETE
  ON accounts_organisationcountry FOR EACH ROW EXECUTE FUNCTION organisation_country_immutable();
"""

# 0003's triggers, restored on the way back.
SQLITE_0003_TRIGGER = (
    "CREATE TRIGGER organisation_country_immutable BEFORE UPDATE OF country ON "
    "accounts_organisationcountry BEGIN SELECT RAISE(ABORT, 'country cannot be changed'); END;"
)
PG_0003_FUNCTION = """
CREATE OR REPLACE FUNCTION organisation_country_immutable() RETURNS trigger AS $$
BEGIN
  IF NEW.country IS DISTINCT FROM OLD.country THEN
    RAISE EXCEPTION 'country cannot be changed';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS organisation_country_immutable ON accounts_organisationcountry;
CREATE TRIGGER organisation_country_immutable BEFORE UPDATE ON accounts_organisationcountry
  FOR EACH ROW EXECUTE FUNCTION organisation_country_immutable();
"""


def refuse_delete(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS organisation_country_immutable")
        schema_editor.execute(SQLITE_UPDATE_TRIGGER)
        schema_editor.execute(SQLITE_DELETE_TRIGGER)
    elif vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)


def allow_delete(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS organisation_country_undeletable")
        schema_editor.execute("DROP TRIGGER IF EXISTS organisation_country_immutable")
        schema_editor.execute(SQLITE_0003_TRIGGER)
    elif vendor == "postgresql":
        schema_editor.execute(PG_0003_FUNCTION)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0008_one_pending_registration_per_address"),
    ]

    operations = [
        migrations.RunPython(refuse_delete, allow_delete),
    ]
