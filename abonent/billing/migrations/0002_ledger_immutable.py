"""On PostgreSQL the database itself refuses to change or delete a ledger entry, so
no code path (or a hand-typed UPDATE) can quietly rewrite money history."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION billing_ledger_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are immutable (post a correction instead)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_ledgerentry_no_update
  BEFORE UPDATE OR DELETE ON billing_ledgerentry
  FOR EACH ROW EXECUTE FUNCTION billing_ledger_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS billing_ledgerentry_no_update ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
