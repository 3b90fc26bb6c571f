"""Clinical staff reminders: each source writes one in-app task for the right person,
once however often the sweep runs, and never for a colleague without a reason; the
words name no client and no clinical content."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import CareTeamRole
from clinical.meds.services import measure_record
from clinical.notes import services as services_notes
from iop.audit.models import AuditEvent
from iop.notifications.models import Channel, OutboxMessage
from iop.notifications.services import reminders_schedule
from tests.clinical.factories_meds import gad7, phq9, treated_client
from tests.clinical.notes_factories import (
    client_with_team,
    individual_content,
    past_appointment,
)
from tests.clinical.plans_factories import admitted_client, signed_plan
from tests.iop.factories import PASSWORD

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
    for word in (client.legal_first_name, client.legal_last_name, client.mrn):
        assert word not in message.subject and word not in message.body


def test_unsigned_note_reminds_its_author_once_after_24_hours(clinician, other_clinician):
    client = client_with_team(clinician)
    appointment, note = _draft_note(client, clinician)
    now = timezone.now()
    reminders_schedule(now=now)
    assert not tasks("clinical.note_unsigned").exists()  # ended 1 h ago: not yet

    later = now + timedelta(hours=24)
    assert reminders_schedule(now=later) >= 1
    assert reminders_schedule(now=later) == 0  # the second run writes nothing
    assert reminders_schedule(now=later + timedelta(hours=5)) == 0
    (task,) = tasks("clinical.note_unsigned")
    assert task.staff == clinician
    assert task.refs["url"] == f"/clinical/notes/appointments/{appointment.public_id}/"
    assert task.refs["client"] == str(client.public_id)
    assert "unsigned" in task.body
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
    from tests.clients.factories import with_care_team

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
