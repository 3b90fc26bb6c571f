"""The demo part for medications and measures: MAT for clients with the prescriber,
weekly PHQ-9 and GAD-7 series, one open flag, and nothing more on a second run."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import Client
from clinical.meds import demo as demo_meds
from clinical.meds.models import Measure, Medication
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_shows_change(clinician, medical_user):
    for n, mat in enumerate([True, False]):
        client = ClientFactory(status="active")
        Client.objects.filter(pk=client.pk).update(mrn=f"D{1000 + n}")
        EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=90))
        with_care_team(client, clinician)
        if mat:
            with_care_team(client, medical_user, role="prescriber")
    demo_meds.seed(stdout=io.StringIO())
    counts = (Medication.objects.count(), Measure.objects.count())
    demo_meds.seed(stdout=io.StringIO())
    assert (Medication.objects.count(), Measure.objects.count()) == counts
    assert Medication.objects.get().expected_analytes == ["buprenorphine", "norbuprenorphine"]
    first = Client.objects.get(mrn="D1000")
    phq = list(Measure.objects.filter(client=first, instrument="phq9"))
    assert len(phq) == 9  # weekly over 8 weeks, both ends included
    assert phq[-1].score < phq[0].score  # improving
    assert Measure.objects.flags_open().count() == 1
