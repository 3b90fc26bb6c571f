from django.db import migrations

# The services decide conflicts under row locks and give the message; these make an
# overlap impossible even for code that skips the services (PostgreSQL only: the
# SQLite used by `make run` has no exclusion constraints). Conflicts across tables
# (an appointment against a group session) remain the services' job.
CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_clinician_overlap
    EXCLUDE USING gist (clinician_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status <> 'cancelled');
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_client_overlap
    EXCLUDE USING gist (client_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status <> 'cancelled');
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_room_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (status <> 'cancelled' AND room_id IS NOT NULL);
ALTER TABLE scheduling_groupsession ADD CONSTRAINT session_no_room_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
    WHERE (cancelled_at IS NULL);
"""
DROP = """
ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_clinician_overlap;
ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_client_overlap;
ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap;
ALTER TABLE scheduling_groupsession DROP CONSTRAINT IF EXISTS session_no_room_overlap;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_tracks_and_slots")]

    operations = [migrations.RunPython(forwards, backwards)]
