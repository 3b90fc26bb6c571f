"""Two or more unexcused absences in a week: one task for the client's primary
clinician per week, written once, naming no client."""

from datetime import date, time, timedelta

import pytest

from iop.notifications.models import OutboxMessage
from iop.notifications.services import reminders_schedule
from scheduling.models import Attendance, AttendanceStatus, local_datetime
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = pytest.mark.django_db

# Monday 9 to Sunday 15 November 2026.
MONDAY = date(2026, 11, 9)


def _absent(client, group, day, recorder, status=AttendanceStatus.UNEXCUSED):
    session = GroupSessionFactory(group=group, date=day)
    Attendance.objects.create(
        session=session, client=client, status=status, minutes=0, recorded_by=recorder
    )


def _client(clinician):
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=MONDAY - timedelta(days=30))
    with_care_team(client, clinician)
    return client


def absence_tasks(**filters):
    return OutboxMessage.objects.filter(refs__kind="scheduling.absences", **filters)


def test_two_unexcused_absences_this_week_remind_the_primary_clinician_once(
    clinician, other_clinician
):
    client = _client(clinician)
    group = GroupFactory()
    _absent(client, group, MONDAY, clinician)
    thursday = local_datetime(MONDAY + timedelta(days=3), time(12))
    reminders_schedule(now=thursday)
    assert not absence_tasks().exists()  # one absence

    _absent(client, group, MONDAY + timedelta(days=2), clinician)
    reminders_schedule(now=thursday)
    reminders_schedule(now=thursday + timedelta(hours=3))
    (task,) = absence_tasks()
    assert task.staff == clinician
    assert task.refs["url"] == f"/scheduling/clients/{client.public_id}/schedule/"
    assert task.body.startswith("2 unexcused absences this week")
    for word in (client.legal_first_name, client.legal_last_name, client.mrn):
        assert word not in task.body and word not in task.subject
    assert not absence_tasks(staff=other_clinician).exists()


def test_excused_absences_and_last_weeks_do_not_count(clinician):
    client = _client(clinician)
    group = GroupFactory()
    _absent(client, group, MONDAY - timedelta(days=1), clinician)  # the Sunday before
    _absent(client, group, MONDAY, clinician, status=AttendanceStatus.EXCUSED)
    _absent(client, group, MONDAY + timedelta(days=1), clinician)
    reminders_schedule(now=local_datetime(MONDAY + timedelta(days=4), time(12)))
    assert not absence_tasks().exists()


def test_a_new_week_is_a_new_task(clinician):
    client = _client(clinician)
    group = GroupFactory()
    for offset in (0, 1, 7, 8):
        _absent(client, group, MONDAY + timedelta(days=offset), clinician)
    reminders_schedule(now=local_datetime(MONDAY + timedelta(days=2), time(12)))
    reminders_schedule(now=local_datetime(MONDAY + timedelta(days=9), time(12)))
    assert absence_tasks(staff=clinician).count() == 2
