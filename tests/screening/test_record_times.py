"""A screen's collection time and a breath test are never in the future (issue 19 #1):
a minute ahead of the clock is refused with a message the forms show, a minute
behind is taken, across midnight too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from screening import services
from screening.models import BreathTest, UrineScreen
from tests.clients.factories import with_care_team
from tests.clock import TUESDAY, at
from tests.screening.factories import collect, enrolled_client, panel

pytestmark = pytest.mark.django_db

FORMAT = "%Y-%m-%dT%H:%M"
MIDNIGHT = at(TUESDAY + timedelta(days=1), "00:00")


@pytest.fixture
def person(clinician, medical_user, time_machine):
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    # The clock stands at 23:59:30 on Tuesday: "00:00" is half a minute ahead.
    time_machine.move_to(MIDNIGHT - timedelta(seconds=30), tick=False)
    return client


def _local(moment):
    return timezone.localtime(moment).strftime(FORMAT)


def test_a_collection_a_minute_ahead_is_refused(person, medical_user):
    with pytest.raises(ValidationError) as refusal:
        collect(person, medical_user, at=MIDNIGHT + timedelta(minutes=1))
    assert refusal.value.message_dict == {"collected_at": ["The collection time is in the future."]}
    assert not UrineScreen.objects.exists()
    assert collect(person, medical_user, at=MIDNIGHT - timedelta(minutes=1)).pk


def test_the_collection_form_shows_why(person, medical_user, client_as):
    web = client_as(medical_user)
    url = reverse("screening:urine_new", args=[person.public_id])
    data = {
        "order_kind": "scheduled",
        "collected_at": _local(MIDNIGHT),  # Wednesday 00:00, after midnight
        "specimen_id": "CCF-778812",
        "panel": str(panel().pk),
        "temperature": "34.2",
        "temperature_unit": "C",
        "temperature_read_in_time": "on",
    }
    response = web.post(url, data)
    assert response.status_code == 400
    assert "The collection time is in the future." in response.content.decode()
    assert not UrineScreen.objects.exists()
    data["collected_at"] = _local(MIDNIGHT - timedelta(minutes=1))
    assert web.post(url, data).status_code == 302


def _breath(person, actor, tested_at):
    return services.breath_record(
        client=person, tested_at=tested_at, bac=Decimal("0.000"), device="Alco-1", actor=actor
    )


def test_a_breath_test_a_minute_ahead_is_refused(person, medical_user, client_as):
    with pytest.raises(ValidationError) as refusal:
        _breath(person, medical_user, MIDNIGHT + timedelta(minutes=1))
    assert refusal.value.message_dict == {"tested_at": ["The test time is in the future."]}
    response = client_as(medical_user).post(
        reverse("screening:breath_new", args=[person.public_id]),
        {"tested_at": _local(MIDNIGHT), "bac": "0.000", "device": "Alco-1"},
    )
    assert response.status_code == 400
    assert "The test time is in the future." in response.content.decode()
    assert not BreathTest.objects.exists()
    assert _breath(person, medical_user, MIDNIGHT - timedelta(minutes=1)).pk
