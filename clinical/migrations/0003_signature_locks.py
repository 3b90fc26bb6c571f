# What the app's database role may still change after a note is signed or a plan
# version written, narrowed to what the services do (docs/architecture.md, What does
# not change once written). PostgreSQL only: on SQLite the models' own checks stand.
#
# - Notes: the co-signature is recorded once, by the author's supervisor, at the time
#   (clinical/notes/lock.py, COSIGN_LOCK_SQL); an addendum is signed when it is written,
#   by the note's author or a facilitator of the group.
# - Plans: only a plan's newest version is in force. A version is inserted after every
#   earlier one; a superseded version never becomes current again; and when the
#   transaction ends, the newest version of each plan it touched is the current one
#   (a deferred constraint trigger, so a review may first clear the old flag, then
#   insert the new version).
from django.db import migrations

from clinical.notes.lock import apply_signature_lock, remove_signature_lock

PLAN_CURRENT = """
CREATE OR REPLACE FUNCTION clinical_plan_version_current() RETURNS trigger AS $$
DECLARE
    later boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.is_current AND NOT OLD.is_current THEN
            RAISE EXCEPTION '%: a superseded plan version is never current again; '
                'save a new version', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE plan_id = $1 AND number >= $2)',
                   TG_TABLE_NAME)
        INTO later USING NEW.plan_id, NEW.number;
    IF later THEN
        RAISE EXCEPTION '%: a new plan version comes after every earlier one', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION clinical_plan_newest_current() RETURNS trigger AS $$
DECLARE
    newest_current boolean;
BEGIN
    EXECUTE format('SELECT is_current FROM %I WHERE plan_id = $1 ORDER BY number DESC LIMIT 1',
                   TG_TABLE_NAME)
        INTO newest_current USING NEW.plan_id;
    IF newest_current IS FALSE THEN
        RAISE EXCEPTION '%: the newest version of a plan is the one in force', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_treatmentplanversion_current
    BEFORE INSERT OR UPDATE OF is_current ON clinical_treatmentplanversion
    FOR EACH ROW EXECUTE FUNCTION clinical_plan_version_current();
CREATE TRIGGER clinical_relapsepreventionversion_current
    BEFORE INSERT OR UPDATE OF is_current ON clinical_relapsepreventionversion
    FOR EACH ROW EXECUTE FUNCTION clinical_plan_version_current();
CREATE CONSTRAINT TRIGGER clinical_treatmentplanversion_newest_current
    AFTER INSERT OR UPDATE OF is_current ON clinical_treatmentplanversion
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION clinical_plan_newest_current();
CREATE CONSTRAINT TRIGGER clinical_relapsepreventionversion_newest_current
    AFTER INSERT OR UPDATE OF is_current ON clinical_relapsepreventionversion
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION clinical_plan_newest_current();
"""
PLAN_CURRENT_UNDO = """
DROP TRIGGER IF EXISTS clinical_treatmentplanversion_current ON clinical_treatmentplanversion;
DROP TRIGGER IF EXISTS clinical_relapsepreventionversion_current
    ON clinical_relapsepreventionversion;
DROP TRIGGER IF EXISTS clinical_treatmentplanversion_newest_current
    ON clinical_treatmentplanversion;
DROP TRIGGER IF EXISTS clinical_relapsepreventionversion_newest_current
    ON clinical_relapsepreventionversion;
DROP FUNCTION IF EXISTS clinical_plan_version_current();
DROP FUNCTION IF EXISTS clinical_plan_newest_current();
"""


def apply_plan_current(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAN_CURRENT, params=None)


def remove_plan_current(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAN_CURRENT_UNDO, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0002_merge"),
    ]

    operations = [
        migrations.RunPython(apply_signature_lock, remove_signature_lock),
        migrations.RunPython(apply_plan_current, remove_plan_current),
    ]
