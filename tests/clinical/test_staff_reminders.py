"""Clinical staff reminders: each source writes one in-app task for the right person,
once however often the sweep runs, and never for a colleague without a reason; the
words name no client and no clinical content."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from clients.models import CareTeamRole
from clinical.meds.services import measure_record
from clinical.notes import services as services_notes
from clinical.notes.models import ProgressNote
from iop.audit.models import AuditEvent
from iop.notifications.models import Channel, OutboxMessage
from iop.notifications.services import reminders_schedule
from tests.clients.factories import with_care_team
from tests.clinical.factories_meds import gad7, phq9, treated_client
from tests.clinical.notes_factories import (
    client_with_team,
    complete_content,
    group_session,
    individual_content,
    past_appointment,
    section,
)
from tests.clinical.plans_factories import admitted_client, signed_plan
from tests.iop.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def tasks(kind, **filters):
    return OutboxMessage.objects.filter(refs__kind=kind, channel=Channel.IN_APP, **filters)


def _draft_note(client, clinician):
    appointment = past_appointment(client, clinician, hours_ago=2)
    note = services_notes.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    return appointment, note


def _assert_names_nobody(message, client):
    # The staff named in a message (the author, the supervisor) may share a first or last
    # name with the client by chance: their own names are taken out before looking.
    staff = {message.staff.get_full_name(), *(u.get_full_name() for u in message_staff(message))}
    for text in (message.subject, message.body):
        for name in staff - {""}:
            text = text.replace(name, "")
        for word in (client.legal_first_name, client.legal_last_name, client.mrn):
            assert word not in text


def message_staff(message):
    """Every staff member a message may name: its recipient and the clinic's staff."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.all()


def test_unsigned_note_reminds_its_author_once_after_24_hours(clinician, other_clinician):
    client = client_with_team(clinician)
    appointment, note = _draft_note(client, clinician)
    now = timezone.now()
    reminders_schedule(now=now)
    assert not tasks("clinical.note_unsigned").exists()  # ended 1 h ago: not yet

    later = now + timedelta(hours=24)
    assert reminders_schedule(now=later) >= 1
    assert reminders_schedule(now=later) == 0  # the second run writes nothing
    # Five hours on, still one reminder of this note (the run may write the morning
    # digest, due at IOP_STAFF_DIGEST_HOUR, when those hours pass it).
    reminders_schedule(now=later + timedelta(hours=5))
    (task,) = tasks("clinical.note_unsigned")
    assert task.staff == clinician
    assert task.refs["url"] == f"/clinical/notes/appointments/{appointment.public_id}/"
    assert task.refs["client"] == str(client.public_id)
    assert "still a draft" in task.body
    _assert_names_nobody(task, client)
    assert not tasks("clinical.note_unsigned", staff=other_clinician).exists()


def test_a_signed_note_is_not_reminded(clinician):
    client = client_with_team(clinician)
    _appointment, note = _draft_note(client, clinician)
    services_notes.note_sign(note=note, actor=clinician, password=PASSWORD)
    reminders_schedule(now=timezone.now() + timedelta(hours=30))
    assert not tasks("clinical.note_unsigned").exists()


def test_cosignature_waiting_goes_to_the_supervisor_once(clinician, supervisor, other_clinician):
    client = client_with_team(clinician)
    _appointment, note = _draft_note(client, clinician)
    services_notes.note_sign(note=note, actor=clinician, password=PASSWORD)
    reminders_schedule()
    reminders_schedule()
    (task,) = tasks("clinical.cosign_waiting")
    assert task.staff == supervisor
    assert task.refs["url"] == f"/clinical/notes/{note.public_id}/cosign/"
    _assert_names_nobody(task, client)
    assert not tasks("clinical.cosign_waiting", staff__in=[clinician, other_clinician]).exists()


def test_plan_due_for_review_within_7_days_reminds_the_primary_clinician(
    settings, clinician, other_clinician
):
    client = admitted_client(clinician)
    signed_plan(client, clinician)
    settings.IOP_PLAN_REVIEW_DAYS = 30
    reminders_schedule()
    assert not tasks("clinical.plan_review").exists()  # due in 30 days

    settings.IOP_PLAN_REVIEW_DAYS = 6  # now due in 6 days
    reminders_schedule()
    reminders_schedule()
    (task,) = tasks("clinical.plan_review")
    assert task.staff == clinician
    assert task.refs["url"] == f"/clinical/plans/clients/{client.public_id}/treatment/"
    _assert_names_nobody(task, client)
    assert not tasks("clinical.plan_review", staff=other_clinician).exists()


def test_measures_due_every_two_weeks_by_default(clinician, other_clinician):
    client = treated_client(clinician)
    today = timezone.localdate()
    measure_record(
        client=client, instrument="phq9", administered_on=today, items=phq9(), actor=clinician
    )
    reminders_schedule()
    reminders_schedule()
    # PHQ-9 given today; GAD-7 never given: due since admission.
    (gad,) = tasks("clinical.measure_due")
    assert gad.staff == clinician and gad.refs["url"].endswith("/measures/gad7/new/")
    assert "GAD-7" in gad.body
    _assert_names_nobody(gad, client)

    two_weeks = timezone.now() + timedelta(days=14)
    reminders_schedule(now=two_weeks)
    assert reminders_schedule(now=two_weeks) == 0
    assert sorted(t.refs["item"].split(":")[1] for t in tasks("clinical.measure_due")) == [
        "gad7",
        "phq9",
    ]
    assert not tasks("clinical.measure_due", staff=other_clinician).exists()


def test_measures_setting_changes_the_interval(settings, clinician):
    settings.IOP_MEASURE_INTERVAL_DAYS = 7
    client = treated_client(clinician)
    today = timezone.localdate()
    for code, items in (("phq9", phq9()), ("gad7", gad7())):
        measure_record(
            client=client, instrument=code, administered_on=today, items=items, actor=clinician
        )
    reminders_schedule(now=timezone.now() + timedelta(days=6))
    assert not tasks("clinical.measure_due").exists()
    reminders_schedule(now=timezone.now() + timedelta(days=7))
    assert tasks("clinical.measure_due").count() == 2


def test_only_the_primary_clinician_is_reminded_of_a_client(clinician, other_clinician):
    client = treated_client(clinician)
    treated_client(other_clinician)  # bob's own client
    with_care_team(client, other_clinician, role=CareTeamRole.COUNSELLOR)
    reminders_schedule()
    mine = {t.refs["client"] for t in tasks("clinical.measure_due", staff=clinician)}
    bobs = {t.refs["client"] for t in tasks("clinical.measure_due", staff=other_clinician)}
    assert mine == {str(client.public_id)}
    assert str(client.public_id) not in bobs


def test_a_task_closes_itself_when_its_item_is_done(clinician, supervisor):
    client = client_with_team(clinician)
    _appointment, note = _draft_note(client, clinician)
    later = timezone.now() + timedelta(hours=25)
    reminders_schedule(now=later)
    (unsigned,) = tasks("clinical.note_unsigned")
    services_notes.note_sign(note=note, actor=clinician, password=PASSWORD)
    measure_record(
        client=client,
        instrument="gad7",
        administered_on=timezone.localdate(),
        items=gad7(),
        actor=clinician,
    )
    reminders_schedule(now=later)
    unsigned.refresh_from_db()
    assert unsigned.status == "cancelled" and unsigned.last_error == "resolved"
    open_kinds = sorted(
        (t.refs["kind"], t.refs["item"].rsplit(":", 1)[-1] if ":" in t.refs["item"] else "")
        for t in OutboxMessage.objects.open_tasks()
    )
    # The co-signature now waits; the PHQ-9 is still due; the GAD-7 was given.
    assert open_kinds == [("clinical.cosign_waiting", ""), ("clinical.measure_due", "phq9")]
    assert AuditEvent.objects.filter(action="task.resolve").count() == 2


# --- Every session's note accounted for --------------------------------------------------
#
# The clock is driven with time-machine to a minute either side of each edge: the task
# after IOP_NOTE_TASK_HOURS (24), the escalation after IOP_NOTE_ESCALATE_HOURS (72). The
# notes are signed (and attendance marked) at the real time, after the session ended.


def _sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return reminders_schedule()


def _ended_session(facilitator, admin_user, *, present=2):
    """A session of a group ``facilitator`` runs that met (clients marked present after
    its start) and ended a few minutes ago."""
    session, clients, _absent = group_session(facilitator, admin_user, present)
    return session, clients


def _open(kind, **filters):
    return OutboxMessage.objects.open_tasks().filter(refs__kind=kind, **filters)


def test_a_session_that_met_without_a_note_is_a_task_at_24_hours_and_escalated_at_72(
    clinician, supervisor, other_clinician, admin_user
):
    session, clients = _ended_session(clinician, admin_user)
    end = session.ends_at
    _sweep_at(end + timedelta(hours=24) - timedelta(minutes=1))
    assert not _open("clinical.note_missing").exists()

    _sweep_at(end + timedelta(hours=24, minutes=1))
    (task,) = _open("clinical.note_missing")
    assert task.staff == clinician
    assert task.refs["url"] == f"/clinical/notes/sessions/{session.public_id}/"
    assert "client" not in task.refs and session.group.name in task.body
    assert task.refs["due"] == timezone.localdate(end + timedelta(hours=72)).isoformat()
    for client in clients:
        _assert_names_nobody(task, client)
    assert not _open("clinical.note_escalated").exists()

    _sweep_at(end + timedelta(hours=72) - timedelta(minutes=1))
    assert not _open("clinical.note_escalated").exists()
    _sweep_at(end + timedelta(hours=72, minutes=1))
    (escalated,) = _open("clinical.note_escalated")
    assert escalated.staff == supervisor
    assert escalated.refs["url"].startswith("/reports/documentation/?start=")
    assert f"clinician={clinician.pk}" in escalated.refs["url"]
    assert "no note" in escalated.body
    assert not _open("clinical.note_missing", staff=other_clinician).exists()

    # A draft takes the facilitator's task over (the draft's own reminder); the
    # supervisor's stays until the note is signed.
    services_notes.group_note_save(
        session=session, content=complete_content(session),
        sections={c: section(c) for c in clients}, actor=clinician,
    )  # fmt: skip
    _sweep_at(end + timedelta(hours=72, minutes=2))
    assert not _open("clinical.note_missing").exists()
    assert _open("clinical.note_unsigned", staff=clinician).count() == 1
    (escalated,) = _open("clinical.note_escalated")
    assert "a draft" in escalated.body

    note = ProgressNote.objects.get(session=session)
    services_notes.note_sign(note=note, actor=clinician, password=PASSWORD)
    _sweep_at(end + timedelta(hours=72, minutes=3))
    assert (
        not OutboxMessage.objects.open_tasks()
        .filter(
            refs__kind__in=[
                "clinical.note_missing",
                "clinical.note_unsigned",
                "clinical.note_escalated",
            ]
        )
        .exists()
    )


def test_every_facilitator_of_the_group_is_asked_and_the_settings_move_the_edges(
    settings, clinician, other_clinician, supervisor, admin_user
):
    settings.IOP_NOTE_TASK_HOURS, settings.IOP_NOTE_ESCALATE_HOURS = 2, 5
    session, _clients = _ended_session(clinician, admin_user)
    session.group.facilitators.add(other_clinician)
    end = session.ends_at
    _sweep_at(end + timedelta(hours=2) - timedelta(minutes=1))
    assert not _open("clinical.note_missing").exists()
    _sweep_at(end + timedelta(hours=2, minutes=1))
    assert {t.staff for t in _open("clinical.note_missing")} == {clinician, other_clinician}
    assert "2 hours" in _open("clinical.note_missing").first().body
    _sweep_at(end + timedelta(hours=5, minutes=1))
    # Bob has no clinical supervisor: only alice's supervisor is told.
    assert [t.staff for t in _open("clinical.note_escalated")] == [supervisor]


def test_a_session_where_nobody_came_needs_no_note(clinician, admin_user):
    session, _clients = _ended_session(clinician, admin_user, present=0)
    _sweep_at(session.ends_at + timedelta(days=4))
    assert not _open("clinical.note_missing").exists()
    assert not _open("clinical.note_escalated").exists()


def test_a_kept_appointment_without_a_note_until_the_no_show_is_recorded(
    clinician, supervisor, other_clinician
):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=2)
    end = appointment.ends_at
    _sweep_at(end + timedelta(hours=24) - timedelta(minutes=1))
    assert not _open("clinical.note_missing").exists()
    _sweep_at(end + timedelta(hours=24, minutes=1))
    (task,) = _open("clinical.note_missing")
    assert task.staff == clinician and task.refs["client"] == str(client.public_id)
    assert task.refs["url"] == f"/clinical/notes/appointments/{appointment.public_id}/"
    assert "no-show" in task.body
    _assert_names_nobody(task, client)
    _sweep_at(end + timedelta(hours=72, minutes=1))
    (escalated,) = _open("clinical.note_escalated")
    assert escalated.staff == supervisor and escalated.refs["client"] == str(client.public_id)
    _assert_names_nobody(escalated, client)

    services_notes.appointment_no_show(appointment=appointment, actor=clinician)
    _sweep_at(end + timedelta(hours=72, minutes=2))
    assert not _open("clinical.note_missing").exists()
    assert not _open("clinical.note_escalated").exists()


def test_the_task_leaves_the_clinician_whose_reason_ended(clinician, supervisor, intake_user):
    """Every list asks clients.access: a clinician off the care team can no longer write
    the note, so the task closes (and the supervisor's with it)."""
    from clients.services import care_team_end

    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=2)
    _sweep_at(appointment.ends_at + timedelta(hours=73))
    assert _open("clinical.note_missing", staff=clinician).count() == 1
    assert _open("clinical.note_escalated", staff=supervisor).count() == 1
    member = client.care_team.get(staff=clinician)
    with_care_team(client, UserFactory(username="keeper", roles=["clinician"]))
    care_team_end(member=member, actor=intake_user, ended_on=timezone.localdate())
    _sweep_at(appointment.ends_at + timedelta(hours=73, minutes=1))
    assert not _open("clinical.note_missing").exists()
    assert not _open("clinical.note_escalated").exists()


# --- Returned notes and co-signatures re-queued ----------------------------------------------


def test_a_returned_note_is_the_authors_task_and_the_addendum_requeues_it(
    clinician, supervisor, client_as
):
    from clinical.notes.selectors import cosign_queue

    client = client_with_team(clinician)
    first = services_notes.note_sign(
        note=_draft_note(client, clinician)[1], actor=clinician, password=PASSWORD
    )
    appointment = past_appointment(client, clinician, hours_ago=5)
    second = services_notes.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    services_notes.note_sign(note=second, actor=clinician, password=PASSWORD)
    reminders_schedule()
    assert _open("clinical.cosign_waiting", staff=supervisor).count() == 2

    services_notes.note_return(note=first, comment="Add the client's own words.", actor=supervisor)
    reminders_schedule()
    (returned,) = _open("clinical.note_returned")
    assert returned.staff == clinician and returned.refs["client"] == str(client.public_id)
    _assert_names_nobody(returned, client)
    assert _open("clinical.cosign_waiting", staff=supervisor).count() == 1

    services_notes.addendum_add(
        note=first, text="The client said: one day at a time.", actor=clinician, password=PASSWORD
    )
    reminders_schedule()
    assert not _open("clinical.note_returned").exists()
    # The queue holds two notes again, and so does the task list.
    assert cosign_queue(supervisor).count() == 2
    assert _open("clinical.cosign_waiting", staff=supervisor).count() == 2
    html = client_as(supervisor).get("/notifications/tasks/").content.decode()
    assert html.count('data-kind="clinical.cosign_waiting"') == 2
    # Returned and re-queued a second time: a task again each time.
    services_notes.note_return(note=first, comment="And the plan.", actor=supervisor)
    reminders_schedule()
    assert _open("clinical.note_returned").count() == 1
    services_notes.addendum_add(
        note=first, text="Plan: weekly.", actor=clinician, password=PASSWORD
    )
    reminders_schedule()
    assert _open("clinical.cosign_waiting", staff=supervisor).count() == 2
    assert cosign_queue(supervisor).count() == 2


# --- Safety flags ---------------------------------------------------------------------------------


def test_a_safety_flag_is_a_task_for_the_care_team_and_the_supervisor_until_acknowledged(
    clinician, supervisor, other_clinician, intake_user, client_as
):
    from clinical.meds.services import measure_flag_acknowledge

    client = treated_client(clinician)
    with_care_team(client, intake_user, role="intake")
    flag = measure_record(
        client=client, instrument="phq9", administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1), actor=clinician,
    )  # fmt: skip
    treated_client(other_clinician)  # bob's own client, no flag
    reminders_schedule()
    reminders_schedule()
    flags = _open("clinical.safety_flag")
    assert {t.staff for t in flags} == {clinician, supervisor}
    for task in flags:
        assert task.refs["url"] == f"/clinical/meds/measures/{flag.public_id}/"
        assert task.refs["due"] == timezone.localdate().isoformat()
        _assert_names_nobody(task, client)
    # The supervisor's task list names the supervisee's client and its link opens.
    web = client_as(supervisor)
    html = web.get("/notifications/tasks/").content.decode()
    assert str(client) in html and 'data-kind="clinical.safety_flag"' in html
    assert web.get(flags.first().refs["url"]).status_code == 200

    measure_flag_acknowledge(measure=flag, follow_up="assessed", actor=clinician)
    reminders_schedule()
    assert not _open("clinical.safety_flag").exists()


def test_a_safety_flag_task_closes_when_the_reason_ends(clinician, supervisor, intake_user):
    from clients.services import care_team_end

    client = treated_client(clinician)
    measure_record(
        client=client, instrument="phq9", administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2), actor=clinician,
    )  # fmt: skip
    reminders_schedule()
    assert _open("clinical.safety_flag").count() == 2
    member = client.care_team.get(staff=clinician)
    with_care_team(client, UserFactory(username="keeper", roles=["clinician"]))
    care_team_end(member=member, actor=intake_user, ended_on=timezone.localdate())
    reminders_schedule()
    # Alice's and her supervisor's close; the new primary clinician's is open.
    assert [t.staff.username for t in _open("clinical.safety_flag")] == ["keeper"]
