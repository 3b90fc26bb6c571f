"""The ASAM Criteria edition: the program's choice for new assessments (IOP_ASAM_EDITION,
3 = 3rd edition 2013, 4 = 4th edition 2023), each episode keeping the edition it was
assessed under and showing that edition's level and dimension names."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import AsamEdition
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db


def _admit_form():
    data = {
        "admitted_on": timezone.localdate().isoformat(),
        "asam_level": "2.1",
        "planned_length_days": "60",
    }
    for n in range(1, 7):
        data[f"d{n}_rating"] = "2"
        data[f"d{n}_note"] = ""
    return data


def test_a_third_edition_assessment_keeps_its_names_after_the_program_moves_to_the_fourth(
    clinician, client_as, settings
):
    episode = EpisodeFactory(asam_level="2.1", dimension_ratings={"d4": 3})
    assert episode.asam_edition == AsamEdition.THIRD
    with_care_team(episode.client, clinician)
    settings.IOP_ASAM_EDITION = 4
    body = client_as(clinician).get(reverse("clients:chart", args=[episode.client.public_id]))
    text = body.content.decode()
    assert "ASAM 2.1 Intensive outpatient (ASAM Criteria, 3rd edition (2013))" in text
    assert "4. Readiness to change: 3" in text
    assert "Person-centered" not in text


def test_a_fourth_edition_admission_stores_and_shows_the_fourth_editions_names(
    intake_user, clinician, client_as, settings
):
    settings.IOP_ASAM_EDITION = 4
    client = ClientFactory()
    with_care_team(client, intake_user, "intake")
    with_care_team(client, clinician)
    url = reverse("clients:admit", args=[client.public_id])
    form = client_as(intake_user).get(url).content.decode()
    assert "2.1 Intensive outpatient treatment" in form
    assert "6. Person-centered considerations" in form
    assert "ASAM Criteria, 4th edition (2023)" in form
    assert client_as(intake_user).post(url, _admit_form()).status_code == 302
    episode = client.episodes.get()
    assert episode.asam_edition == AsamEdition.FOURTH
    settings.IOP_ASAM_EDITION = 3  # the program goes back: the record keeps the 4th
    text = client_as(clinician).get(reverse("clients:chart", args=[client.public_id]))
    text = text.content.decode()
    assert "ASAM 2.1 Intensive outpatient treatment (ASAM Criteria, 4th edition (2023))" in text
    assert "3. Psychiatric and cognitive conditions: 2" in text
    assert "Readiness to change" not in text


def test_a_bad_edition_setting_stops_the_start_with_its_message():
    from tests.iop.test_settings import _run

    result = _run({"DJANGO_DEBUG": "1", "IOP_ASAM_EDITION": "5"}, "check")
    assert result.returncode != 0
    assert "IOP_ASAM_EDITION must be 3 or 4" in result.stderr


def test_a_plan_written_under_the_third_edition_keeps_its_dimension_names(
    clinician, client_as, settings
):
    from tests.clinical.plans_factories import admitted_client, signed_plan

    client = admitted_client(clinician)
    signed_plan(client, clinician)  # its problem is tied to d5
    settings.IOP_ASAM_EDITION = 4
    web = client_as(clinician)
    page = web.get(reverse("plans:treatment", args=[client.public_id])).content.decode()
    assert "5. Relapse, continued use potential" in page
    assert "Recovery environment interactions" not in page
    # The draft form offers the episode's edition too, not the program's new one.
    form = web.get(reverse("plans:treatment_edit", args=[client.public_id])).content.decode()
    assert "4. Readiness to change" in form
    assert "Person-centered" not in form
