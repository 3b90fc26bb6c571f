"""Nothing is recorded before it happened (issue 19 #1): present, late and telehealth
from 30 minutes before a session starts; an absence (excused or not) and "left early"
only from 15 minutes after. The clock is driven a minute either side of each edge, on
an ordinary day, across midnight and on both daylight-saving nights; the sheet offers
only what may be recorded now and says when the rest opens; a forged post is refused
with the same words and saves nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iop.audit.models import AuditEvent
from scheduling import services
from scheduling.models import Attendance
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import FALL_BACK, SPRING_FORWARD, TUESDAY, at, shown, shown_on
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = pytest.mark.django_db

ARRIVALS = ("present", "late", "telehealth")
AFTER_GRACE = ("excused", "unexcused", "left_early")
ARRIVALS_WAIT = "Present, late and telehealth can be marked from {}, 30 minutes before the start."
ABSENCE_WAIT = "Absent and left early can be marked from {}, 15 minutes after the start."


def _session(facilitator, admin_user, time_machine, start, end, *, members=1):
    """A group session from ``start`` to ``end`` with ``members`` enrolled clients, set
    up the morning before it (the clock then stays wherever the test moves it)."""
    time_machine.move_to(start - timedelta(days=1), tick=False)
    day = start.date()
    group = GroupFactory(facilitator=facilitator)
    clients = []
    for _ in range(members):
        client = ClientFactory(status="active")
        EpisodeFactory(client=client, admitted_on=day - timedelta(days=30))
        with_care_team(client, facilitator)
        services.enrollment_create(
            client=client, group=group, start_on=day - timedelta(days=7), actor=admin_user
        )
        clients.append(client)
    session = GroupSessionFactory(group=group, date=day, starts_at=start, ends_at=end)
    return session, clients


@pytest.fixture
def evening(clinician, admin_user, time_machine):
    """Tuesday's 18:00-21:00 group with two clients."""
    return _session(
        clinician,
        admin_user,
        time_machine,
        at(TUESDAY, "18:00"),
        at(TUESDAY, "21:00"),
        members=2,
    )


def _record(session, client, status, actor):
    return services.attendance_record(
        session=session, client=client, status=status, minutes=None, actor=actor
    )


def _refused(session, client, status, actor, message):
    with pytest.raises(ValidationError) as refusal:
        _record(session, client, status, actor)
    assert refusal.value.messages == [message]
    assert not Attendance.objects.filter(session=session, client=client).exists()


# --- The service, a minute either side of each edge ------------------------------------


@pytest.mark.parametrize("status", ARRIVALS)
def test_arrivals_open_thirty_minutes_before_the_start(evening, clinician, time_machine, status):
    session, (client, _) = evening
    time_machine.move_to(at(TUESDAY, "17:29"), tick=False)
    _refused(session, client, status, clinician, ARRIVALS_WAIT.format(shown("17:30")))
    time_machine.move_to(at(TUESDAY, "17:31"), tick=False)
    assert _record(session, client, status, clinician).status == status


@pytest.mark.parametrize("status", AFTER_GRACE)
def test_absences_and_leaving_early_open_fifteen_minutes_after_the_start(
    evening, clinician, time_machine, status
):
    session, (client, _) = evening
    time_machine.move_to(at(TUESDAY, "18:14"), tick=False)
    _refused(session, client, status, clinician, ABSENCE_WAIT.format(shown("18:15")))
    time_machine.move_to(at(TUESDAY, "18:16"), tick=False)
    assert _record(session, client, status, clinician).status == status


def test_a_correction_to_an_absence_waits_for_the_grace_too(evening, clinician, time_machine):
    session, (client, _) = evening
    time_machine.move_to(at(TUESDAY, "17:45"), tick=False)
    _record(session, client, "present", clinician)
    with pytest.raises(ValidationError, match=f"from {shown('18:15')}"):
        _record(session, client, "unexcused", clinician)
    assert Attendance.objects.get(session=session, client=client).status == "present"


def test_mark_all_present_opens_with_the_arrivals(evening, clinician, time_machine):
    session, clients = evening
    time_machine.move_to(at(TUESDAY, "17:29"), tick=False)
    with pytest.raises(ValidationError) as refusal:
        services.attendance_mark_all_present(session=session, actor=clinician)
    assert refusal.value.messages == [ARRIVALS_WAIT.format(shown("17:30"))]
    assert not Attendance.objects.exists()
    time_machine.move_to(at(TUESDAY, "17:31"), tick=False)
    assert services.attendance_mark_all_present(session=session, actor=clinician) == 2


def test_the_windows_are_settings(evening, clinician, time_machine, settings):
    settings.IOP_ATTENDANCE_OPENS_MINUTES = 0
    settings.IOP_ABSENCE_GRACE_MINUTES = 45
    session, (first, second) = evening
    time_machine.move_to(at(TUESDAY, "17:59"), tick=False)
    with pytest.raises(ValidationError, match=f"from {shown('18:00')}, 0 minutes before the start"):
        _record(session, first, "present", clinician)
    time_machine.move_to(at(TUESDAY, "18:44"), tick=False)
    _record(session, first, "present", clinician)
    with pytest.raises(ValidationError, match=f"from {shown('18:45')}, 45 minutes after the start"):
        _record(session, second, "unexcused", clinician)
    time_machine.move_to(at(TUESDAY, "18:46"), tick=False)
    _record(session, second, "unexcused", clinician)


# --- Across midnight --------------------------------------------------------------------


def test_a_session_just_after_midnight_takes_arrivals_from_the_evening_before(
    clinician, admin_user, time_machine
):
    wednesday = TUESDAY + timedelta(days=1)
    session, (client,) = _session(
        clinician, admin_user, time_machine, at(wednesday, "00:10"), at(wednesday, "03:10")
    )
    time_machine.move_to(at(TUESDAY, "23:39"), tick=False)
    _refused(session, client, "present", clinician, ARRIVALS_WAIT.format(shown("23:40")))
    time_machine.move_to(at(TUESDAY, "23:41"), tick=False)
    assert _record(session, client, "present", clinician).late_entry is False


def test_an_absence_from_a_late_evening_session_opens_after_midnight(
    clinician, admin_user, time_machine
):
    wednesday = TUESDAY + timedelta(days=1)
    session, (client,) = _session(
        clinician, admin_user, time_machine, at(TUESDAY, "23:50"), at(wednesday, "02:50")
    )
    time_machine.move_to(at(wednesday, "00:04"), tick=False)
    # Said on Wednesday of a moment on Wednesday: the time alone.
    _refused(session, client, "unexcused", clinician, ABSENCE_WAIT.format(shown("00:05")))
    time_machine.move_to(at(wednesday, "00:06"), tick=False)
    assert _record(session, client, "unexcused", clinician).status == "unexcused"


def test_a_moment_on_another_day_is_said_with_its_day(evening, clinician, time_machine):
    session, (client, _) = evening
    time_machine.move_to(at(TUESDAY - timedelta(days=1), "23:59"), tick=False)
    _refused(
        session, client, "present", clinician, ARRIVALS_WAIT.format(shown_on(TUESDAY, "17:30"))
    )


# --- Daylight saving ----------------------------------------------------------------------


def test_the_night_the_clocks_go_back_counts_real_minutes(clinician, admin_user, time_machine):
    """A 02:00 session on 1 Nov 2026 (EST, after the change): arrivals open 30 real
    minutes before, at the second 01:30. At the first 01:31 (EDT, an hour earlier) it
    is not yet time, though the wall clock reads later than 01:30."""
    session, (client,) = _session(
        clinician, admin_user, time_machine, at(FALL_BACK, "02:00"), at(FALL_BACK, "05:00")
    )
    time_machine.move_to(at(FALL_BACK, "01:31", fold=0), tick=False)
    _refused(session, client, "present", clinician, ARRIVALS_WAIT.format(shown("01:30")))
    time_machine.move_to(at(FALL_BACK, "01:29", fold=1), tick=False)
    _refused(session, client, "present", clinician, ARRIVALS_WAIT.format(shown("01:30")))
    time_machine.move_to(at(FALL_BACK, "01:31", fold=1), tick=False)
    assert _record(session, client, "present", clinician).status == "present"


def test_the_morning_group_the_day_the_clocks_go_back(clinician, admin_user, time_machine):
    session, (client,) = _session(
        clinician, admin_user, time_machine, at(FALL_BACK, "07:00"), at(FALL_BACK, "10:00")
    )
    time_machine.move_to(at(FALL_BACK, "07:14"), tick=False)
    _refused(session, client, "unexcused", clinician, ABSENCE_WAIT.format(shown("07:15")))
    time_machine.move_to(at(FALL_BACK, "07:16"), tick=False)
    assert _record(session, client, "unexcused", clinician).status == "unexcused"


def test_the_night_the_clocks_go_forward_counts_real_minutes(clinician, admin_user, time_machine):
    """A 03:15 session on 14 Mar 2027 (EDT): 30 real minutes before is 01:45 EST, as
    02:00-03:00 never happens that night; the absence grace ends at 03:30."""
    session, (first, second) = _session(
        clinician,
        admin_user,
        time_machine,
        at(SPRING_FORWARD, "03:15"),
        at(SPRING_FORWARD, "06:15"),
        members=2,
    )
    time_machine.move_to(at(SPRING_FORWARD, "01:44"), tick=False)
    _refused(session, first, "present", clinician, ARRIVALS_WAIT.format(shown("01:45")))
    time_machine.move_to(at(SPRING_FORWARD, "01:46"), tick=False)
    _record(session, first, "present", clinician)
    time_machine.move_to(at(SPRING_FORWARD, "03:29"), tick=False)
    _refused(session, second, "excused", clinician, ABSENCE_WAIT.format(shown("03:30")))
    time_machine.move_to(at(SPRING_FORWARD, "03:31"), tick=False)
    assert _record(session, second, "excused", clinician).status == "excused"


# --- The sheet offers what may be recorded now, and says when the rest opens -------------


def _sheet(http, session):
    # Signed in afresh at each moment: the idle sign-out counts the travelled minutes.
    http.force_login(session.group.facilitators.get())
    response = http.get(reverse("scheduling:attendance_sheet", args=[session.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def _buttons(html):
    return {
        value for value in (*ARRIVALS, *AFTER_GRACE) if f'name="status" value="{value}"' in html
    }


def test_the_sheet_offers_each_status_from_its_time_and_says_why_not_before(
    evening, clinician, client_as, time_machine
):
    session, _clients = evening
    http = client_as(clinician)
    time_machine.move_to(at(TUESDAY, "17:20"), tick=False)
    html = _sheet(http, session)
    assert _buttons(html) == set()
    assert 'data-testid="all-present"' not in html
    assert ARRIVALS_WAIT.format(shown("17:30")) in html
    assert ABSENCE_WAIT.format(shown("18:15")) in html

    time_machine.move_to(at(TUESDAY, "17:31"), tick=False)
    html = _sheet(http, session)
    assert _buttons(html) == set(ARRIVALS)
    assert 'data-testid="all-present"' in html
    assert "Present, late and telehealth can be marked" not in html
    assert ABSENCE_WAIT.format(shown("18:15")) in html

    time_machine.move_to(at(TUESDAY, "18:16"), tick=False)
    html = _sheet(http, session)
    assert _buttons(html) == set(ARRIVALS) | set(AFTER_GRACE)
    assert "can be marked from" not in html


def test_a_forged_absence_before_the_grace_is_refused_with_the_reason(
    evening, clinician, client_as, time_machine
):
    session, (client, _) = evening
    url = reverse("scheduling:attendance_mark", args=[session.public_id, client.public_id])
    time_machine.move_to(at(TUESDAY, "18:10"), tick=False)
    http = client_as(clinician)
    row = http.post(url, {"status": "unexcused", "minutes": ""}, HTTP_HX_REQUEST="true")
    assert row.status_code == 400
    html = row.content.decode()
    assert "Not saved: " + ABSENCE_WAIT.format(shown("18:15")) in html
    assert "not marked" in html
    assert _buttons(html) == set(ARRIVALS)  # the row re-rendered as offered now
    page = http.post(url, {"status": "excused", "minutes": ""})
    assert page.status_code == 400
    assert ABSENCE_WAIT.format(shown("18:15")) in page.content.decode()
    assert not Attendance.objects.exists()
    assert not AuditEvent.objects.filter(action="attendance.record").exists()


def test_a_forged_mark_all_present_before_the_arrivals_saves_nothing(
    evening, clinician, client_as, time_machine
):
    session, _clients = evening
    url = reverse("scheduling:attendance_all_present", args=[session.public_id])
    time_machine.move_to(at(TUESDAY, "17:29"), tick=False)
    response = client_as(clinician).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Not saved: " + ARRIVALS_WAIT.format(shown("17:30")) in response.content.decode()
    assert not Attendance.objects.exists()
