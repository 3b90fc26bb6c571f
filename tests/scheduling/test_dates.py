"""The one date policy (iop/dates.py) on every scheduling date field and parameter, at
both ends of the calendar (issue 7 #10): never an OverflowError, always a message."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from scheduling import services
from scheduling.models import (
    Appointment,
    Attendance,
    ClinicClosure,
    Enrollment,
    GroupSession,
    local_datetime,
)
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory, RoomFactory

pytestmark = pytest.mark.django_db

ENDS = ["0001-01-01", "9999-12-31"]


def _admitted(clinician):
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=60))
    with_care_team(client, clinician)
    return client


@pytest.mark.parametrize("start", ENDS)
@pytest.mark.parametrize("page", ["week", "day", "room_week"])
def test_calendars_answer_400_with_the_message_at_both_ends(clinician, client_as, page, start):
    args = [RoomFactory().pk] if page == "room_week" else []
    response = client_as(clinician).get(reverse(f"scheduling:{page}", args=args), {"start": start})
    assert response.status_code == 400
    html = response.content.decode()
    assert "That date is too far" in html
    assert "Showing today instead." in html


@pytest.mark.parametrize("start_on", ENDS)
def test_enrolment_page_refuses_dates_at_both_ends(clinician, client_as, start_on):
    group = GroupFactory(facilitator=clinician)
    client = _admitted(clinician)
    response = client_as(clinician).post(
        reverse("scheduling:enroll", args=[client.public_id]),
        {"group": group.public_id, "start_on": start_on},
    )
    assert response.status_code == 400
    assert "That date is too far" in response.content.decode()
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("start_on", ENDS)
def test_step_down_page_refuses_dates_at_both_ends(clinician, admin_user, client_as, start_on):
    iop6 = GroupFactory(facilitator=clinician)
    iop3 = GroupFactory(track=iop6.track.steps_down_to, facilitator=clinician)
    client = _admitted(clinician)
    services.enrollment_create(
        client=client, group=iop6, start_on=timezone.localdate(), actor=admin_user
    )
    response = client_as(clinician).post(
        reverse("scheduling:step_down", args=[client.public_id]),
        {"group": iop3.public_id, "start_on": start_on},
    )
    assert response.status_code == 400
    assert "That date is too far" in response.content.decode()
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("day", ENDS)
def test_appointment_page_refuses_dates_at_both_ends(clinician, client_as, day):
    client = _admitted(clinician)
    response = client_as(clinician).post(
        reverse("scheduling:appointment_new"),
        {
            "client": client.public_id,
            "kind": "individual",
            "clinician": clinician.pk,
            "day": day,
            "start": "12:00",
            "minutes": "60",
        },
    )
    assert response.status_code == 400
    assert "That date is too far" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("day", [date.min, date.max])
def test_services_refuse_dates_at_both_ends(clinician, admin_user, day):
    iop6 = GroupFactory(facilitator=clinician)
    iop3 = GroupFactory(track=iop6.track.steps_down_to, facilitator=clinician)
    client = _admitted(clinician)
    with pytest.raises(ValidationError, match="too far"):
        services.enrollment_create(client=client, group=iop6, start_on=day, actor=admin_user)
    enrollment = services.enrollment_create(
        client=client, group=iop6, start_on=timezone.localdate(), actor=admin_user
    )
    with pytest.raises(ValidationError, match="too far"):
        services.enrollment_step_down(enrollment=enrollment, group=iop3, on=day, actor=admin_user)
    with pytest.raises(ValidationError, match="too far"):
        services.closure_create(day=day, reason="Probe", actor=admin_user)
    tz = timezone.get_current_timezone()
    # datetime.max in the clinic's zone cannot be converted to UTC: stay a day inside it.
    at = datetime.combine(day + timedelta(days=1 if day == date.min else -1), time(12), tzinfo=tz)
    with pytest.raises(ValidationError, match="too far"):
        services.appointment_book(
            client=client,
            clinician=clinician,
            kind="individual",
            starts_at=at,
            ends_at=at + timedelta(hours=1),
            actor=admin_user,
        )
    assert not ClinicClosure.objects.exists()
    assert not Appointment.objects.exists()
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("years", [-4, 3])
def test_a_make_up_outside_the_schedule_policy_is_refused(clinician, admin_user, years):
    own = GroupFactory(facilitator=clinician)
    other = GroupFactory(facilitator=admin_user)
    client = _admitted(clinician)
    services.enrollment_create(
        client=client, group=own, start_on=timezone.localdate(), actor=admin_user
    )
    day = timezone.localdate() + timedelta(days=366 * years)
    session = GroupSession.objects.create(
        group=other,
        date=day,
        starts_at=local_datetime(day, other.slot.start_time),
        ends_at=local_datetime(day, other.slot.end_time),
        room=other.room,
    )
    with pytest.raises(ValidationError, match="too far"):
        services.attendance_record(
            session=session,
            client=client,
            status="present",
            minutes=None,
            is_makeup=True,
            actor=admin_user,
        )
    assert not Attendance.objects.exists()
