"""Room on each page of billing_account so that the nightly balance UPDATEs can be HOT
(heap-only tuple) updates: no index is touched, the run is faster and the table bloats
less. PostgreSQL only."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE billing_account SET (fillfactor = 70)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE billing_account RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_lean_ledger_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
