"""The check-in after an unexcused absence ("We missed you on ...", issue 19 #1): it is
written only once the session has ended, and never goes for an absence corrected
before it went: cancelled by the correction, and asked again by the outbox just
before it sends (a correction that reached the table some other way, or a message
already claimed)."""

import json
from datetime import timedelta

import pytest

from clients.models import ReminderChannel
from iop import when
from iop.audit.models import AuditEvent
from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import (
    outbox_claim,
    outbox_send_claimed,
    outbox_sweep,
    reminders_schedule,
)
from iop.notifications.tasks import deliver_message
from scheduling import services
from scheduling.models import Attendance
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import FALL_BACK, TUESDAY, at
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms(settings, tmp_path):
    path = tmp_path / "sms.jsonl"
    settings.IOP_SMS_BACKEND = "iop.notifications.channels.FileSmsBackend"
    settings.IOP_SMS_FILE_PATH = str(path)

    def sent():
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return sent


def _absent(clinician, admin_user, time_machine, day, *, quiet=None):
    """An evening session on ``day`` (18:00-21:00) and a client who consented to texts,
    marked an unexcused absence at 18:20."""
    time_machine.move_to(at(day, "09:00"), tick=False)
    group = GroupFactory(facilitator=clinician)
    client = ClientFactory(
        status="active",
        reminder_channel=ReminderChannel.SMS,
        reminder_consent=True,
        quiet_hours_start=quiet[0] if quiet else None,
        quiet_hours_end=quiet[1] if quiet else None,
    )
    EpisodeFactory(client=client, admitted_on=day - timedelta(days=30))
    with_care_team(client, clinician)
    services.enrollment_create(
        client=client, group=group, start_on=day - timedelta(days=7), actor=admin_user
    )
    session = GroupSessionFactory(
        group=group, date=day, starts_at=at(day, "18:00"), ends_at=at(day, "21:00")
    )
    time_machine.move_to(at(day, "18:20"), tick=False)
    services.attendance_record(
        session=session, client=client, status="unexcused", minutes=None, actor=clinician
    )
    return session, client


def _checkins():
    return OutboxMessage.objects.filter(template="absence_checkin")


@pytest.mark.parametrize("day", [TUESDAY, FALL_BACK], ids=["ordinary", "clocks-back"])
def test_the_check_in_is_written_only_once_the_session_has_ended(
    clinician, admin_user, time_machine, day
):
    session, client = _absent(clinician, admin_user, time_machine, day)
    reminders_schedule(now=at(day, "20:59"))
    assert not _checkins().exists()
    reminders_schedule(now=at(day, "21:01"))
    (message,) = _checkins()
    assert message.client == client.public_id
    assert message.scheduled_for == at(day, "21:01")
    assert message.refs == {"session": str(session.public_id)}


def test_the_sweep_sends_nothing_while_the_session_runs(clinician, admin_user, time_machine, sms):
    _absent(clinician, admin_user, time_machine, TUESDAY)
    time_machine.move_to(at(TUESDAY, "20:59"), tick=False)
    outbox_sweep()
    assert sms() == []
    time_machine.move_to(at(TUESDAY, "21:01"), tick=False)
    outbox_sweep()
    assert [text["body"].split(".")[0] for text in sms()] == [
        f"We missed you on {when.message_day(TUESDAY)}"
    ]


def test_an_absence_corrected_to_present_before_the_check_in_went_cancels_it(
    clinician, admin_user, time_machine, sms
):
    """Quiet hours from 21:00 hold the check-in until 07:00; the facilitator corrects
    the absence at 22:00 (the client had come in late, say): nothing ever goes."""
    session, client = _absent(
        clinician, admin_user, time_machine, TUESDAY, quiet=("21:00", "07:00")
    )
    reminders_schedule(now=at(TUESDAY, "21:01"))
    (message,) = _checkins()
    assert message.scheduled_for == at(TUESDAY + timedelta(days=1), "07:00")
    time_machine.move_to(at(TUESDAY, "22:00"), tick=False)
    services.attendance_record(
        session=session, client=client, status="late", minutes=120, actor=clinician
    )
    message.refresh_from_db()
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "absence-corrected")
    time_machine.move_to(at(TUESDAY + timedelta(days=1), "07:01"), tick=False)
    outbox_sweep()
    assert sms() == []
    assert _checkins().count() == 1  # and the sweep did not write it again


def test_the_outbox_asks_again_when_it_sends(clinician, admin_user, time_machine, sms):
    """A correction that reached the table without the service (an admin's fix), after
    the check-in was written: the delivery task finds the absence gone and cancels the
    message instead of sending it."""
    session, client = _absent(clinician, admin_user, time_machine, TUESDAY)
    time_machine.move_to(at(TUESDAY, "21:01"), tick=False)
    reminders_schedule()
    (message,) = _checkins()
    Attendance.objects.filter(session=session, client=client).update(status="present")
    assert deliver_message(message.pk) == "withdrawn"
    message.refresh_from_db()
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, "no-longer-true")
    assert sms() == []
    assert AuditEvent.objects.filter(action="outbox.withdraw", client_id=client.public_id).exists()


def test_a_claimed_check_in_is_asked_again_before_the_provider(
    clinician, admin_user, time_machine, sms
):
    session, client = _absent(clinician, admin_user, time_machine, TUESDAY)
    time_machine.move_to(at(TUESDAY, "21:01"), tick=False)
    reminders_schedule()
    (message,) = _checkins()
    assert outbox_claim(message_id=message.pk)
    services.attendance_record(
        session=session, client=client, status="excused", minutes=None, actor=clinician
    )
    assert outbox_send_claimed(message_id=message.pk) == "withdrawn"
    assert sms() == []


def test_a_check_in_still_true_goes(clinician, admin_user, time_machine, sms):
    _absent(clinician, admin_user, time_machine, TUESDAY)
    time_machine.move_to(at(TUESDAY, "21:01"), tick=False)
    reminders_schedule()
    (message,) = _checkins()
    assert deliver_message(message.pk) == "sent"
    assert len(sms()) == 1
