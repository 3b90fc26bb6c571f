from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from scheduling import selectors, services
from scheduling.models import Appointment, Attendance, Enrollment, Group
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory, RoomFactory, started_session

pytestmark = pytest.mark.django_db


def _enrolled(group, clinician, admin_user, n):
    clients = []
    for _ in range(n):
        client = ClientFactory(status="active")
        EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=30))
        with_care_team(client, clinician)
        services.enrollment_create(
            client=client,
            group=group,
            start_on=timezone.localdate() - timedelta(days=14),
            actor=admin_user,
        )
        clients.append(client)
    return clients


@pytest.fixture
def evening(clinician):
    return GroupFactory(name="IOP 6 Evening", facilitator=clinician, capacity=30)


def _sheet(session):
    return reverse("scheduling:attendance_sheet", args=[session.public_id])


def _mark(session, client):
    return reverse("scheduling:attendance_mark", args=[session.public_id, client.public_id])


def test_facilitator_sees_every_enrolled_client_on_the_sheet(
    evening, clinician, admin_user, client_as
):
    clients = _enrolled(evening, clinician, admin_user, 3)
    session = started_session(evening)
    response = client_as(clinician).get(_sheet(session))
    assert response.status_code == 200
    html = response.content.decode()
    for client in clients:
        assert client.display_name in html


def test_only_facilitators_and_admins_take_attendance(
    evening, clinician, other_clinician, admin_user, client_as
):
    session = started_session(evening)
    assert client_as(other_clinician).get(_sheet(session)).status_code == 404
    assert AuditEvent.objects.filter(
        action="access.attendance", actor=other_clinician, outcome="denied"
    ).exists()
    assert client_as(admin_user).get(_sheet(session)).status_code == 200


def test_one_click_marks_attendance_with_htmx(evening, clinician, admin_user, client_as):
    (client,) = _enrolled(evening, clinician, admin_user, 1)
    session = started_session(evening)
    response = client_as(clinician).post(
        _mark(session, client), {"status": "late", "minutes": "150"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Late · 150 min" in response.content.decode()
    assert "<html" not in response.content.decode()  # only the row is swapped
    record = Attendance.objects.get(session=session, client=client)
    assert (record.status, record.minutes, record.recorded_by) == ("late", 150, clinician)


def test_marking_works_without_javascript(evening, clinician, admin_user, client_as):
    (client,) = _enrolled(evening, clinician, admin_user, 1)
    session = started_session(evening)
    response = client_as(clinician).post(
        _mark(session, client), {"status": "present", "minutes": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == _sheet(session)
    assert Attendance.objects.get(session=session, client=client).minutes == session.minutes


@pytest.mark.parametrize("minutes", ["181", "-1", "many"])
def test_bad_minutes_answer_400_and_save_nothing(
    evening, clinician, admin_user, client_as, minutes
):
    (client,) = _enrolled(evening, clinician, admin_user, 1)
    session = started_session(evening)
    http = client_as(clinician)
    response = http.post(
        _mark(session, client), {"status": "late", "minutes": minutes}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "inutes" in response.content.decode()
    plain = http.post(_mark(session, client), {"status": "late", "minutes": minutes})
    assert plain.status_code == 400
    assert not Attendance.objects.exists()


def test_attendance_sheet_query_count_does_not_grow_with_clients(
    evening, clinician, admin_user, client_as, django_assert_max_num_queries
):
    session = started_session(evening)
    http = client_as(clinician)
    _enrolled(evening, clinician, admin_user, 2)
    # session, user, roles, session lookup, facilitator check, audit (lock, last hash,
    # insert), roster with attendance prefetch
    with django_assert_max_num_queries(13):
        assert http.get(_sheet(session)).status_code == 200
    _enrolled(evening, clinician, admin_user, 12)
    with django_assert_max_num_queries(13):
        response = http.get(_sheet(session))
    assert response.content.decode().count("list-group-item attendance-row") == 14


@pytest.mark.parametrize("page", ["week", "day"])
def test_calendars_query_count_does_not_grow_with_sessions(
    clinician, admin_user, client_as, django_assert_max_num_queries, page
):
    http = client_as(clinician)
    GroupFactory(facilitator=clinician)
    services.sessions_generate(weeks=1)
    url = reverse(f"scheduling:{page}")
    # session, user, roles, sessions (facilitators prefetched), appointments or
    # enrolments, rooms
    with django_assert_max_num_queries(10):
        assert http.get(url).status_code == 200
    for _ in range(4):
        group = GroupFactory(facilitator=clinician, capacity=30)
        _enrolled(group, clinician, admin_user, 3)
    services.sessions_generate(weeks=1)
    with django_assert_max_num_queries(10):
        response = http.get(url)
    assert response.status_code == 200


def test_room_week_lists_the_rooms_bookings(clinician, client_as, django_assert_max_num_queries):
    group = GroupFactory(facilitator=clinician)
    # From the Monday the page shows: generated from today, a week begun on Tuesday
    # would hold only six of the seven sessions.
    services.sessions_generate(weeks=1, today=selectors.week_start(timezone.localdate()))
    http = client_as(clinician)
    with django_assert_max_num_queries(10):
        response = http.get(reverse("scheduling:room_week", args=[group.room.pk]))
    assert response.status_code == 200
    assert response.content.decode().count(group.name) == 7


def test_client_schedule_is_printable_for_the_care_team(
    evening, clinician, other_clinician, admin_user, client_as
):
    (client,) = _enrolled(evening, clinician, admin_user, 1)
    services.sessions_generate(weeks=2)
    url = reverse("scheduling:client_schedule", args=[client.public_id])
    response = client_as(clinician).get(url)
    assert response.status_code == 200
    assert response.content.decode().count("IOP 6 Evening") >= 13
    assert client_as(other_clinician).get(url).status_code == 404


def test_enrol_and_step_down_through_the_pages(clinician, admin_user, client_as):
    iop6 = GroupFactory(facilitator=clinician)
    iop3 = GroupFactory(track=iop6.track.steps_down_to, facilitator=clinician)
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=40))
    with_care_team(client, clinician)
    http = client_as(clinician)
    start = (timezone.localdate() - timedelta(days=30)).isoformat()
    enroll = reverse("scheduling:enroll", args=[client.public_id])
    assert http.post(enroll, {"group": iop6.public_id, "start_on": start}).status_code == 302
    again = http.post(enroll, {"group": iop6.public_id, "start_on": start})
    assert again.status_code == 400
    assert "already in a group" in again.content.decode()
    step = reverse("scheduling:step_down", args=[client.public_id])
    wrong = http.post(step, {"group": iop6.public_id, "start_on": start})
    assert wrong.status_code == 400
    today = timezone.localdate().isoformat()
    assert http.post(step, {"group": iop3.public_id, "start_on": today}).status_code == 302
    assert list(
        Enrollment.objects.filter(client=client)
        .order_by("start_on")
        .values_list("status", flat=True)
    ) == ["stepped_down", "active"]


def test_booking_an_appointment_page(clinician, client_as):
    client = ClientFactory(status="active")
    with_care_team(client, clinician)
    room = RoomFactory()
    http = client_as(clinician)
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    data = {
        "client": client.public_id,
        "kind": "individual",
        "clinician": clinician.pk,
        "day": day,
        "start": "12:00",
        "end": "11:00",
        "room": room.pk,
    }
    bad = http.post(reverse("scheduling:appointment_new"), data)
    assert bad.status_code == 400
    assert "The end is before the start." in bad.content.decode()
    data["end"] = "13:00"
    assert http.post(reverse("scheduling:appointment_new"), data).status_code == 302
    twice = http.post(reverse("scheduling:appointment_new"), data)
    assert twice.status_code == 400
    assert "already booked" in twice.content.decode()
    assert Appointment.objects.count() == 1


def test_cancelling_a_session_needs_a_reason(evening, clinician, client_as):
    services.sessions_generate(weeks=1)
    session = evening.sessions.order_by("date").last()
    url = reverse("scheduling:session_cancel", args=[session.public_id])
    http = client_as(clinician)
    assert http.post(url, {"reason": ""}).status_code == 400
    assert http.post(url, {"reason": "Snow storm"}).status_code == 302
    session.refresh_from_db()
    assert session.cancel_reason == "Snow storm"


def test_a_missed_session_is_made_up_in_another_group(clinician, admin_user, client_as):
    own = GroupFactory(facilitator=clinician)
    other = GroupFactory(facilitator=admin_user)
    (client,) = _enrolled(own, clinician, admin_user, 1)
    session = started_session(other)
    url = reverse("scheduling:makeup", args=[client.public_id])
    http = client_as(clinician)
    assert session.group.name in http.get(url).content.decode()
    too_long = http.post(url, {"session": session.public_id, "status": "present", "minutes": 500})
    assert too_long.status_code == 400
    assert http.post(url, {"session": session.public_id, "status": "present"}).status_code == 302
    record = Attendance.objects.get(client=client)
    assert (record.session, record.is_makeup, record.minutes) == (session, True, 180)
    sheet = client_as(admin_user).get(
        reverse("scheduling:attendance_sheet", args=[session.public_id])
    )
    assert "make-up" in sheet.content.decode()


def test_admin_refuses_a_group_that_clashes(admin_user, clinician, other_clinician, client_as):
    existing = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    data = {
        "name": "New evening group",
        "track": existing.track.pk,
        "slot": existing.slot.pk,
        "weekdays": ["0", "2"],
        "room": existing.room.pk,
        "facilitators": [clinician.pk],
        "capacity": 12,
        "active": "on",
    }
    response = client_as(admin_user).post(reverse("admin:scheduling_group_add"), data)
    assert response.status_code == 200  # the admin re-shows the form with the errors
    html = response.content.decode()
    assert "already used by IOP 6 Evening" in html
    assert "already facilitates IOP 6 Evening" in html
    data.update(room=RoomFactory().pk, facilitators=[other_clinician.pk])  # no clash now
    saved = client_as(admin_user).post(reverse("admin:scheduling_group_add"), data)
    assert saved.status_code == 302
    assert Group.objects.get(name="New evening group").weekdays == [0, 2]


def test_chart_query_count_does_not_grow_with_history(
    evening, clinician, admin_user, client_as, django_assert_max_num_queries
):
    (client,) = _enrolled(evening, clinician, admin_user, 1)
    services.sessions_generate(weeks=3, today=timezone.localdate() - timedelta(days=14))
    http = client_as(clinician)
    url = reverse("clients:chart", args=[client.public_id])

    def attend(days):
        for session in evening.sessions.filter(date__lt=timezone.localdate())[:days]:
            Attendance.objects.get_or_create(
                session=session,
                client=client,
                defaults={"status": "present", "minutes": 180, "recorded_by": clinician},
            )

    attend(2)
    # session, user, OTP device, roles (4); the client with every purpose's grant as
    # EXISTS columns: the one access query (1); the audit row (savepoint, chain lock,
    # head, insert, release: 5); discharges, consents, episodes, emergency flag, care
    # team, episodes, contacts, disclosures (8); enrollment twice, weekly hours, history (4);
    # readiness: sessions held, attended, weekly minutes (3); progress notes (1, and their
    # sections and addenda when there are notes). Was 30 with five access checks.
    with django_assert_max_num_queries(26) as first:
        assert http.get(url).status_code == 200
    attend(14)
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = http.get(url)
    assert response.status_code == 200
    assert "(14 of " in response.content.decode()  # attended sessions in the readiness line


def test_an_appointment_is_cancelled_from_the_week(clinician, other_clinician, client_as):
    client = ClientFactory(status="active")
    with_care_team(client, clinician)
    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    appointment = services.appointment_book(
        client=client,
        clinician=clinician,
        kind="individual",
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=1),
        actor=clinician,
    )
    http = client_as(clinician)
    week = http.get(reverse("scheduling:week"), {"start": (start + timedelta(days=1)).date()})
    cancel_url = reverse("scheduling:appointment_cancel", args=[appointment.public_id])
    assert cancel_url in week.content.decode()
    # bob has no reason to see the client: the appointment does not exist for him.
    assert client_as(other_clinician).post(cancel_url).status_code == 404
    assert client_as(clinician).post(cancel_url).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
