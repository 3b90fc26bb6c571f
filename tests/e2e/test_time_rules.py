"""Nothing recorded before it happened, in Chromium (issue 19 #1). The clock of the
whole process, the live server's thread included, is driven with time-machine
(ticking from each moment set): the attendance sheet before and after a session's
start, and a group note's signature before and after its end."""

from datetime import timedelta

import pytest

from clinical.notes.models import NoteStatus, ProgressNote
from scheduling import services
from scheduling.models import Attendance
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clinical.notes_factories import modality
from tests.clock import TUESDAY, at, shown
from tests.e2e.notes_helpers import chart_section
from tests.iop.factories import PASSWORD
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_idle_sign_out_across_the_jumps(settings):
    # The test moves the clock by more than the 15 idle minutes between two pages.
    settings.IOP_IDLE_TIMEOUT_MINUTES = 240


def _evening(clinician, admin_user, names):
    """Tuesday's 18:00-21:00 group with a client per name."""
    group = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    clients = []
    for first in names:
        client = ClientFactory(preferred_name=first, status="active")
        EpisodeFactory(client=client, admitted_on=TUESDAY - timedelta(days=20))
        with_care_team(client, clinician)
        services.enrollment_create(
            client=client, group=group, start_on=TUESDAY - timedelta(days=7), actor=admin_user
        )
        clients.append(client)
    session = GroupSessionFactory(
        group=group, date=TUESDAY, starts_at=at(TUESDAY, "18:00"), ends_at=at(TUESDAY, "21:00")
    )
    return session, clients


def _buttons(row):
    return row.locator("button[name=status]").all_inner_texts()


def test_the_sheet_offers_each_status_from_its_time_and_says_when(
    page, browser_login, clinician, admin_user, time_machine
):
    time_machine.move_to(at(TUESDAY, "17:20"), tick=True)
    session, (ari, bea) = _evening(clinician, admin_user, ["Ari", "Bea"])
    browser_login("alice")
    page.goto(f"/scheduling/sessions/{session.public_id}/attendance/")
    waiting = page.get_by_test_id("attendance-not-yet").inner_text()
    assert f"Present, late and telehealth can be marked from {shown('17:30')}" in waiting
    assert f"Absent and left early can be marked from {shown('18:15')}" in waiting
    assert _buttons(page.get_by_test_id(f"row-{ari.public_id}")) == []
    assert page.get_by_test_id("all-present").count() == 0

    time_machine.move_to(at(TUESDAY, "17:45"), tick=True)  # a client arrives early
    page.reload()
    row = page.get_by_test_id(f"row-{ari.public_id}")
    assert _buttons(row) == ["Present", "Late", "Telehealth"]
    assert f"Absent and left early can be marked from {shown('18:15')}" in (
        page.get_by_test_id("attendance-not-yet").inner_text()
    )
    row.get_by_role("button", name="Present").click()
    page.get_by_test_id(f"row-{ari.public_id}").get_by_text("Present · 180 min").wait_for()

    time_machine.move_to(at(TUESDAY, "18:16"), tick=True)  # Bea has not come
    page.reload()
    assert page.get_by_test_id("attendance-not-yet").count() == 0
    row = page.get_by_test_id(f"row-{bea.public_id}")
    assert "Unexcused absence" in _buttons(row)
    row.get_by_role("button", name="Unexcused absence").click()
    page.get_by_test_id(f"row-{bea.public_id}").get_by_text("Unexcused absence · 0 min").wait_for()
    assert dict(Attendance.objects.values_list("client__preferred_name", "status")) == {
        "Ari": "present",
        "Bea": "unexcused",
    }


def test_the_group_note_is_signed_once_the_session_is_over(
    page, browser_login, clinician, admin_user, time_machine
):
    modality()  # the catalogue, put back after a transactional flush
    time_machine.move_to(at(TUESDAY, "18:20"), tick=True)
    session, (ari,) = _evening(clinician, admin_user, ["Ari"])
    services.attendance_record(
        session=session, client=ari, status="present", minutes=None, actor=clinician
    )

    time_machine.move_to(at(TUESDAY, "20:50"), tick=True)  # writing it before the end
    browser_login("alice")
    page.goto(f"/clinical/notes/sessions/{session.public_id}/")
    page.select_option("#id_modality", label="Cognitive behavioural therapy (CBT)")
    page.check("input[name=interventions][value=role_play]")
    page.fill("#id_narrative", "Refusal skills: role play of a work dinner.")
    chart_section(page, ari, "Named a trigger at work")
    page.get_by_role("button", name="Save and sign…").click()
    page.wait_for_url("**/sign/")
    opens = page.get_by_test_id("signing-opens").inner_text()
    assert opens == f"This note can be signed from {shown('21:00')}, its recorded time out."
    assert page.locator("#id_password").count() == 0
    assert ProgressNote.objects.get().status == NoteStatus.DRAFT

    time_machine.move_to(at(TUESDAY, "21:01"), tick=True)
    page.reload()
    assert page.get_by_test_id("signing-opens").count() == 0
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(f"**/clinical/notes/sessions/{session.public_id}/")
    assert page.get_by_test_id("note-status").inner_text() == "Signed"
    note = ProgressNote.objects.get()
    assert note.status == NoteStatus.SIGNED and note.signed_at >= at(TUESDAY, "21:01")
