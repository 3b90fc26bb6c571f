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


# --- The co-signature and the addenda's signatures (migration 0003_signature_locks) ----

# How far a signature's recorded time may stand from the database's clock: the app and
# the database may run on machines whose clocks differ a little, and a request takes a
# moment between the transaction's start and the write. A backdated or future-dated
# signature is further off than this.
SIGNING_SKEW_SECONDS = 300

# The co-signature is decided once, by the author's clinical supervisor, when it
# happens. The transitions the services make (clinical/notes/services.py) are the only
# ones taken:
#   insert, or a draft's update: no co-signature columns set (a draft is not signed);
#   signing (draft -> signed): pending when the author's account needs a co-signature
#       (``cosign_required`` as the account says), else blank;
#   pending -> cosigned (_cosign): by the author's clinical supervisor, at now(), with
#       the attestation; the returned comment is kept;
#   pending -> returned (note_return): with a comment; nothing else moves;
#   returned -> pending (_add_addendum): only after the author's addendum in the same
#       transaction; nothing else moves.
# Anything else that touches a signed note's co-signature columns is refused: a
# co-signature is not forged, erased, backdated or replayed.
COSIGN_LOCK_SQL = """
CREATE OR REPLACE FUNCTION clinical_note_cosign_lock() RETURNS trigger AS $$
DECLARE
    skew CONSTANT interval := make_interval(secs => <SKEW>);
BEGIN
    IF TG_OP = 'INSERT' OR OLD.status <> 'signed' THEN
        IF NEW.cosigned_at IS NOT NULL OR NEW.cosigned_by_id IS NOT NULL
           OR NEW.cosign_attestation <> '' OR NEW.returned_comment <> ''
           OR NEW.cosign_status <> (CASE
                WHEN NEW.status = 'signed' AND NEW.cosign_required THEN 'pending'
                ELSE '' END) THEN
            RAISE EXCEPTION 'clinical_progressnote: a note is co-signed after it is signed, '
                'by the supervisor, through the co-signature'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.status = 'signed'
           AND NEW.cosign_required IS DISTINCT FROM (
                SELECT requires_cosign FROM accounts_user WHERE id = NEW.author_id) THEN
            RAISE EXCEPTION 'clinical_progressnote: the author''s note needs a co-signature '
                'as their account says'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF ROW(NEW.cosign_status, NEW.cosigned_at, NEW.cosigned_by_id, NEW.cosign_attestation,
           NEW.returned_comment)
       IS NOT DISTINCT FROM ROW(OLD.cosign_status, OLD.cosigned_at, OLD.cosigned_by_id,
           OLD.cosign_attestation, OLD.returned_comment) THEN
        RETURN NEW;
    END IF;
    IF OLD.cosign_status = 'pending' AND NEW.cosign_status = 'cosigned'
       AND NEW.cosigned_at BETWEEN now() - skew AND clock_timestamp() + skew
       AND NEW.cosigned_by_id IS NOT NULL
       AND NEW.cosigned_by_id = (
            SELECT clinical_supervisor_id FROM accounts_user WHERE id = NEW.author_id)
       AND NEW.cosign_attestation <> ''
       AND NEW.returned_comment IS NOT DISTINCT FROM OLD.returned_comment THEN
        RETURN NEW;
    END IF;
    IF OLD.cosign_status = 'pending' AND NEW.cosign_status = 'returned'
       AND NEW.returned_comment <> ''
       AND ROW(NEW.cosigned_at, NEW.cosigned_by_id, NEW.cosign_attestation)
           IS NOT DISTINCT FROM ROW(OLD.cosigned_at, OLD.cosigned_by_id, OLD.cosign_attestation)
       THEN
        RETURN NEW;
    END IF;
    IF OLD.cosign_status = 'returned' AND NEW.cosign_status = 'pending'
       AND ROW(NEW.cosigned_at, NEW.cosigned_by_id, NEW.cosign_attestation,
               NEW.returned_comment)
           IS NOT DISTINCT FROM ROW(OLD.cosigned_at, OLD.cosigned_by_id,
               OLD.cosign_attestation, OLD.returned_comment)
       AND EXISTS (
            SELECT 1 FROM clinical_addendum
            WHERE note_id = NEW.id AND author_id = NEW.author_id
              AND signed_at >= now() - skew) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'clinical_progressnote: the co-signature is recorded once, by the '
        'author''s supervisor, when it happens'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_note_cosign_lock ON clinical_progressnote;
CREATE TRIGGER clinical_note_cosign_lock
    BEFORE INSERT OR UPDATE ON clinical_progressnote
    FOR EACH ROW EXECUTE FUNCTION clinical_note_cosign_lock();

CREATE OR REPLACE FUNCTION clinical_addendum_signed_now() RETURNS trigger AS $$
DECLARE
    skew CONSTANT interval := make_interval(secs => <SKEW>);
BEGIN
    IF NEW.signed_at IS NULL
       OR NEW.signed_at NOT BETWEEN now() - skew AND clock_timestamp() + skew THEN
        RAISE EXCEPTION 'clinical_addendum: an addendum is signed when it is written'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (
            SELECT 1 FROM clinical_progressnote n
            WHERE n.id = NEW.note_id AND n.author_id = NEW.author_id)
       AND NOT EXISTS (
            SELECT 1 FROM clinical_progressnote n
            JOIN scheduling_groupsession s ON s.id = n.session_id
            JOIN scheduling_group_facilitators f ON f.group_id = s.group_id
            WHERE n.id = NEW.note_id AND f.user_id = NEW.author_id) THEN
        RAISE EXCEPTION 'clinical_addendum: an addendum is signed by the note''s author or, '
            'for a group note, a facilitator of its group'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_addendum_signed_now ON clinical_addendum;
CREATE TRIGGER clinical_addendum_signed_now
    BEFORE INSERT ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_addendum_signed_now();
""".replace("<SKEW>", str(SIGNING_SKEW_SECONDS))

COSIGN_UNLOCK_SQL = """
DROP TRIGGER IF EXISTS clinical_note_cosign_lock ON clinical_progressnote;
DROP FUNCTION IF EXISTS clinical_note_cosign_lock();
DROP TRIGGER IF EXISTS clinical_addendum_signed_now ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_addendum_signed_now();
"""


def apply_signature_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COSIGN_LOCK_SQL, params=None)


def remove_signature_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COSIGN_UNLOCK_SQL, params=None)


# --- A group-note addendum's section (migration 0004_addendum_section) -------------------

# An addendum to one client's section is shown on that client's chart only; one whose
# section belonged to another note would reach a chart the note never entered. The
# addendum triggers above read only the note, the author and the signing time, so they
# stand as they are; this one is added beside them. INSERT only: the append-only
# trigger refuses every UPDATE.
ADDENDUM_SECTION_SQL = """
CREATE OR REPLACE FUNCTION clinical_addendum_section_of_note() RETURNS trigger AS $$
BEGIN
    IF NEW.section_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM clinical_groupnotesection
            WHERE id = NEW.section_id AND note_id = NEW.note_id) THEN
        RAISE EXCEPTION 'clinical_addendum: an addendum to a client''s section belongs to '
            'the note of that section'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_addendum_section_of_note ON clinical_addendum;
CREATE TRIGGER clinical_addendum_section_of_note
    BEFORE INSERT ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_addendum_section_of_note();
"""

ADDENDUM_SECTION_UNDO_SQL = """
DROP TRIGGER IF EXISTS clinical_addendum_section_of_note ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_addendum_section_of_note();
"""


def apply_addendum_section_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADDENDUM_SECTION_SQL, params=None)


def remove_addendum_section_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADDENDUM_SECTION_UNDO_SQL, params=None)


# --- Warnings acknowledged at signing (migration 0005_sign_warnings) ---------------------

# An acknowledged warning is part of the signature: inserted with it, by its signer,
# and never changed or removed (the documentation report counts notes signed over
# copied text from these rows).
SIGN_WARNING_SQL = """
CREATE OR REPLACE FUNCTION clinical_signwarning_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (
                SELECT 1 FROM clinical_progressnote
                WHERE id = NEW.note_id AND status = 'signed'
                  AND signed_by_id = NEW.acknowledged_by_id) THEN
            RAISE EXCEPTION 'clinical_signwarning: a warning is acknowledged by the note''s '
                'signer, with the signature'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'clinical_signwarning is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS clinical_signwarning_append_only ON clinical_signwarning;
CREATE TRIGGER clinical_signwarning_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_signwarning
    FOR EACH ROW EXECUTE FUNCTION clinical_signwarning_append_only();
"""

SIGN_WARNING_UNDO_SQL = """
DROP TRIGGER IF EXISTS clinical_signwarning_append_only ON clinical_signwarning;
DROP FUNCTION IF EXISTS clinical_signwarning_append_only();
"""


def apply_sign_warning_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SIGN_WARNING_SQL, params=None)


def remove_sign_warning_lock(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SIGN_WARNING_UNDO_SQL, params=None)
