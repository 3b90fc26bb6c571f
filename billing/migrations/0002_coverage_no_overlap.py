from django.db import migrations

# The coverage service refuses an overlap with a message, under the client's row lock;
# this makes it impossible for code that skips the service too (PostgreSQL only, like
# scheduling's 0003: SQLite has no exclusion constraints). A coverage without an end
# runs on: its range is open-ended ('[]' includes both days).
CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE billing_coverage ADD CONSTRAINT coverage_no_overlap_same_order
    EXCLUDE USING gist (
        client_id WITH =, "order" WITH =, daterange(effective_on, ends_on, '[]') WITH &&
    );
"""
DROP = "ALTER TABLE billing_coverage DROP CONSTRAINT IF EXISTS coverage_no_overlap_same_order;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
