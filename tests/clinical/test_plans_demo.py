"""The plans demo seeder: a plan of each kind per active demo client, idempotent."""

import io

import pytest
from django.utils import timezone

from clinical.plans import demo as demo_plans
from clinical.plans.models import RelapsePreventionVersion, TreatmentPlanVersion
from tests.clinical.plans_factories import admitted_client

pytestmark = pytest.mark.django_db


def test_demo_plans_are_seeded_once(clinician):
    clients = [admitted_client(clinician, mrn=f"D{1000 + n}") for n in range(2)]
    demo_plans.seed(stdout=io.StringIO())
    counts = (TreatmentPlanVersion.objects.count(), RelapsePreventionVersion.objects.count())
    demo_plans.seed(stdout=io.StringIO())
    assert (TreatmentPlanVersion.objects.count(), RelapsePreventionVersion.objects.count()) == (
        counts
    )
    for client in clients:
        assert TreatmentPlanVersion.objects.in_force().filter(client=client).exists()
        assert RelapsePreventionVersion.objects.filter(client=client, is_current=True).exists()
    # Admitted 40 days ago: signed a week in, reviewed at 30 days, so two versions each.
    version = TreatmentPlanVersion.objects.in_force().filter(client=clients[0]).get()
    assert version.number == 2
    assert version.review_due_on > timezone.localdate()
