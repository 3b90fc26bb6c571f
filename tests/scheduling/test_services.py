import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clients import services as client_services
from clients.access import Purpose, client_access
from clients.models import CareTeamRole
from scheduling import services
from scheduling.models import (
    Appointment,
    Attendance,
    Enrollment,
    EnrollmentStatus,
    GroupSession,
    local_datetime,
)
from scheduling.selectors import step_down_readiness, upcoming_schedule, weekly_hours
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.iop.factories import UserFactory
from tests.scheduling.factories import (
    GroupFactory,
    GroupSessionFactory,
    RoomFactory,
    started_session,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def admitted_client(clinician, admitted_on=None):
    client = ClientFactory(status="active")
    EpisodeFactory(
        client=client, admitted_on=admitted_on or timezone.localdate() - timedelta(days=60)
    )
    with_care_team(client, clinician)
    return client


@pytest.fixture
def iop6(clinician):
    return GroupFactory(name="IOP 6 Evening", facilitator=clinician)


def test_enrolling_grants_the_facilitator_attendance_access_only(
    iop6, clinician, other_clinician, admin_user
):
    group = GroupFactory(facilitator=other_clinician)
    client = admitted_client(clinician)
    services.enrollment_create(
        client=client, group=group, start_on=timezone.localdate(), actor=admin_user
    )
    assert client_access(other_clinician, client, Purpose.ATTENDANCE).allowed
    assert not client_access(other_clinician, client, Purpose.CHART).allowed


def test_step_down_keeps_history_and_moves_facilitator_access(
    clinician, other_clinician, admin_user
):
    iop6 = GroupFactory(facilitator=clinician)
    iop3 = GroupFactory(track=iop6.track.steps_down_to, facilitator=other_clinician)
    client = admitted_client(clinician)
    start = timezone.localdate() - timedelta(days=30)
    first = services.enrollment_create(client=client, group=iop6, start_on=start, actor=admin_user)
    on = timezone.localdate()
    second = services.enrollment_step_down(enrollment=first, group=iop3, on=on, actor=admin_user)
    first.refresh_from_db()
    assert (first.status, first.ended_on) == (EnrollmentStatus.STEPPED_DOWN, on)
    assert (second.status, second.track.code, second.start_on) == ("active", "iop3", on)
    assert Enrollment.objects.filter(client=client).count() == 2
    assert client_access(other_clinician, client, Purpose.ATTENDANCE).allowed
    # alice stays on as primary clinician; bob, who only facilitated, is out of IOP 6.
    assert (
        client.care_team.filter(
            role=CareTeamRole.FACILITATOR, staff=clinician, ended_on__isnull=True
        ).count()
        == 0
    )


def test_step_down_only_to_the_next_track(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    enrollment = services.enrollment_create(
        client=client,
        group=iop6,
        start_on=timezone.localdate() - timedelta(days=10),
        actor=admin_user,
    )
    same_track = GroupFactory()
    with pytest.raises(ValidationError, match="steps down to IOP 3, not IOP 6"):
        services.enrollment_step_down(
            enrollment=enrollment, group=same_track, on=timezone.localdate(), actor=admin_user
        )
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active"


def test_a_full_group_refuses_with_a_message(clinician, admin_user):
    group = GroupFactory(capacity=1)
    services.enrollment_create(
        client=admitted_client(clinician),
        group=group,
        start_on=timezone.localdate(),
        actor=admin_user,
    )
    with pytest.raises(ValidationError, match="is full"):
        services.enrollment_create(
            client=admitted_client(clinician),
            group=group,
            start_on=timezone.localdate(),
            actor=admin_user,
        )
    assert Enrollment.objects.filter(group=group).count() == 1


def test_capacity_cannot_drop_below_current_enrollment(iop6, clinician, admin_user):
    for _ in range(3):
        services.enrollment_create(
            client=admitted_client(clinician),
            group=iop6,
            start_on=timezone.localdate(),
            actor=admin_user,
        )
    iop6.capacity = 2
    with pytest.raises(ValidationError, match="3 clients are enrolled"):
        iop6.full_clean()


def test_a_client_must_be_admitted_before_enrolment(iop6, admin_user):
    with pytest.raises(ValidationError, match="Admit the client"):
        services.enrollment_create(
            client=ClientFactory(), group=iop6, start_on=timezone.localdate(), actor=admin_user
        )


def test_session_generation_twice_creates_nothing_new(iop6):
    first = services.sessions_generate(weeks=6, today=TODAY)
    assert first == 42  # every day of six weeks
    assert services.sessions_generate(weeks=6, today=TODAY) == 0
    assert GroupSession.objects.filter(group=iop6).count() == 42


def test_slot_times_stay_local_across_daylight_saving(iop6, settings):
    settings.TIME_ZONE = "America/New_York"
    # DST ends on Sunday 1 November 2026: 18:00 local is 22:00 UTC before, 23:00 after.
    services.sessions_generate(weeks=1, today=date(2026, 10, 29))
    before = GroupSession.objects.get(date=date(2026, 10, 31))
    after = GroupSession.objects.get(date=date(2026, 11, 2))
    ny = ZoneInfo("America/New_York")
    assert (
        before.starts_at.astimezone(ny).time() == time(18) == after.starts_at.astimezone(ny).time()
    )
    assert before.starts_at.astimezone(ZoneInfo("UTC")).hour == 22
    assert after.starts_at.astimezone(ZoneInfo("UTC")).hour == 23
    assert before.minutes == after.minutes == 180


def test_a_session_outside_its_slot_is_refused(iop6):
    day = timezone.localdate()
    session = GroupSession(
        group=iop6,
        date=day,
        room=iop6.room,
        starts_at=local_datetime(day, time(19)),
        ends_at=local_datetime(day, time(21)),
    )
    with pytest.raises(ValidationError, match="runs in its slot, 6:00 PM–9:00 PM"):
        session.full_clean()
    session.ends_at = local_datetime(day, time(17))
    with pytest.raises(ValidationError, match="end is before the start"):
        session.full_clean()


def test_cancelled_session_leaves_the_schedule_and_takes_no_attendance(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    services.enrollment_create(
        client=client, group=iop6, start_on=timezone.localdate(), actor=admin_user
    )
    services.sessions_generate(weeks=1)
    tomorrow = GroupSession.objects.get(group=iop6, date=timezone.localdate() + timedelta(days=1))
    before = len(upcoming_schedule(client))
    with pytest.raises(ValidationError, match="Say why"):
        services.session_cancel(session=tomorrow, reason="  ", actor=admin_user)
    services.session_cancel(session=tomorrow, reason="Thanksgiving", actor=admin_user)
    assert len(upcoming_schedule(client)) == before - 1
    with pytest.raises(ValidationError, match="cancelled"):
        services.attendance_record(
            session=tomorrow, client=client, status="present", minutes=None, actor=clinician
        )


def test_attendance_minutes_must_fit_the_session(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    services.enrollment_create(
        client=client,
        group=iop6,
        start_on=timezone.localdate() - timedelta(days=1),
        actor=admin_user,
    )
    session = started_session(iop6)
    for minutes in (181, -5):
        with pytest.raises(ValidationError, match="between 0 and 180"):
            services.attendance_record(
                session=session, client=client, status="late", minutes=minutes, actor=clinician
            )
    assert not Attendance.objects.exists()
    record = services.attendance_record(
        session=session, client=client, status="present", minutes=None, actor=clinician
    )
    assert record.minutes == 180
    absent = services.attendance_record(
        session=session, client=client, status="unexcused", minutes=150, actor=clinician
    )
    assert absent.minutes == 0


def test_edits_after_the_day_are_marked_late(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    yesterday = timezone.localdate() - timedelta(days=1)
    services.enrollment_create(client=client, group=iop6, start_on=yesterday, actor=admin_user)
    session = GroupSessionFactory(group=iop6, date=yesterday)
    record = services.attendance_record(
        session=session, client=client, status="present", minutes=None, actor=clinician
    )
    assert record.late_entry


def test_attendance_for_someone_not_enrolled_is_refused(iop6, clinician):
    session = started_session(iop6)
    with pytest.raises(ValidationError, match="not enrolled"):
        services.attendance_record(
            session=session,
            client=admitted_client(clinician),
            status="present",
            minutes=None,
            actor=clinician,
        )


def test_weekly_hours_and_readiness_come_from_attendance(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)
    services.enrollment_create(client=client, group=iop6, start_on=monday, actor=admin_user)
    services.sessions_generate(weeks=1, today=monday)
    for session in GroupSession.objects.filter(group=iop6, date__lt=monday + timedelta(days=4)):
        Attendance.objects.create(
            session=session, client=client, status="present", minutes=180, recorded_by=clinician
        )
    last_week = next(w for w in weekly_hours(client) if w["week"] == monday)
    assert (last_week["hours"], last_week["meets_floor"]) == (12, True)
    readiness = step_down_readiness(client)
    assert readiness["weeks_at_floor"] == 1
    assert readiness["attended"] == 4


def test_discharge_closes_enrollments_and_clears_future_sessions(
    iop6, clinician, other_clinician, admin_user
):
    group = GroupFactory(facilitator=other_clinician)
    client = admitted_client(clinician, admitted_on=timezone.localdate() - timedelta(days=20))
    services.enrollment_create(
        client=client,
        group=group,
        start_on=timezone.localdate() - timedelta(days=10),
        actor=admin_user,
    )
    services.sessions_generate(weeks=2)
    assert upcoming_schedule(client)
    client_services.episode_discharge(
        episode=client.episodes.get(),
        discharged_on=timezone.localdate(),
        reason="completed",
        summary="Done",
        continuing_care="alumni",
        actor=clinician,
    )
    enrollment = Enrollment.objects.get(client=client)
    assert (enrollment.status, enrollment.ended_on) == ("discharged", timezone.localdate())
    assert upcoming_schedule(client) == []
    assert not client_access(other_clinician, client, Purpose.ATTENDANCE).allowed


def test_discharge_closes_a_planned_step_down_too(iop6, clinician, admin_user):
    iop3 = GroupFactory(track=iop6.track.steps_down_to, facilitator=clinician)
    client = admitted_client(clinician, admitted_on=timezone.localdate() - timedelta(days=20))
    current = services.enrollment_create(
        client=client,
        group=iop6,
        start_on=timezone.localdate() - timedelta(days=10),
        actor=admin_user,
    )
    planned = services.enrollment_step_down(
        enrollment=current,
        group=iop3,
        on=timezone.localdate() + timedelta(days=7),
        actor=admin_user,
    )
    assert planned.status == EnrollmentStatus.PLANNED
    client_services.episode_discharge(
        episode=client.episodes.get(),
        discharged_on=timezone.localdate(),
        reason="completed",
        summary="Done",
        continuing_care="alumni",
        actor=clinician,
    )
    current.refresh_from_db()
    planned.refresh_from_db()
    assert (current.status, current.ended_on) == ("discharged", timezone.localdate())
    assert (planned.status, planned.ended_on) == ("discharged", planned.start_on)
    assert not Enrollment.objects.on(planned.start_on).filter(client=client).exists()
    assert (
        iop3.capacity
        - Enrollment.objects.filter(group=iop3, status__in=["active", "planned"]).count()
        == iop3.capacity
    )


def test_appointments_refuse_double_booking(clinician, admin_user, iop6):
    room = RoomFactory()
    start = local_datetime(timezone.localdate() + timedelta(days=1), time(12))
    a, b = admitted_client(clinician), admitted_client(clinician)
    services.appointment_book(
        client=a,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        room=room,
        actor=admin_user,
    )
    with pytest.raises(ValidationError, match="already booked"):
        services.appointment_book(
            client=b,
            clinician=clinician,
            kind="individual",
            starts_at=start + timedelta(minutes=30),
            ends_at=start + timedelta(minutes=90),
            actor=admin_user,
        )
    other = UserFactory(roles=["clinician"])
    with_care_team(b, other)
    with pytest.raises(ValidationError, match="room is already booked"):
        services.appointment_book(
            client=b,
            clinician=other,
            kind="family",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            room=room,
            actor=admin_user,
        )
    with pytest.raises(ValidationError, match="end is before the start"):
        services.appointment_book(
            client=b,
            clinician=other,
            kind="family",
            starts_at=start,
            ends_at=start - timedelta(hours=1),
            actor=admin_user,
        )
    assert Appointment.objects.count() == 1


def test_a_client_in_group_cannot_be_booked_during_it(iop6, clinician, admin_user):
    client = admitted_client(clinician)
    services.enrollment_create(
        client=client, group=iop6, start_on=timezone.localdate(), actor=admin_user
    )
    services.sessions_generate(weeks=1)
    session = GroupSession.objects.filter(group=iop6).order_by("starts_at").last()
    prescriber = UserFactory(roles=["medical"])
    with_care_team(client, prescriber, role="prescriber")
    with pytest.raises(ValidationError, match="client is already in a session"):
        services.appointment_book(
            client=client,
            clinician=prescriber,
            kind="medication",
            starts_at=session.starts_at + timedelta(minutes=30),
            ends_at=session.starts_at + timedelta(minutes=60),
            actor=admin_user,
        )


# --- Races, on PostgreSQL with real threads ------------------------------------------------

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _race(calls):
    """Run the calls at the same moment; return (successes, error messages)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except ValidationError as exc:
            errors.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_seat_exactly_one_wins(clinician, admin_user):
    group = GroupFactory(capacity=1)
    a, b = admitted_client(clinician), admitted_client(clinician)
    today = timezone.localdate()
    wins, errors = _race(
        [
            lambda: services.enrollment_create(
                client=a, group=group, start_on=today, actor=admin_user
            ),
            lambda: services.enrollment_create(
                client=b, group=group, start_on=today, actor=admin_user
            ),
        ]
    )
    assert len(wins) == 1
    assert len(errors) == 1 and "is full" in errors[0]
    assert Enrollment.objects.filter(group=group).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_bookings_for_the_same_hour_exactly_one_wins(clinician, admin_user):
    a, b = admitted_client(clinician), admitted_client(clinician)
    start = local_datetime(timezone.localdate() + timedelta(days=2), time(12))
    wins, errors = _race(
        [
            lambda: services.appointment_book(
                client=a,
                clinician=clinician,
                kind="individual",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                actor=admin_user,
            ),
            lambda: services.appointment_book(
                client=b,
                clinician=clinician,
                kind="individual",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                actor=admin_user,
            ),
        ]
    )
    assert len(wins) == 1
    assert len(errors) == 1 and "already booked" in errors[0]
    assert Appointment.objects.count() == 1


def test_local_datetime_uses_the_clinic_zone(settings):
    settings.TIME_ZONE = "America/Denver"
    at = local_datetime(date(2026, 7, 1), time(7))
    assert at.astimezone(ZoneInfo("UTC")) == datetime(2026, 7, 1, 13, tzinfo=ZoneInfo("UTC"))


def test_bookings_beyond_generated_sessions_respect_the_weekly_pattern(iop6, clinician, admin_user):
    far = timezone.localdate() + timedelta(weeks=10)  # no session generated yet
    start = local_datetime(far, time(18, 30))
    with pytest.raises(ValidationError, match="facilitates IOP 6 Evening"):
        services.appointment_book(
            client=admitted_client(clinician),
            clinician=clinician,
            kind="individual",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            actor=admin_user,
        )
    other = UserFactory(roles=["clinician"])
    with pytest.raises(ValidationError, match="room is held by IOP 6 Evening"):
        services.appointment_book(
            client=admitted_client(other),
            clinician=other,
            kind="family",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            room=iop6.room,
            actor=admin_user,
        )


def test_groups_cannot_share_a_room_or_facilitator_at_the_same_time(iop6, clinician):
    same_room = GroupFactory.build(slot=iop6.slot, room=iop6.room, weekdays=[0], track=iop6.track)
    problems = services.group_clashes(group=same_room, facilitator_ids=[])
    assert problems == [f"{iop6.room} is already used by IOP 6 Evening at that time."]
    elsewhere = GroupFactory.build(
        slot=iop6.slot, room=RoomFactory(), weekdays=[0], track=iop6.track
    )
    assert services.group_clashes(group=elsewhere, facilitator_ids=[clinician.pk]) == [
        f"{clinician} already facilitates IOP 6 Evening at that time."
    ]
    assert services.group_clashes(group=elsewhere, facilitator_ids=[]) == []


@postgres_only
def test_the_database_refuses_an_overlap_that_skips_the_services(clinician, admin_user):
    from django.db import IntegrityError, transaction

    start = local_datetime(timezone.localdate() + timedelta(days=3), time(12))
    fields = {"clinician": clinician, "kind": "individual", "booked_by": admin_user}
    Appointment.objects.create(
        client=admitted_client(clinician),
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        **fields,
    )
    with (
        pytest.raises(IntegrityError, match="appointment_no_clinician_overlap"),
        transaction.atomic(),
    ):
        Appointment.objects.create(
            client=admitted_client(clinician),
            starts_at=start + timedelta(minutes=30),
            ends_at=start + timedelta(minutes=90),
            **fields,
        )


def test_demo_groups_do_not_clash():
    from scheduling.demo import GROUPS

    for name, (_, slot, days, room, who) in GROUPS.items():
        for other, (_, slot2, days2, room2, who2) in GROUPS.items():
            overlap = set(days) & set(days2) and (
                slot == slot2 or {slot, slot2} in ({"morning", "weekend"}, {"midday", "weekend"})
            )
            if name != other and overlap:
                assert room != room2 and who != who2, (name, other)
