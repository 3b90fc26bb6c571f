"""clinical.plans.objectives.current_objectives: what the group note shows per client."""

import pytest
from django.utils import timezone

from clinical.plans.objectives import current_objectives
from iop import when
from tests.clinical.plans_factories import admitted_client, signed_plan

pytestmark = pytest.mark.django_db


def test_objectives_of_the_plan_in_force_per_client(clinician):
    a, b, no_plan = (admitted_client(clinician) for _ in range(3))
    signed_plan(a, clinician, "Attend 3 groups a week")
    signed_plan(a, clinician, "Attend 3 groups a week", "Two negative screens")  # a review
    signed_plan(b, clinician, "Call sponsor daily")
    due = when.day(timezone.localdate() + timezone.timedelta(days=30))
    result = current_objectives([a.pk, b.pk, no_plan.pk])
    assert result == {
        a.pk: [f"Attend 3 groups a week (by {due})", f"Two negative screens (by {due})"],
        b.pk: [f"Call sponsor daily (by {due})"],
    }


def test_a_discharged_episode_and_an_unsigned_draft_give_no_objectives(clinician):
    discharged = admitted_client(clinician)
    signed_plan(discharged, clinician)
    discharged.episodes.update(discharged_on=timezone.localdate(), discharge_reason="completed")
    assert current_objectives([discharged.pk]) == {}
    assert current_objectives([]) == {}


def test_one_query_for_many_clients(clinician, django_assert_num_queries):
    clients = [admitted_client(clinician) for _ in range(3)]
    for client in clients:
        signed_plan(client, clinician)
    # The current versions of the open episodes' plans of these clients (1).
    with django_assert_num_queries(1):
        few = current_objectives([c.pk for c in clients])
    more = [admitted_client(clinician) for _ in range(12)]
    for client in more:
        signed_plan(client, clinician, "One", "Two")
    with django_assert_num_queries(1):
        many = current_objectives([c.pk for c in clients + more])
    assert len(few) == 3 and len(many) == 15
    assert all(len(many[c.pk]) == 2 for c in more)
