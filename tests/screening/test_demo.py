"""The screening demo: eight weeks of random tests collected, the special cases the
issue asks for, today's pending tests, and nothing more on a second run."""

import io
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.models import Client
from clinical.meds.services import medication_add
from screening import demo
from screening.models import BreathTest, RandomSelection, ScreenFollowUp, UrineScreen
from screening.rules import Outcome
from tests.clients.factories import with_care_team
from tests.iop.factories import UserFactory
from tests.screening.factories import enrolled_client

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_has_every_case():
    casey = UserFactory(username="clinician", roles=["clinician"])
    mira = UserFactory(username="medical", roles=["medical"], credential="MD")
    for n in range(4):
        client = enrolled_client(casey, start_days_ago=58)
        Client.objects.filter(pk=client.pk).update(mrn=f"D{1000 + n}")
        if n == 0:
            with_care_team(client, mira, role="prescriber")
            medication_add(
                client=client,
                mat_agent="buprenorphine",
                dose="8 mg/2 mg",
                schedule="daily",
                prescriber=mira,
                started_on=timezone.localdate() - timezone.timedelta(days=58),
                actor=mira,
            )
    demo.seed(stdout=io.StringIO())
    counts = (
        UrineScreen.objects.count(),
        RandomSelection.objects.count(),
        BreathTest.objects.count(),
    )
    demo.seed(stdout=io.StringIO())
    assert (
        UrineScreen.objects.count(),
        RandomSelection.objects.count(),
        BreathTest.objects.count(),
    ) == counts
    outcomes = set(UrineScreen.objects.values_list("outcome", flat=True))
    assert {
        Outcome.NEGATIVE,
        Outcome.EXPECTED_POSITIVE,
        Outcome.UNEXPECTED_POSITIVE,
        Outcome.DILUTE,
        Outcome.NO_SHOW,
    } <= outcomes
    assert (
        UrineScreen.objects.filter(outcome=Outcome.EXPECTED_POSITIVE)
        .exclude(client__mrn="D1000")
        .count()
        == 0
    )  # only the MAT client
    assert BreathTest.objects.get().outcome == Outcome.UNEXPECTED_POSITIVE
    assert RandomSelection.objects.filter(date=timezone.localdate(), status="pending").exists()
    assert set(ScreenFollowUp.objects.values_list("reason", flat=True)) == {
        "unexpected_positive",
        "dilute",
        "missed_random",
        # Issue 21: an invalid specimen and a MAT non-adherence flag for a new user to see.
        "invalid",
        "mat_absent",
    }
    invalid = UrineScreen.objects.get(validity="invalid")
    assert (invalid.creatinine_mg_dl, str(invalid.specific_gravity)) == (
        Decimal("1.9"),
        "1.0199",
    )
    assert ScreenFollowUp.objects.get(reason="mat_absent").client.mrn == "D1000"
