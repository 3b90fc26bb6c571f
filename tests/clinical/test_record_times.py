"""A measure and a medication's start are never in the future (issue 19 #1): the
services refuse them with a message the forms show, a minute either side of midnight
(the day is the clinic's)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinical.meds.models import Measure, Medication
from clinical.meds.services import measure_record, medication_add
from tests.clients.factories import with_care_team
from tests.clinical.factories_meds import phq9, phq9_post, treated_client
from tests.clock import TUESDAY, at

pytestmark = pytest.mark.django_db

WEDNESDAY = TUESDAY + timedelta(days=1)
MEDICATION_WAIT = "A medication is recorded once it has started: that start is in the future."


@pytest.fixture
def person(clinician, medical_user, time_machine):
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)
    client = treated_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    return client


def _medication(client, actor, started_on):
    return medication_add(
        client=client,
        mat_agent="buprenorphine",
        dose="8 mg/2 mg",
        schedule="once daily",
        prescriber=actor,
        started_on=started_on,
        actor=actor,
    )


def test_a_medication_starting_tomorrow_waits_for_tomorrow(person, medical_user, time_machine):
    time_machine.move_to(at(TUESDAY, "23:59"), tick=False)
    with pytest.raises(ValidationError) as refusal:
        _medication(person, medical_user, WEDNESDAY)
    assert refusal.value.message_dict == {"started_on": [MEDICATION_WAIT]}
    assert not Medication.objects.exists()
    time_machine.move_to(at(WEDNESDAY, "00:01"), tick=False)
    assert _medication(person, medical_user, WEDNESDAY).started_on == WEDNESDAY


def test_the_medication_form_shows_why(person, medical_user, client_as, time_machine):
    time_machine.move_to(at(TUESDAY, "23:59"), tick=False)
    response = client_as(medical_user).post(
        reverse("meds:medication_add", args=[person.public_id]),
        {
            "mat_agent": "buprenorphine",
            "dose": "8 mg/2 mg",
            "schedule": "once daily",
            "prescriber": medical_user.pk,
            "started_on": WEDNESDAY.isoformat(),
        },
    )
    assert response.status_code == 400
    assert MEDICATION_WAIT in response.content.decode()
    assert not Medication.objects.exists()


def test_a_measure_is_recorded_on_or_after_the_day_it_is_given(
    person, clinician, client_as, time_machine
):
    time_machine.move_to(at(TUESDAY, "23:59"), tick=False)
    with pytest.raises(ValidationError, match="A measure is recorded after it is given."):
        measure_record(
            client=person,
            instrument="phq9",
            administered_on=WEDNESDAY,
            items=phq9(),
            actor=clinician,
        )
    page = client_as(clinician).post(
        reverse("meds:measure_add_phq9", args=[person.public_id]), phq9_post(on=WEDNESDAY)
    )
    assert page.status_code == 400
    assert "A measure is recorded after it is given." in page.content.decode()
    assert not Measure.objects.exists()
    time_machine.move_to(at(WEDNESDAY, "00:01"), tick=False)
    measure = measure_record(
        client=person, instrument="phq9", administered_on=WEDNESDAY, items=phq9(), actor=clinician
    )
    assert measure.administered_on == WEDNESDAY
