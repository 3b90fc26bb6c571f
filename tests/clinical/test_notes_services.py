"""The note rules, in the services that own them: drafts, autosave audit, sections
only for attending clients, completeness, signing, immutability (model and the
PostgreSQL trigger), addenda, co-signature and late entries."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinical.notes import services
from clinical.notes.models import (
    Addendum,
    CosignStatus,
    GroupNoteSection,
    NoteStatus,
    ProgressNote,
    SessionPlan,
    SignedNoteLocked,
)
from iop.audit.models import AuditEvent
from scheduling.models import Appointment
from tests.clinical.notes_factories import (
    client_with_team,
    complete_content,
    group_session,
    individual_content,
    modality,
    past_appointment,
    section,
    signed_group_note,
)
from tests.iop.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the lock triggers are PostgreSQL's; SQLite relies on ProgressNote.save()",
)


@pytest.fixture
def group(clinician, admin_user):
    return group_session(clinician, admin_user, 3, absent=1)


def _draft(session, clients, actor, **kwargs):
    return services.group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c) for c in clients},
        actor=actor,
        **kwargs,
    )


# --- Drafts and autosave -----------------------------------------------------------------


def test_a_group_note_is_one_narrative_and_a_section_per_client(group, clinician):
    session, present, _absent = group
    note = _draft(session, present, clinician)
    assert note.kind == "group" and note.status == NoteStatus.DRAFT and note.client is None
    assert note.format == "BIRP"  # the program's default for group notes
    assert sorted(s.client_id for s in note.sections.all()) == sorted(c.pk for c in present)
    row = AuditEvent.objects.get(action="note.create")
    assert row.detail == "kind=group; sections=3"  # codes and counts, never the words


def test_the_group_note_starts_from_the_sessions_plan(group, clinician):
    session, present, _ = group
    topic = session.group.track.curriculum.get(title="Identifying triggers")
    services.session_plan_set(
        session=session, topic=topic, modality=modality("dbt"), actor=clinician
    )
    note = services.group_note_save(
        session=session, content=services.NoteContent(), sections={}, actor=clinician
    )
    assert (note.topic, note.modality.code) == (topic, "dbt")
    assert SessionPlan.objects.get(session=session).planned_by == clinician


def test_autosave_is_audited_once_per_window_not_per_keystroke(group, clinician):
    session, present, _ = group
    _draft(session, present, clinician, autosave=True)
    for _ in range(5):
        _draft(session, present, clinician, autosave=True)
    assert AuditEvent.objects.filter(action__startswith="note.").count() == 1  # the create
    ProgressNote.objects.update(
        autosave_audited_at=timezone.now() - timedelta(minutes=services.AUTOSAVE_AUDIT_MINUTES)
    )
    _draft(session, present, clinician, autosave=True)
    _draft(session, present, clinician)  # an explicit save is always its own row
    assert list(
        AuditEvent.objects.filter(action__startswith="note.").values_list("action", flat=True)
    ) == ["note.create", "note.autosave", "note.save"]


def test_only_the_author_edits_a_draft(group, clinician, admin_user):
    session, present, _ = group
    _draft(session, present, clinician)
    co_facilitator = UserFactory(username="dana", roles=["clinician"])
    session.group.facilitators.add(co_facilitator)
    with pytest.raises(ValidationError, match="Only the author"):
        _draft(session, present, co_facilitator)


def test_only_a_facilitator_writes_the_group_note(group, other_clinician):
    session, present, _ = group
    with pytest.raises(ValidationError, match="facilitator"):
        _draft(session, present, other_clinician)
    assert not ProgressNote.objects.exists()


def test_a_section_for_an_absent_client_is_refused_and_nothing_is_saved(group, clinician):
    session, present, absent = group
    with pytest.raises(ValidationError, match="did not attend"):
        _draft(session, present + absent, clinician)
    assert not ProgressNote.objects.exists()
    assert not GroupNoteSection.objects.exists()


def test_time_out_before_time_in_is_refused(group, clinician):
    session, present, _ = group
    with pytest.raises(ValidationError) as exc:
        services.group_note_save(
            session=session,
            content=complete_content(time_in=time(19, 0), time_out=time(18, 0)),
            sections={},
            actor=clinician,
        )
    assert "time_out" in exc.value.error_dict
    assert not ProgressNote.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("narrative", "x" * 10_000), ("narrative", "bad\x00byte"), ("interventions", ["hypnosis"])],
)
def test_bad_content_is_refused(group, clinician, field, value):
    session, _present, _ = group
    with pytest.raises(ValidationError):
        services.group_note_save(
            session=session,
            content=complete_content(**{field: value}),
            sections={},
            actor=clinician,
        )
    assert not ProgressNote.objects.exists()


# --- Completeness and signing ------------------------------------------------------------


def test_signing_an_empty_note_is_refused_with_what_is_missing(group, clinician):
    session, present, _ = group
    note = services.group_note_save(
        session=session, content=services.NoteContent(), sections={}, actor=clinician
    )
    missing = {m.message for m in services.note_missing(note)}
    assert {"Time in", "Time out", "Modality", "At least one intervention"} <= missing
    assert "The group narrative" in missing
    for client in present:  # a section for every attending client, named with the MRN
        name = f"{client.display_name} (MRN {client.mrn})"
        assert f"{name}: what the client said or did" in missing
        assert f"{name}: participation" in missing
        assert f"{name}: risk screen" in missing
    with pytest.raises(ValidationError, match="not complete"):
        services.note_sign(note=note, actor=clinician, password=PASSWORD)
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT


def test_risk_present_needs_a_safety_plan_note(group, clinician):
    session, present, _ = group
    sections = {c: section(c) for c in present}
    sections[present[0]] = section(present[0], risk="si")
    note = services.group_note_save(
        session=session, content=complete_content(session), sections=sections, actor=clinician
    )
    anchors = [m.anchor for m in services.note_missing(note)]
    assert anchors == [f"id_{present[0].public_id}-safety_plan_note"]


def test_signing_asks_for_the_password_and_audits_a_wrong_one(group, clinician):
    session, present, _ = group
    note = _draft(session, present, clinician)
    with pytest.raises(ValidationError) as exc:
        services.note_sign(note=note, actor=clinician, password="wrong")
    assert "password" in exc.value.error_dict
    assert AuditEvent.objects.filter(action="note.sign", outcome="denied").count() == 1
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT


def test_signing_with_2fa_asks_for_the_authenticator_code(group, clinician):
    session, present, _ = group
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    note = _draft(session, present, clinician)
    with pytest.raises(ValidationError) as exc:
        services.note_sign(note=note, actor=clinician, password=PASSWORD)  # not enough
    assert "otp_token" in exc.value.error_dict
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    note = services.note_sign(note=note, actor=clinician, otp_token=f"{code:06d}")
    assert note.status == NoteStatus.SIGNED


def test_signing_locks_the_note_and_records_the_attestation(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    assert (note.signed_by, note.attestation) == (clinician, services.ATTESTATION)
    assert note.late_entry is False
    # One sign row per client whose record the note enters.
    assert AuditEvent.objects.filter(action="note.sign").count() == len(present)
    with pytest.raises(ValidationError, match="signed and locked"):
        _draft(session, present, clinician)


def test_a_signed_note_cannot_change_through_the_model(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    note = ProgressNote.objects.get(pk=note.pk)
    note.narrative = "rewritten"
    with pytest.raises(SignedNoteLocked):
        note.save()
    section_row = note.sections.first()
    section_row.plan = "rewritten"
    with pytest.raises(SignedNoteLocked):
        section_row.save()
    with pytest.raises(SignedNoteLocked):
        note.delete()


def _raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@postgres_only
def test_postgres_refuses_an_update_of_a_signed_note_from_any_path(group, clinician, supervisor):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    for statement in (
        lambda: ProgressNote.objects.filter(pk=note.pk).update(narrative="rewritten"),
        lambda: ProgressNote.objects.filter(pk=note.pk).update(status="draft"),
        lambda: GroupNoteSection.objects.filter(note=note).update(plan="rewritten"),
        lambda: GroupNoteSection.objects.filter(note=note).delete(),
        lambda: _raw("DELETE FROM clinical_progressnote WHERE id = %s", note.pk),
    ):
        with pytest.raises(DatabaseError, match="locked|cannot be deleted"), transaction.atomic():
            statement()
    # The co-signature is not content: the supervisor records it after signing
    # (tests/clinical/test_signature_locks.py: only as the services do).
    services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
    assert ProgressNote.objects.get(pk=note.pk).narrative == note.narrative


@postgres_only
def test_postgres_keeps_addenda_append_only(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    services.addendum_add(note=note, text="Late detail.", actor=clinician, password=PASSWORD)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Addendum.objects.update(text="changed")
    draft_session, draft_present, _ = group_session(clinician, UserFactory(roles=["admin"]), 1)
    draft = _draft(draft_session, draft_present, clinician)
    with pytest.raises(DatabaseError, match="signed note"), transaction.atomic():
        Addendum.objects.bulk_create(
            [Addendum(note=draft, author=clinician, text="x", signed_at=timezone.now())]
        )


# --- Addenda and co-signature ------------------------------------------------------------


def test_an_addendum_on_a_draft_is_refused(group, clinician):
    session, present, _ = group
    note = _draft(session, present, clinician)
    with pytest.raises(ValidationError, match="draft"):
        services.addendum_add(note=note, text="More.", actor=clinician, password=PASSWORD)
    assert not Addendum.objects.exists()


def test_an_addendum_is_signed_and_the_note_unchanged(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    addendum = services.addendum_add(
        note=note, text="Client called after group.", actor=clinician, password=PASSWORD
    )
    assert (addendum.author, addendum.attestation) == (clinician, services.ADDENDUM_ATTESTATION)
    with pytest.raises(SignedNoteLocked):
        addendum.text = "changed"
        addendum.save()
    with pytest.raises(ValidationError):
        services.addendum_add(note=note, text="x", actor=clinician, password="wrong")
    assert Addendum.objects.count() == 1


def test_a_pre_licensed_authors_note_waits_for_the_supervisor(group, clinician, supervisor):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    assert note.cosign_status == CosignStatus.PENDING
    from clinical.notes.selectors import cosign_queue

    assert list(cosign_queue(supervisor)) == [note]
    other = UserFactory(username="sam", roles=["supervisor"])
    with pytest.raises(ValidationError, match="clinical supervisor"):
        services.note_cosign(note=note, actor=other, password=PASSWORD)
    note = services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
    assert (note.cosign_status, note.cosigned_by) == (CosignStatus.COSIGNED, supervisor)
    assert list(cosign_queue(supervisor)) == []


def test_a_returned_note_stays_signed_and_an_addendum_sends_it_back(group, clinician, supervisor):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    with pytest.raises(ValidationError):
        services.note_return(note=note, comment="  ", actor=supervisor)
    note = services.note_return(note=note, comment="Add the SI follow-up.", actor=supervisor)
    assert (note.status, note.cosign_status) == (NoteStatus.SIGNED, CosignStatus.RETURNED)
    services.addendum_add(note=note, text="Follow-up done.", actor=clinician, password=PASSWORD)
    note.refresh_from_db()
    assert note.cosign_status == CosignStatus.PENDING


def test_a_section_addendum_enters_only_that_clients_record(group, clinician):
    """A group note's addendum adds to one client's section or to the narrative; each
    enters exactly the records it is shown in, and each of those records' trails."""
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    first = present[0]
    to_section = services.addendum_add(
        note=note,
        text="Called after group: sponsor found.",
        section_client=first,
        actor=clinician,
        password=PASSWORD,
    )
    to_narrative = services.addendum_add(
        note=note, text="Room changed mid-session.", actor=clinician, password=PASSWORD
    )
    assert to_section.section == note.sections.get(client=first)
    assert to_narrative.section is None
    rows = AuditEvent.objects.filter(action="note.addendum")
    assert sorted(
        rows.filter(object_id=str(to_section.public_id)).values_list("client_id", flat=True)
    ) == [first.public_id]
    assert sorted(
        rows.filter(object_id=str(to_narrative.public_id)).values_list("client_id", flat=True)
    ) == sorted(c.public_id for c in present)
    assert set(rows.values_list("detail", flat=True)) == {
        "kind=group; to=section",
        "kind=group; to=note",
    }


def test_an_addendum_to_a_client_without_a_section_is_refused_before_the_password(
    group, clinician, admin_user
):
    session, present, absent = group
    note = signed_group_note(session, present, clinician)
    other_session, other_present, _ = group_session(clinician, admin_user, 1)
    signed_group_note(other_session, other_present, clinician)
    for client in (absent[0], other_present[0], client_with_team(clinician)):
        with pytest.raises(ValidationError) as refused:
            # A wrong password too: the choice is refused first, no attempt is spent.
            services.addendum_add(
                note=note, text="x", section_client=client, actor=clinician, password="wrong"
            )
        assert "no section in this group note" in refused.value.message_dict["target"][0]
    assert not Addendum.objects.exists()
    assert not AuditEvent.objects.filter(action="note.addendum").exists()


def test_an_appointment_notes_addendum_has_no_section(clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    note = services.note_sign(note=note, actor=clinician, password=PASSWORD)
    with pytest.raises(ValidationError, match="one client's"):
        services.addendum_add(
            note=note, text="x", section_client=client, actor=clinician, password=PASSWORD
        )
    addendum = services.addendum_add(note=note, text="Late.", actor=clinician, password=PASSWORD)
    assert addendum.section is None and list(note.addenda.all()) == [addendum]


def test_an_addendum_cannot_point_at_another_notes_section(group, clinician, admin_user):
    """The model's own check (SQLite and PostgreSQL alike; PostgreSQL's trigger is
    tested as the app role in test_signature_locks)."""
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    other_session, other_present, _ = group_session(clinician, admin_user, 1)
    other = signed_group_note(other_session, other_present, clinician)
    with pytest.raises(IntegrityError, match="its own note"), transaction.atomic():
        Addendum.objects.create(
            note=note,
            section=other.sections.get(),
            author=clinician,
            text="x",
            signed_at=timezone.now(),
            attestation=services.ADDENDUM_ATTESTATION,
        )
    assert not Addendum.objects.exists()


def test_the_authors_section_addendum_sends_a_returned_note_back(group, clinician, supervisor):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    services.note_return(
        note=note, comment="Add the SI follow-up for one client.", actor=supervisor
    )
    services.addendum_add(
        note=note,
        text="SI follow-up done.",
        section_client=present[1],
        actor=clinician,
        password=PASSWORD,
    )
    note.refresh_from_db()
    assert note.cosign_status == CosignStatus.PENDING


def test_a_licensed_authors_note_needs_no_cosignature(other_clinician, admin_user):
    session, present, _ = group_session(other_clinician, admin_user, 1)
    note = signed_group_note(session, present, other_clinician)
    assert (note.cosign_required, note.cosign_status) == (False, "")


# --- Late entries ------------------------------------------------------------------------


@pytest.mark.parametrize(("hours_ago", "late"), [(71, False), (73, True)])
def test_a_note_signed_more_than_72_hours_after_the_session_is_a_late_entry(
    clinician, hours_ago, late
):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=hours_ago)
    # Ended a minute after it began, for round numbers.
    appointment.ends_at = appointment.starts_at + timedelta(minutes=1)
    Appointment.objects.filter(pk=appointment.pk).update(ends_at=appointment.ends_at)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    note = services.note_sign(note=note, actor=clinician, password=PASSWORD)
    assert note.late_entry is late


def test_the_late_entry_window_is_a_setting(clinician, settings):
    settings.IOP_LATE_ENTRY_HOURS = 1
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=3)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    assert services.note_sign(note=note, actor=clinician, password=PASSWORD).late_entry


# --- Appointments ------------------------------------------------------------------------


def test_writing_an_appointments_note_completes_it(clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    assert (note.client, note.kind, note.format) == (client, "individual", "DAP")
    assert services.note_missing(note) == []
    with pytest.raises(ValidationError, match="already completed"):
        services.appointment_no_show(appointment=appointment, actor=clinician)


def test_a_no_show_is_recorded_once_and_then_takes_no_note(clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    services.appointment_no_show(appointment=appointment, actor=clinician)
    appointment.refresh_from_db()
    assert appointment.status == "no_show"
    assert AuditEvent.objects.filter(action="appointment.no_show").count() == 1
    with pytest.raises(ValidationError, match="no-show"):
        services.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=clinician
        )


def test_a_future_appointment_takes_neither_note_nor_no_show(clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=-24)
    with pytest.raises(ValidationError, match="not started"):
        services.appointment_no_show(appointment=appointment, actor=clinician)
    with pytest.raises(ValidationError, match="not started"):
        services.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=clinician
        )
    assert not ProgressNote.objects.exists()


def test_only_the_appointments_clinician_writes_its_note(clinician, other_clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    with pytest.raises(ValidationError, match="clinician"):
        services.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=other_clinician
        )


def test_an_individual_note_is_complete_only_with_response_plan_and_risk(clinician):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=appointment,
        content=individual_content(body={"data": "x"}, plan="", risk="hi"),
        actor=clinician,
    )
    assert [m.anchor for m in services.note_missing(note)] == [
        "id_body_assessment",
        "id_plan",
        "id_safety_plan_note",
    ]
