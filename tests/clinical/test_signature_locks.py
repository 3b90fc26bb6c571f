"""What the app's database role may change after a signature, on PostgreSQL
(clinical/migrations/0003_signature_locks.py, clinical/notes/lock.py).

Each forged statement runs as the role docker compose gives the web app
(docker/postgres-init/app-role.psql, made inside the test's transaction as
tests/iop/test_audit_database.py does): a co-signature is not forged, erased,
backdated or skipped; an addendum is not backdated, future-dated or signed in another
person's name; a superseded plan version is not made current again, and the newest
version is not stripped of its place. The legitimate flows go through the services as
that same role and still work: sign, co-sign, return, addendum then co-sign, a plan
review and a new relapse-prevention version.
"""

from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction

from clinical.notes import services
from clinical.notes.models import (
    Addendum,
    CosignStatus,
    NoteStatus,
    ProgressNote,
    SignedNoteLocked,
)
from clinical.plans.models import RelapsePreventionVersion, TreatmentPlanVersion
from tests.clinical.notes_factories import group_session, signed_group_note
from tests.clinical.plans_factories import admitted_client, relapse_version, signed_plan
from tests.iop.factories import PASSWORD, UserFactory
from tests.iop.test_audit_database import _create_app_role

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the signature triggers and the app role are PostgreSQL's; SQLite relies on "
    "the models' own checks",
)
REFUSED = "co-signature|co-signed|addendum|never current again|after every earlier|in force"


@pytest.fixture
def app_role():
    return _create_app_role()


@contextmanager
def as_app_role(role):
    """Run what the block does as the app role; a refusal rolls the savepoint back (and
    the SET ROLE with it), a success drops back to the test's own role."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
        yield
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _sql(role, *statements):
    with as_app_role(role), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _refused(role, *statements, at_commit=False):
    """The statements, as the app role, are refused. ``at_commit`` checks the deferred
    constraints as a COMMIT would (the test's transaction is never committed)."""
    if at_commit:
        statements = (*statements, ("SET CONSTRAINTS ALL IMMEDIATE", None))
    with pytest.raises(DatabaseError, match=REFUSED):
        _sql(role, *statements)


def _note_row(note) -> dict:
    return ProgressNote.objects.filter(pk=note.pk).values(
        "cosign_status", "cosigned_at", "cosigned_by", "cosign_attestation", "returned_comment"
    )[0]


@pytest.fixture
def pending(clinician, admin_user):
    """A pre-licensed author's signed group note, waiting for the supervisor."""
    session, present, _ = group_session(clinician, admin_user, 2)
    note = signed_group_note(session, present, clinician)
    assert note.cosign_status == CosignStatus.PENDING
    return note


@pytest.fixture
def stranger(db):
    return UserFactory(username="sam", roles=["supervisor"])


# --- Co-signature ------------------------------------------------------------------------

UPDATE = "UPDATE clinical_progressnote SET {} WHERE id = %s"


@postgres_only
def test_the_app_role_cannot_forge_a_cosignature(app_role, pending, supervisor, stranger):
    before = _note_row(pending)
    cosign = (
        "cosign_status = 'cosigned', cosigned_by_id = %s, cosigned_at = {},"
        " cosign_attestation = 'I reviewed it.'"
    )
    # Another person's name, now.
    _refused(app_role, (UPDATE.format(cosign.format("now()")), [stranger.pk, pending.pk]))
    # The supervisor's name, backdated to the day the note was signed.
    _refused(
        app_role,
        (UPDATE.format(cosign.format("now() - interval '2 days'")), [supervisor.pk, pending.pk]),
    )
    # The supervisor's name, dated ahead.
    _refused(
        app_role,
        (UPDATE.format(cosign.format("now() + interval '1 hour'")), [supervisor.pk, pending.pk]),
    )
    # The requirement skipped, or the note sent back with nothing said.
    _refused(app_role, (UPDATE.format("cosign_status = ''"), [pending.pk]))
    _refused(app_role, (UPDATE.format("cosign_status = 'returned'"), [pending.pk]))
    assert _note_row(pending) == before


@pytest.mark.parametrize(
    "change",
    [
        "cosigned_at = NULL",  # erased
        "cosigned_by_id = NULL, cosigned_at = NULL, cosign_status = 'pending'",  # undone
        "cosigned_at = cosigned_at - interval '3 days'",  # backdated
        "cosigned_at = now()",  # re-dated
        "cosigned_by_id = %s",  # re-attributed
        "cosign_attestation = 'Reviewed in part.'",
        "returned_comment = 'Add the plan.'",
    ],
)
@postgres_only
def test_a_recorded_cosignature_cannot_change(app_role, pending, supervisor, stranger, change):
    services.note_cosign(note=pending, actor=supervisor, password=PASSWORD)
    before = _note_row(pending)
    params = [stranger.pk, pending.pk] if "%s" in change else [pending.pk]
    _refused(app_role, (UPDATE.format(change), params))
    assert _note_row(pending) == before


@postgres_only
def test_a_draft_carries_no_cosignature_and_signing_keeps_the_requirement(
    app_role, clinician, supervisor, admin_user
):
    session, present, _ = group_session(clinician, admin_user, 1)
    draft = services.group_note_save(
        session=session, content=services.NoteContent(), sections={}, actor=clinician
    )
    _refused(
        app_role,
        (
            UPDATE.format(
                "cosign_status = 'cosigned', cosigned_by_id = %s, cosigned_at = now(),"
                " cosign_attestation = 'x'"
            ),
            [supervisor.pk, draft.pk],
        ),
    )
    # Signing straight past the co-signature the author's licence needs.
    _refused(
        app_role,
        (
            UPDATE.format(
                "status = 'signed', signed_at = now(), signed_by_id = author_id,"
                " cosign_required = false, cosign_status = ''"
            ),
            [draft.pk],
        ),
    )
    assert ProgressNote.objects.get(pk=draft.pk).status == NoteStatus.DRAFT


@postgres_only
def test_a_returned_note_goes_back_to_the_queue_only_with_the_authors_addendum(
    app_role, pending, clinician, supervisor
):
    services.note_return(note=pending, comment="Add the SI follow-up.", actor=supervisor)
    _refused(app_role, (UPDATE.format("cosign_status = 'pending'"), [pending.pk]))
    assert _note_row(pending)["cosign_status"] == CosignStatus.RETURNED


# --- Addenda -----------------------------------------------------------------------------

INSERT_ADDENDUM = (
    "INSERT INTO clinical_addendum (public_id, note_id, author_id, text, signed_at, attestation)"
    " VALUES (gen_random_uuid(), %s, %s, 'Client called after group.', {}, 'I attest.')"
)


@pytest.mark.parametrize(
    ("author", "signed_at"),
    [
        ("author", "now() - interval '3 days'"),  # backdated
        ("author", "now() - interval '10 minutes'"),  # beyond the clock skew
        ("author", "now() + interval '1 day'"),  # dated ahead
        ("other", "now() - interval '3 days'"),  # another person, at a past time
        ("other", "now()"),  # another person, now
    ],
)
@postgres_only
def test_the_app_role_cannot_insert_a_forged_addendum(
    app_role, pending, clinician, other_clinician, author, signed_at
):
    who = clinician if author == "author" else other_clinician
    _refused(app_role, (INSERT_ADDENDUM.format(signed_at), [pending.pk, who.pk]))
    assert not Addendum.objects.exists()


@postgres_only
def test_the_app_role_cannot_change_or_remove_an_addendum(app_role, pending, clinician):
    services.addendum_add(note=pending, text="Late detail.", actor=clinician, password=PASSWORD)
    for sql in (
        "UPDATE clinical_addendum SET signed_at = signed_at - interval '3 days'",
        "UPDATE clinical_addendum SET author_id = author_id",
        "DELETE FROM clinical_addendum",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            _sql(app_role, (sql, None))
    assert Addendum.objects.get().text == "Late detail."


INSERT_SECTION_ADDENDUM = (
    "INSERT INTO clinical_addendum (public_id, note_id, section_id, author_id, text, signed_at,"
    " attestation) VALUES (gen_random_uuid(), %s, %s, %s, 'Sponsor found.', now(), 'I attest.')"
)


@postgres_only
def test_the_app_role_cannot_add_an_addendum_to_another_notes_section(
    app_role, pending, clinician, admin_user
):
    """A section's addendum is shown on that client's chart only: one pointing at a
    section of another note would put it on a chart this note never entered."""
    session, present, _ = group_session(clinician, admin_user, 1)
    foreign = signed_group_note(session, present, clinician).sections.get()
    _refused(app_role, (INSERT_SECTION_ADDENDUM, [pending.pk, foreign.pk, clinician.pk]))
    assert not Addendum.objects.exists()
    own = pending.sections.first()
    _sql(app_role, (INSERT_SECTION_ADDENDUM, [pending.pk, own.pk, clinician.pk]))
    assert Addendum.objects.get().section == own


# --- Plans -------------------------------------------------------------------------------


@pytest.fixture
def two_versions(clinician):
    """A treatment plan and a relapse-prevention plan, each reviewed once: version 1
    superseded, version 2 in force."""
    client = admitted_client(clinician)
    signed_plan(client, clinician, "Attend 3 groups a week")
    signed_plan(client, clinician, "Attend 3 groups a week", "Two negative screens")
    relapse_version(client, clinician)
    relapse_version(client, clinician, of_version=1, coping_strategies=["Swim"])
    return client


PLAN_TABLES = [
    pytest.param(TreatmentPlanVersion, id="treatment"),
    pytest.param(RelapsePreventionVersion, id="relapse"),
]


def _current(model, client) -> list[int]:
    return list(
        model.objects.filter(client=client, is_current=True).values_list("number", flat=True)
    )


@pytest.mark.parametrize("model", PLAN_TABLES)
@postgres_only
def test_a_superseded_plan_version_is_never_current_again(app_role, two_versions, model):
    table = model._meta.db_table
    plan_id = model.objects.filter(client=two_versions).values_list("plan_id", flat=True)[0]
    # In one statement, or in two.
    _refused(
        app_role, (f"UPDATE {table} SET is_current = (number = 1) WHERE plan_id = %s", [plan_id])
    )
    _refused(
        app_role,
        (f"UPDATE {table} SET is_current = false WHERE plan_id = %s AND number = 2", [plan_id]),
        (f"UPDATE {table} SET is_current = true WHERE plan_id = %s AND number = 1", [plan_id]),
    )
    # The plan in force stripped of its place, leaving none (refused when it commits).
    _refused(
        app_role,
        (f"UPDATE {table} SET is_current = false WHERE plan_id = %s", [plan_id]),
        at_commit=True,
    )
    assert _current(model, two_versions) == [2]


@postgres_only
def test_an_old_version_cannot_come_back_as_a_new_row(app_role, two_versions):
    copy_back = (
        "INSERT INTO clinical_treatmentplanversion (public_id, client_id, number, is_current,"
        " content, created_by_id, created_at, plan_id, client_agreement, client_signed_on,"
        " reviewed_on, review_summary)"
        " SELECT gen_random_uuid(), client_id, 0, true, content, created_by_id, created_at,"
        " plan_id, client_agreement, client_signed_on, reviewed_on, review_summary"
        " FROM clinical_treatmentplanversion WHERE client_id = %s AND number = 1"
    )
    _refused(
        app_role,
        (
            "UPDATE clinical_treatmentplanversion SET is_current = false WHERE client_id = %s",
            [two_versions.pk],
        ),
        (copy_back, [two_versions.pk]),
    )
    assert _current(TreatmentPlanVersion, two_versions) == [2]


# --- The legitimate flows, as the app role -----------------------------------------------


@postgres_only
def test_sign_return_addendum_and_cosign_work_as_the_app_role(
    app_role, clinician, supervisor, admin_user
):
    session, present, _ = group_session(clinician, admin_user, 2)
    co_facilitator = UserFactory(username="dana", roles=["clinician"])
    session.group.facilitators.add(co_facilitator)
    with as_app_role(app_role):
        note = signed_group_note(session, present, clinician)
        assert note.cosign_status == CosignStatus.PENDING
        services.note_return(note=note, comment="Add the SI follow-up.", actor=supervisor)
        # A co-facilitator's addendum is accepted and leaves the note with the author.
        services.addendum_add(
            note=note, text="Seen leaving calm.", actor=co_facilitator, password=PASSWORD
        )
        assert _note_row(note)["cosign_status"] == CosignStatus.RETURNED
        services.addendum_add(note=note, text="Follow-up done.", actor=clinician, password=PASSWORD)
        assert _note_row(note)["cosign_status"] == CosignStatus.PENDING
        note = services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
    row = _note_row(note)
    assert (row["cosign_status"], row["cosigned_by"]) == (CosignStatus.COSIGNED, supervisor.pk)
    assert row["returned_comment"] == "Add the SI follow-up."  # kept with the record
    assert Addendum.objects.filter(note=note).count() == 2


@postgres_only
def test_section_addenda_work_as_the_app_role(app_role, clinician, supervisor, admin_user):
    """The addendum triggers read the note, the author and the signing time: an addendum
    to one client's section passes them as the narrative's does, and the author's
    sends a returned note back for co-signature."""
    session, present, _ = group_session(clinician, admin_user, 2)
    co_facilitator = UserFactory(username="dana", roles=["clinician"])
    session.group.facilitators.add(co_facilitator)
    with as_app_role(app_role):
        note = signed_group_note(session, present, clinician)
        services.note_return(note=note, comment="Add the SI follow-up.", actor=supervisor)
        services.addendum_add(
            note=note,
            text="Seen leaving calm.",
            section_client=present[1],
            actor=co_facilitator,
            password=PASSWORD,
        )
        services.addendum_add(
            note=note,
            text="Follow-up done.",
            section_client=present[0],
            actor=clinician,
            password=PASSWORD,
        )
        assert _note_row(note)["cosign_status"] == CosignStatus.PENDING
    assert sorted(
        Addendum.objects.filter(note=note).values_list("section__client", flat=True)
    ) == sorted(c.pk for c in present)


@postgres_only
def test_sign_and_cosign_at_once_and_a_licensed_authors_note_work_as_the_app_role(
    app_role, clinician, other_clinician, supervisor, admin_user
):
    session, present, _ = group_session(clinician, admin_user, 1)
    licensed_session, licensed_present, _ = group_session(other_clinician, admin_user, 1)
    with as_app_role(app_role):
        note = signed_group_note(session, present, clinician)
        services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
        licensed = signed_group_note(licensed_session, licensed_present, other_clinician)
    assert _note_row(note)["cosign_status"] == CosignStatus.COSIGNED
    assert (licensed.cosign_required, _note_row(licensed)["cosign_status"]) == (False, "")


@postgres_only
def test_plan_reviews_and_new_relapse_versions_work_as_the_app_role(app_role, clinician):
    client = admitted_client(clinician)
    with as_app_role(app_role):
        signed_plan(client, clinician, "Attend 3 groups a week")
        signed_plan(client, clinician, "Attend 3 groups a week", "Two negative screens")
        relapse_version(client, clinician)
        relapse_version(client, clinician, of_version=1, coping_strategies=["Swim"])
        with connection.cursor() as cursor:  # what COMMIT checks
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert _current(TreatmentPlanVersion, client) == [2]
    assert _current(RelapsePreventionVersion, client) == [2]


# --- The model's own check (every database) ---------------------------------------------


def test_a_cosigned_notes_cosignature_cannot_change_through_the_model(
    pending, supervisor, stranger
):
    services.note_cosign(note=pending, actor=supervisor, password=PASSWORD)
    note = ProgressNote.objects.get(pk=pending.pk)
    note.cosigned_by = stranger
    with pytest.raises(SignedNoteLocked):
        note.save(update_fields=["cosigned_by"])
    assert ProgressNote.objects.get(pk=pending.pk).cosigned_by == supervisor
