"""In the browser: a clinician with a note still unsigned 24 hours after the session
sees the count in the navigation, opens the task list and follows the link to the note;
a facilitator finds the session that met without a note; a supervisor finds a
supervisee's client's safety flag; an admin reads the outbox counts and retries a
failed message."""

import re
import uuid
from datetime import time, timedelta

import pytest
from django.utils import timezone

from clinical.meds.services import measure_flag_acknowledge, measure_record
from clinical.notes import services as services_notes
from clinical.notes.models import ProgressNote
from iop.audit.models import AuditEvent
from iop.notifications.models import Channel, OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_sweep
from scheduling.models import GroupSession, local_datetime
from tests.clinical.factories_meds import phq9, treated_client
from tests.clinical.notes_factories import (
    client_with_team,
    group_session,
    individual_content,
    modality,
    past_appointment,
    signed_group_note,
)
from tests.iop.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_follows_the_unsigned_note_task_to_the_note(page, browser_login, clinician):
    modality()  # the catalogue, put back after a transactional flush
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=30)
    services_notes.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    outbox_sweep()  # writes the note task (and the measures due since admission), shows them
    open_tasks = OutboxMessage.objects.open_tasks_for(clinician).count()
    assert open_tasks >= 1

    browser_login("alice")
    badge = page.get_by_test_id("task-count")
    badge.wait_for()
    assert badge.inner_text().strip() == str(open_tasks)

    page.get_by_test_id("nav-tasks").click()
    page.wait_for_url("**/notifications/tasks/")
    task = page.locator('[data-kind="clinical.note_unsigned"]')
    assert client.mrn in task.inner_text()  # alice may open her client: named, with MRN
    # It closes itself when the note is signed: no "Mark done" to hide it before.
    assert task.get_by_role("button", name="Mark done").count() == 0
    assert task.get_by_test_id("task-closes-itself").count() == 1
    note_url = f"/clinical/notes/appointments/{appointment.public_id}/"
    with page.expect_response(re.compile(re.escape(note_url) + "$")) as answer:
        task.get_by_test_id("task-link").click()
    assert answer.value.status == 200
    page.wait_for_url(f"**{note_url}")

    note = ProgressNote.objects.get(appointment=appointment)
    services_notes.note_sign(note=note, actor=clinician, password=PASSWORD)
    outbox_sweep()
    page.goto("/notifications/tasks/")
    assert page.locator('[data-kind="clinical.note_unsigned"]').count() == 0
    assert page.get_by_test_id("task-count").inner_text().strip() == str(
        OutboxMessage.objects.open_tasks_for(clinician).count()
    )


def test_a_facilitator_finds_the_session_without_a_note(page, browser_login, clinician, admin_user):
    modality()
    session, clients, _absent = group_session(clinician, admin_user, 2)
    # It met (clients marked present after it began) two days ago, 11:00-14:00: more
    # than 24 hours ago (a task), less than 72 (not yet the supervisor's).
    day = timezone.localdate() - timedelta(days=2)
    GroupSession.objects.filter(pk=session.pk).update(
        date=day, starts_at=local_datetime(day, time(11)), ends_at=local_datetime(day, time(14))
    )
    outbox_sweep()
    browser_login("alice")
    page.get_by_test_id("nav-tasks").click()
    page.wait_for_url("**/notifications/tasks/")
    task = page.locator('[data-kind="clinical.note_missing"]')
    assert task.count() == 1
    assert session.group.name in task.inner_text() and "no note" in task.inner_text()
    assert task.get_by_test_id("task-due").inner_text().startswith("due ")
    assert task.get_by_role("button", name="Mark done").count() == 0
    note_url = f"/clinical/notes/sessions/{session.public_id}/"
    with page.expect_response(re.compile(re.escape(note_url) + "$")) as answer:
        task.get_by_test_id("task-link").click()
    assert answer.value.status == 200
    for client in clients:  # the note's page lists the clients who came
        assert client.mrn in page.content()

    session.refresh_from_db()
    signed_group_note(session, clients, clinician)
    outbox_sweep()
    page.goto("/notifications/tasks/")
    assert page.locator('[data-kind="clinical.note_missing"]').count() == 0


def test_a_supervisor_finds_a_supervisees_safety_flag_in_their_tasks(
    page, browser_login, clinician, supervisor
):
    client = treated_client(clinician)
    flag = measure_record(
        client=client, instrument="phq9", administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2), actor=clinician,
    )  # fmt: skip
    outbox_sweep()
    browser_login("carol")
    badge = page.get_by_test_id("task-count")
    badge.wait_for()
    assert int(badge.inner_text().strip()) >= 1
    page.get_by_test_id("nav-tasks").click()
    page.wait_for_url("**/notifications/tasks/")
    task = page.locator('[data-kind="clinical.safety_flag"]')
    assert task.count() == 1
    assert client.mrn in task.inner_text()  # carol reads her supervisee's client
    # First on the list: due the day it was answered.
    assert page.get_by_test_id("task").first.get_attribute("data-kind") == "clinical.safety_flag"
    detail = f"/clinical/meds/measures/{flag.public_id}/"
    with page.expect_response(re.compile(re.escape(detail) + "$")) as answer:
        task.get_by_test_id("task-link").click()
    assert answer.value.status == 200
    # The supervisor reads it; the care team acknowledges it.
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    page.goto("/")
    assert page.get_by_test_id("flag-read-only").count() == 1

    measure_flag_acknowledge(measure=flag, follow_up="safety_plan", actor=clinician)
    outbox_sweep()
    page.goto("/notifications/tasks/")
    assert page.locator('[data-kind="clinical.safety_flag"]').count() == 0


def _message(status, *, channel=Channel.EMAIL, error=""):
    return OutboxMessage.objects.create(
        idempotency_key=f"e2e:{uuid.uuid4()}",
        audience="staff",
        channel=channel,
        recipient="staff@example.org",
        template="staff_digest",
        subject="Your daily task list: 2 items",
        body="Open your task list.",
        scheduled_for=timezone.now(),
        status=status,
        last_error=error,
    )


def test_admin_sees_outbox_counts_and_retries_a_failed_message(page, browser_login, admin_user):
    for _ in range(3):
        _message(OutboxStatus.SENT)
    failed = _message(OutboxStatus.FAILED, error="SMTPServerDisconnected")
    browser_login("avery")
    page.goto("/notifications/outbox/")
    counts = page.get_by_test_id("outbox-counts")
    sent_row = counts.locator("tr", has=page.locator("th", has_text="Sent"))
    assert sent_row.locator("td").first.inner_text() == "3"
    assert "SMTPServerDisconnected" in page.get_by_test_id("outbox-failed").inner_text()

    row = page.get_by_test_id("outbox-table").locator("tr", has_text="Failed")
    row.get_by_role("button", name="Retry").click()
    page.wait_for_url("**/notifications/outbox/")
    assert page.get_by_role("alert").filter(has_text="Done.").count() == 1
    failed.refresh_from_db()
    assert failed.status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT)
    assert AuditEvent.objects.filter(action="outbox.retry", actor=admin_user).count() == 1
