"""Client reminders: written once, at the right wall-clock moment, in neutral words,
respecting consent, channel, quiet hours, opt-out and cancellation."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.template.loader import render_to_string

from clients.models import ReminderChannel
from clients.services import client_update
from iop import when
from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import reminders_schedule
from scheduling.models import Enrollment, EnrollmentStatus, local_datetime
from scheduling.services import session_cancel
from tests.clients.factories import EpisodeFactory
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, slot

pytestmark = pytest.mark.django_db

# A Tuesday evening session, well away from any daylight-saving change.
DAY = date(2026, 12, 8)


def _member(group, *, channel=ReminderChannel.SMS, consent=True, quiet=None, named=False, day=DAY):
    episode = EpisodeFactory(admitted_on=day - timedelta(days=20))
    client = episode.client
    client.reminder_channel = channel
    client.reminder_consent = consent
    client.reminder_may_name_program = named
    client.quiet_hours_start, client.quiet_hours_end = quiet or (None, None)
    client.save()
    Enrollment.objects.create(
        client=client,
        episode=episode,
        track=group.track,
        group=group,
        start_on=day - timedelta(days=10),
        status=EnrollmentStatus.ACTIVE,
        created_by=episode.admitted_by,
    )
    return client


def _session(day=DAY, slot_code="evening"):
    group = GroupFactory(slot=slot(slot_code))
    return GroupSessionFactory(group=group, date=day)


def _local(day, hh, mm=0):
    return local_datetime(day, time(hh, mm))


def test_24_and_2_hour_reminders_are_written_once(admin_user):
    session = _session()
    client = _member(session.group)
    # 18:00 session: the 24-hour moment is 18:00 the day before.
    now = _local(DAY - timedelta(days=1), 17, 0)
    assert reminders_schedule(now=now) == 1
    assert reminders_schedule(now=now) == 0
    later = _local(DAY, 15, 0)
    assert reminders_schedule(now=later) == 1
    assert reminders_schedule(now=later + timedelta(minutes=1)) == 0
    rows = list(OutboxMessage.objects.order_by("scheduled_for"))
    assert [r.scheduled_for for r in rows] == [
        _local(DAY - timedelta(days=1), 18),
        _local(DAY, 16),
    ]
    assert {r.client for r in rows} == {client.public_id}
    assert {r.channel for r in rows} == {"sms"}
    assert {r.ref for r in rows} == {f"session:{session.public_id}"}
    assert all(r.recipient == client.phone for r in rows)


def test_no_consent_or_no_channel_writes_nothing():
    session = _session()
    _member(session.group, consent=False)
    _member(session.group, channel=ReminderChannel.NONE)
    assert reminders_schedule(now=_local(DAY, 15)) == 0


def test_quiet_hours_defer_to_their_end_and_drop_what_would_arrive_late():
    session = _session(slot_code="morning")  # 07:00
    _member(session.group, channel=ReminderChannel.EMAIL, quiet=(time(21), time(8)))
    # 24 h: 07:00 the day before, inside 21:00-08:00 -> 08:00 the day before.
    # 2 h: 05:00, deferred to 08:00, after the start -> not written.
    assert reminders_schedule(now=_local(DAY - timedelta(days=1), 6)) == 1
    assert reminders_schedule(now=_local(DAY, 4, 30)) == 0
    (row,) = OutboxMessage.objects.all()
    assert row.scheduled_for == _local(DAY - timedelta(days=1), 8)


def test_opt_out_cancels_pending_reminders_at_once(admin_user):
    session = _session()
    client = _member(session.group)
    reminders_schedule(now=_local(DAY, 15))
    client_update(client=client, actor=admin_user, reminder_channel=ReminderChannel.NONE)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.CANCELLED}
    assert reminders_schedule(now=_local(DAY, 15, 30)) == 0


def test_cancelling_a_session_cancels_its_pending_reminders(admin_user):
    session = _session()
    other = _session()
    _member(session.group)
    _member(other.group)
    reminders_schedule(now=_local(DAY, 15))
    session_cancel(session=session, reason="Snow", actor=admin_user)
    statuses = dict(OutboxMessage.objects.values_list("ref", "status"))
    assert statuses == {
        f"session:{session.public_id}": OutboxStatus.CANCELLED,
        f"session:{other.public_id}": OutboxStatus.PENDING,
    }
    assert reminders_schedule(now=_local(DAY, 15, 30)) == 0


@pytest.mark.parametrize(
    ("day", "slot_code", "now_utc", "expected_utc"),
    [
        # Sunday 1 Nov 2026 09:00 EST (weekend slot). 24 h: Sat 31 Oct 09:00 EDT = 13:00Z
        # (25 real hours before); 2 h: 07:00 EST = 12:00Z.
        (date(2026, 11, 1), "weekend", datetime(2026, 10, 31, 12, 0, tzinfo=UTC),
         [datetime(2026, 10, 31, 13, 0, tzinfo=UTC)]),
        (date(2026, 11, 1), "weekend", datetime(2026, 11, 1, 11, 0, tzinfo=UTC),
         [datetime(2026, 11, 1, 12, 0, tzinfo=UTC)]),
        # Monday 2 Nov 07:00 EST = 12:00Z; 24 h: Sun 1 Nov 07:00 EST = 12:00Z (after the change).
        (date(2026, 11, 2), "morning", datetime(2026, 11, 1, 11, 0, tzinfo=UTC),
         [datetime(2026, 11, 1, 12, 0, tzinfo=UTC)]),
    ],
)  # fmt: skip
def test_reminder_times_across_the_daylight_saving_change(day, slot_code, now_utc, expected_utc):
    session = _session(day=day, slot_code=slot_code)
    _member(session.group, day=day)
    reminders_schedule(now=now_utc)
    assert list(OutboxMessage.objects.values_list("scheduled_for", flat=True)) == expected_utc


# --- Wording --------------------------------------------------------------------------

CLIENT_TEMPLATES = ("session_reminder", "appointment_reminder", "absence_checkin", "screen_call_in")
CLIENT_CHANNELS = ("email", "sms")
# No program name and no clinical, treatment or substance word on a lock screen.
FORBIDDEN = (
    "iop", "intensive", "outpatient", "program", "programme", "treatment", "therapy",
    "therapist", "counsel", "counselling", "counseling", "clinic", "clinical", "clinician",
    "group", "session", "recovery", "sober", "sobriety", "substance", "alcohol", "drug",
    "addiction", "rehab", "detox", "relapse", "medication", "screen", "urine", "harbor iop",
    "health", "mental", "psych", "patient", "doctor", "dose", "meeting",
)  # fmt: skip


def _context(named):
    at = _local(DAY, 18)  # as the sources write them: "Tuesday, December 8 at 6:00 PM"
    return {
        "when": when.message_moment(at),
        "day": when.message_day(at),
        "until": when.clock(time(17)),
        "place": "200 Harbor Street, Suite 410",
        "room": "Room A",
        "phone": "(555) 201-0100",
        "named": named,
        "program": "Harbor IOP",
        "call_in_words": "a visit",
    }


@pytest.mark.parametrize("template", CLIENT_TEMPLATES)
@pytest.mark.parametrize("channel", CLIENT_CHANNELS)
def test_neutral_wording_names_no_program_and_no_clinical_word(template, channel):
    text = render_to_string(f"notifications/{template}/subject.txt", _context(False))
    text += "\n" + render_to_string(f"notifications/{template}/{channel}.txt", _context(False))
    words = set(re.findall(r"[a-z]+", text.lower()))
    found = [word for word in FORBIDDEN if word in words or (" " in word and word in text.lower())]
    assert found == [], text
    assert "Tuesday, December 8" in text and "(555) 201-0100" in text


@pytest.mark.parametrize("template", CLIENT_TEMPLATES)
def test_detailed_wording_names_the_program_only_when_the_client_opted_in(template):
    assert "Harbor IOP" in render_to_string(f"notifications/{template}/sms.txt", _context(True))


def test_written_reminders_follow_the_client_choice_of_wording():
    session = _session()
    _member(session.group, named=False)
    _member(session.group, named=True, channel=ReminderChannel.EMAIL)
    reminders_schedule(now=_local(DAY, 15))
    bodies = dict(OutboxMessage.objects.values_list("channel", "body"))
    assert "IOP" not in bodies["sms"]
    assert "Harbor IOP" in bodies["email"]
