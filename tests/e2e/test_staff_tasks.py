"""In the browser: a clinician with a note still unsigned 24 hours after the session
sees the count in the navigation, opens the task list and follows the link to the note;
an admin reads the outbox counts and retries a failed message."""

import re
import uuid

import pytest
from django.utils import timezone

from clinical.notes import services as services_notes
from iop.audit.models import AuditEvent
from iop.notifications.models import Channel, OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_sweep
from tests.clinical.notes_factories import (
    client_with_team,
    individual_content,
    modality,
    past_appointment,
)

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
    group = page.get_by_test_id("task-group-clinical.note_unsigned")
    assert client.mrn in group.inner_text()  # alice may open her client: named, with MRN
    note_url = f"/clinical/notes/appointments/{appointment.public_id}/"
    with page.expect_response(re.compile(re.escape(note_url) + "$")) as answer:
        group.get_by_test_id("task-link").click()
    assert answer.value.status == 200
    page.wait_for_url(f"**{note_url}")

    page.go_back()
    page.wait_for_url("**/notifications/tasks/")
    group.get_by_role("button", name="Mark done").click()
    page.wait_for_url("**/notifications/tasks/")
    assert page.get_by_test_id("task-group-clinical.note_unsigned").count() == 0
    assert AuditEvent.objects.filter(action="task.done", actor=clinician).count() == 1
    assert page.get_by_test_id("task-count").inner_text().strip() == str(open_tasks - 1)


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
