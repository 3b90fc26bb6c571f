"""An appointment is a service of an episode of care: none before the client's
admission (issue 19 #1: a 3 Dec appointment was accepted for a client admitted on
4 Dec), on the clinic's day, a minute either side of midnight; none for a client who
was never admitted. The booking page shows the refusal."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from iop import when
from scheduling import services
from scheduling.models import Appointment
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import TUESDAY, at

pytestmark = pytest.mark.django_db

MONDAY = TUESDAY - timedelta(days=1)
REFUSED = (
    f"The client was admitted on {when.day(TUESDAY)}: an appointment cannot come before the "
    "admission."
)


@pytest.fixture
def admitted_tuesday(clinician, time_machine):
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)
    client = EpisodeFactory(admitted_on=TUESDAY).client
    with_care_team(client, clinician)
    return client


def _book(client, clinician, start, minutes=50):
    return services.appointment_book(
        client=client,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        actor=clinician,
    )


def test_an_appointment_before_the_admission_day_is_refused(admitted_tuesday, clinician):
    with pytest.raises(ValidationError) as refusal:
        _book(admitted_tuesday, clinician, at(MONDAY, "23:09"))  # ends 23:59 Monday
    assert refusal.value.message_dict == {"starts_at": [REFUSED]}
    assert not Appointment.objects.exists()
    assert _book(admitted_tuesday, clinician, at(TUESDAY, "00:01")).pk


def test_a_client_never_admitted_gets_no_appointment(clinician, time_machine):
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)
    client = ClientFactory(status="prospect")
    with_care_team(client, clinician)
    with pytest.raises(ValidationError, match="Admit the client before booking"):
        _book(client, clinician, at(TUESDAY, "15:00"))


def test_the_booking_page_shows_the_refusal(admitted_tuesday, clinician, client_as):
    response = client_as(clinician).post(
        reverse("scheduling:appointment_new"),
        {
            "client": admitted_tuesday.public_id,
            "kind": "individual",
            "clinician": clinician.pk,
            "day": MONDAY.isoformat(),
            "start": "15:00",
            "minutes": "50",
        },
    )
    assert response.status_code == 400
    assert REFUSED.replace("'", "&#x27;") in response.content.decode()
    assert not Appointment.objects.exists()
