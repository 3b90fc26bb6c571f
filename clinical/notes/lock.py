"""The database's refusal to change a signed note (docs/architecture.md, What does not
change once written).

``ProgressNote.save()`` gives the message; these triggers are the truth on
PostgreSQL, whatever the path (a queryset ``update()``, the admin, a shell, raw SQL).
The SQL lives here so that a later migration can re-apply it (``CREATE OR REPLACE``)
when ``CONTENT_COLUMNS`` grows: plpgsql checks column names only when it runs.
"""

from clinical.notes.models import CONTENT_COLUMNS


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{column}" for column in CONTENT_COLUMNS)


# Column names come from CONTENT_COLUMNS, a constant of the model: no input reaches it.
NOTE_LOCK_SQL = """
CREATE OR REPLACE FUNCTION clinical_note_lock() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION 'clinical_progressnote: a signed note cannot be deleted'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'signed' AND ROW(<NEW_ROW>) IS DISTINCT FROM ROW(<OLD_ROW>) THEN
        RAISE EXCEPTION 'clinical_progressnote: a signed note is locked; add an addendum'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_note_lock ON clinical_progressnote;
CREATE TRIGGER clinical_note_lock
    BEFORE UPDATE OR DELETE ON clinical_progressnote
    FOR EACH ROW EXECUTE FUNCTION clinical_note_lock();

CREATE OR REPLACE FUNCTION clinical_note_section_lock() RETURNS trigger AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND EXISTS (
            SELECT 1 FROM clinical_progressnote WHERE id = OLD.note_id AND status = 'signed'))
       OR (TG_OP <> 'DELETE' AND EXISTS (
            SELECT 1 FROM clinical_progressnote WHERE id = NEW.note_id AND status = 'signed')) THEN
        RAISE EXCEPTION 'clinical_groupnotesection: the sections of a signed note are locked'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_note_section_lock ON clinical_groupnotesection;
CREATE TRIGGER clinical_note_section_lock
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_groupnotesection
    FOR EACH ROW EXECUTE FUNCTION clinical_note_section_lock();

CREATE OR REPLACE FUNCTION clinical_addendum_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (
            SELECT 1 FROM clinical_progressnote WHERE id = NEW.note_id AND status = 'signed') THEN
            RAISE EXCEPTION 'clinical_addendum: only a signed note takes an addendum'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'clinical_addendum is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_addendum_append_only ON clinical_addendum;
CREATE TRIGGER clinical_addendum_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_addendum_append_only();
""".replace("<NEW_ROW>", _row("NEW")).replace("<OLD_ROW>", _row("OLD"))

NOTE_UNLOCK_SQL = """
DROP TRIGGER IF EXISTS clinical_note_lock ON clinical_progressnote;
DROP FUNCTION IF EXISTS clinical_note_lock();
DROP TRIGGER IF EXISTS clinical_note_section_lock ON clinical_groupnotesection;
DROP FUNCTION IF EXISTS clinical_note_section_lock();
DROP TRIGGER IF EXISTS clinical_addendum_append_only ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_addendum_append_only();
"""


def apply_note_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NOTE_LOCK_SQL, params=None)


def remove_note_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NOTE_UNLOCK_SQL, params=None)
