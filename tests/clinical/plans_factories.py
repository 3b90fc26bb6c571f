"""Plans written through the services, as the pages write them."""

from datetime import timedelta

from django.utils import timezone

from clinical.plans import services as services_plans
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team


def admitted_client(clinician, **client_fields):
    """An active client with an open episode and ``clinician`` as primary clinician."""
    client = ClientFactory(status="active", **client_fields)
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=40))
    with_care_team(client, clinician)
    return client


def problem(*objectives, dimension="d5", staff=None):
    today = timezone.localdate()
    return {
        "dimension": dimension,
        "problem": "Cravings after night shifts",
        "goal": "Stay sober through the rotation",
        "objectives": [
            {"text": text, "target_on": today + timedelta(days=30)} for text in objectives
        ],
        "interventions": (
            [{"modality": "CBT", "frequency": "Weekly", "staff": staff}] if staff else []
        ),
    }


def signed_plan(client, clinician, *objectives, signed_on=None):
    """Draft, then sign: version 1 (or the next) in force."""
    episode = client.episodes.open().get()
    plan = getattr(episode, "treatment_plan", None)
    revision = plan.draft_revision if plan else 0
    plan = services_plans.treatment_plan_save_draft(
        episode=episode,
        content={
            "client_words": "I want my licence back.",
            "problems": [problem(*(objectives or ("Attend 3 groups a week",)), staff=clinician)],
        },
        revision=revision,
        actor=clinician,
    )
    latest = plan.versions.order_by("-number").first()
    return services_plans.treatment_plan_review(
        plan=plan,
        of_version=latest.number if latest else 0,
        client_agreement="agrees",
        client_signed_on=signed_on or timezone.localdate(),
        actor=clinician,
    )


RELAPSE = {
    "triggers": {
        "people": ["Old drinking friends"],
        "places": ["The bar by the hospital"],
        "emotions": ["Loneliness after a bad shift"],
        "workplace": ["Double shifts"],
    },
    "warning_signs": ["Skipping meetings"],
    "coping_strategies": ["Call my sponsor", "Walk the dog"],
    "workplace_strategies": ["Ask the charge nurse for a break"],
    "contacts": [{"name": "Sam Ortiz", "relationship": "Sponsor", "phone": "(617) 555-0134"}],
    "emergency_steps": ["Leave the place", "Call Sam"],
    "reasons_for_recovery": ["My daughter"],
}


def relapse_version(client, clinician, *, of_version=0, note="", **changes):
    return services_plans.relapse_plan_save(
        client=client,
        content={**RELAPSE, **changes},
        internal_note=note,
        of_version=of_version,
        actor=clinician,
    )
