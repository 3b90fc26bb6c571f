"""Client messages say the weekday and the month ("We missed you on Tuesday, December
8", never "Tuesday 8") and the locale's 12- or 24-hour time."""

import re

import pytest
from django.utils import timezone

from iop import when
from iop.notifications.models import OutboxMessage
from iop.notifications.services import reminders_schedule
from scheduling.models import Attendance, AttendanceStatus
from tests.scheduling.test_reminders import DAY, _local, _member, _session
from tests.screening.factories import selection_for
from tests.screening.test_call_in import _at as call_in_at
from tests.screening.test_call_in import _client as call_in_client

pytestmark = pytest.mark.django_db


def _bodies(template):
    return list(OutboxMessage.objects.filter(template=template).values_list("body", flat=True))


def test_a_reminder_says_the_day_the_month_and_a_12_hour_time():
    session = _session()  # Tuesday, December 8, 2026, 18:00-21:00
    _member(session.group)
    reminders_schedule(now=_local(DAY, 15))  # the 2-hour reminder
    (body,) = _bodies("session_reminder")
    assert "Tuesday, December 8 at 6:00 PM" in body


def test_a_reminder_in_a_24_hour_locale(settings):
    settings.LANGUAGE_CODE = "en-gb"
    session = _session()
    _member(session.group)
    reminders_schedule(now=_local(DAY, 15))
    (body,) = _bodies("session_reminder")
    assert "Tuesday 8 December at 18:00" in body


def test_the_absence_check_in_names_the_month(admin_user):
    session = _session()
    client = _member(session.group)
    Attendance.objects.create(
        session=session,
        client=client,
        status=AttendanceStatus.UNEXCUSED,
        minutes=0,
        recorded_by=admin_user,
    )
    reminders_schedule(now=_local(DAY, 22))  # after the session ended
    (body,) = _bodies("absence_checkin")
    assert body.startswith("We missed you on Tuesday, December 8.")


@pytest.mark.parametrize(("locale", "until"), [("en-us", "5:00 PM"), ("en-gb", "17:00")])
def test_the_call_in_notice_says_the_month_and_the_locales_clock(settings, locale, until):
    settings.LANGUAGE_CODE = locale
    selection_for(call_in_client())
    reminders_schedule(now=call_in_at(5))
    (body,) = _bodies("screen_call_in")
    today = when.message_day(timezone.localdate())
    assert f"today, {today}, before {until}." in body
    assert re.search(
        r"(January|February|March|April|May|June|July|August|September|"
        r"October|November|December)",
        today,
    )
