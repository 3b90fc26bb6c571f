"""Reads behind the chart: planned step-downs, the weekly-hours row, readiness counts
and the make-up choices (issue 8)."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from scheduling import selectors, services
from scheduling.models import Attendance, Enrollment, EnrollmentStatus, GroupSession, local_datetime
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, slot

pytestmark = pytest.mark.django_db


def _admitted(clinician, days_ago=60):
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=days_ago))
    with_care_team(client, clinician)
    return client


@pytest.fixture
def tracks(clinician):
    iop6 = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    iop3 = GroupFactory(name="IOP 3 Evening", track=iop6.track.steps_down_to, facilitator=clinician)
    return iop6, iop3


def test_a_future_step_down_is_planned_and_the_current_track_stays(tracks, clinician, admin_user):
    iop6, iop3 = tracks
    today = timezone.localdate()
    client = _admitted(clinician)
    current = services.enrollment_create(
        client=client, group=iop6, start_on=today - timedelta(days=10), actor=admin_user
    )
    on = today + timedelta(days=13)
    planned = services.enrollment_step_down(enrollment=current, group=iop3, on=on, actor=admin_user)
    current.refresh_from_db()
    assert (current.status, current.ended_on) == (EnrollmentStatus.ACTIVE, on)
    assert (planned.status, planned.start_on) == (EnrollmentStatus.PLANNED, on)
    readiness = selectors.step_down_readiness(client)
    assert readiness["enrollment"] == current
    assert readiness["planned"] == planned
    assert readiness["next_track"] is None  # no second step-down offered
    assert readiness["weeks_on_track"] == 1
    with pytest.raises(Exception, match="already planned"):
        services.enrollment_step_down(enrollment=current, group=iop3, on=on, actor=admin_user)
    # On the day the planned track is current, whether or not the task has run yet.
    assert selectors.current_enrollment(client, today=on) == planned
    assert services.enrollments_begin_planned(today=on - timedelta(days=1)) == 0
    assert services.enrollments_begin_planned(today=on) == 1
    assert list(
        Enrollment.objects.filter(client=client).order_by("start_on").values_list("status")
    ) == [("stepped_down",), ("active",)]


def test_weeks_on_the_track_is_never_negative(tracks, clinician, admin_user):
    iop6, _ = tracks
    client = _admitted(clinician)
    services.enrollment_create(
        client=client,
        group=iop6,
        start_on=timezone.localdate() + timedelta(days=15),
        actor=admin_user,
    )
    readiness = selectors.step_down_readiness(client)
    assert readiness["weeks_on_track"] == 0
    assert readiness["started"] is False


def test_weekly_hours_judges_only_whole_weeks_on_the_track(tracks, clinician, admin_user):
    iop6, _ = tracks
    today = timezone.localdate()
    monday = selectors.week_start(today)
    client = _admitted(clinician)
    # Placed on the Wednesday three weeks ago: that week is partial, the two after it
    # are whole, this one is in progress and the ones before are not enrolled.
    placed = monday - timedelta(weeks=3) + timedelta(days=2)
    services.enrollment_create(client=client, group=iop6, start_on=placed, actor=admin_user)
    rows = {row["week"]: row for row in selectors.weekly_hours(client, weeks=6, today=today)}
    assert rows[monday]["state"] == "in progress"
    assert not rows[monday]["judged"]
    assert rows[monday - timedelta(weeks=1)]["judged"]
    assert rows[monday - timedelta(weeks=2)]["judged"]
    assert rows[monday - timedelta(weeks=3)]["state"] == "partial week"
    assert rows[monday - timedelta(weeks=4)]["state"] == "not enrolled"
    assert rows[monday - timedelta(weeks=5)]["state"] == "not enrolled"
    assert sum(1 for row in rows.values() if row["judged"]) == 2


def test_a_session_that_ended_before_the_placement_is_not_missed(clinician, admin_user):
    morning = GroupFactory(name="IOP 6 Morning", slot=slot("morning"), facilitator=clinician)
    yesterday = timezone.localdate() - timedelta(days=1)
    services.sessions_generate(weeks=1, today=yesterday)
    client = _admitted(clinician)
    enrollment = services.enrollment_create(
        client=client, group=morning, start_on=yesterday, actor=admin_user
    )
    # Placed at 13:30 yesterday: the 07:00-10:00 session that day was over by then.
    Enrollment.objects.filter(pk=enrollment.pk).update(
        created_at=local_datetime(yesterday, time(13, 30))
    )
    readiness = selectors.step_down_readiness(client)
    today_session = morning.sessions.get(date=timezone.localdate())
    started_today = today_session.starts_at <= timezone.now()
    assert readiness["sessions_held"] == (1 if started_today else 0)
    assert readiness["attendance_rate"] in (None, 0)
    # Placed the day before instead: yesterday's session counts (and was missed).
    Enrollment.objects.filter(pk=enrollment.pk).update(
        start_on=yesterday - timedelta(days=1),
        created_at=local_datetime(yesterday - timedelta(days=1), time(13, 30)),
    )
    assert selectors.step_down_readiness(client)["sessions_held"] == 1 + int(started_today)


def test_make_up_offers_only_sessions_in_the_episode_that_have_begun(clinician, admin_user):
    own = GroupFactory(name="Own group", facilitator=clinician)
    other = GroupFactory(name="Other group", facilitator=admin_user)
    today = timezone.localdate()
    client = _admitted(clinician, days_ago=3)
    services.enrollment_create(client=client, group=own, start_on=today, actor=admin_user)

    def session(day, hour):
        start = local_datetime(day, time(hour))
        return GroupSession.objects.create(
            group=other,
            date=day,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            room=other.room,
        )

    before_admission = session(today - timedelta(days=5), 9)
    in_episode = session(today - timedelta(days=2), 9)
    future = session(today + timedelta(days=1), 9)
    now = timezone.now()
    offered = set(selectors.makeup_sessions(client, now=now))
    assert in_episode in offered
    assert before_admission not in offered
    assert future not in offered
    later_today = GroupSession.objects.create(
        group=other,
        date=today,
        starts_at=now + timedelta(minutes=5),
        ends_at=now + timedelta(hours=3),
        room=other.room,
    )
    assert later_today not in set(selectors.makeup_sessions(client, now=now))
    assert not Attendance.objects.exists()


def test_the_charts_attendance_rate_rounds_one_of_eight_up_to_13(tracks, clinician, admin_user):
    """The chart's readiness line rounds as every report does: 1 of 8 is 13 %."""
    iop6, _ = tracks
    today = timezone.localdate()
    client = _admitted(clinician)
    services.enrollment_create(
        client=client, group=iop6, start_on=today - timedelta(days=20), actor=admin_user
    )
    sessions = [
        GroupSessionFactory(group=iop6, date=today - timedelta(days=n)) for n in range(12, 20)
    ]
    Attendance.objects.create(
        session=sessions[0], client=client, status="present", minutes=180, recorded_by=admin_user
    )
    readiness = selectors.step_down_readiness(client)
    assert (readiness["sessions_held"], readiness["attended"]) == (8, 1)
    assert readiness["attendance_rate"] == 13
