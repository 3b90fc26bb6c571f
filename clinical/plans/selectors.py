"""Reads the plan pages, the chart and the dashboard need, with what they show joined."""

from datetime import date, timedelta

from clients.access import Purpose, clients_for
from clients.models import Client, asam_dimensions
from clinical.plans.models import RelapsePreventionVersion, TreatmentPlan, TreatmentPlanVersion

# The dashboard lists plans due within this many days (overdue ones first).
DUE_SOON_DAYS = 7


def open_treatment_plan(client: Client) -> TreatmentPlan | None:
    """The plan of the client's open episode, if one was started."""
    return (
        TreatmentPlan.objects.filter(client=client, episode__discharged_on__isnull=True)
        .select_related("episode", "draft_updated_by")
        .first()
    )


def current_treatment_version(client: Client) -> TreatmentPlanVersion | None:
    """The signed version in force (the current version of the open episode's plan)."""
    return (
        TreatmentPlanVersion.objects.in_force()
        .filter(client=client)
        .select_related("created_by", "plan__episode")
        .first()
    )


def treatment_versions(client: Client):
    """Every signed version of every plan of the client, newest first."""
    return (
        TreatmentPlanVersion.objects.filter(client=client)
        .select_related("created_by", "plan__episode")
        .order_by("-plan__episode__admitted_on", "-number")
    )


def current_relapse_version(client: Client) -> RelapsePreventionVersion | None:
    return (
        RelapsePreventionVersion.objects.filter(client=client, is_current=True)
        .select_related("created_by")
        .first()
    )


def relapse_versions(client: Client):
    return (
        RelapsePreventionVersion.objects.filter(client=client)
        .select_related("created_by")
        .order_by("-number")
    )


def plans_due_for_review(user, *, today: date, within_days: int = DUE_SOON_DAYS, limit=20):
    """Plans in force of the clients ``user`` reaches for CLINICAL, due for review by
    ``today + within_days``, the most overdue first (one query)."""
    return list(
        TreatmentPlanVersion.objects.due_for_review(by=today + timedelta(days=within_days))
        .filter(client__in=clients_for(user, Purpose.CLINICAL))
        .select_related("client")
        .order_by("reviewed_on", "pk")[:limit]
    )


def treatment_content_view(content: dict, edition: int | None = None) -> dict:
    """The stored content with what a page shows: dimension labels and real dates. The
    labels are those of the ASAM edition the episode was assessed under (``edition``,
    the plan's episode's), so a plan written under the 3rd edition keeps its names."""
    dimensions = dict(asam_dimensions(edition))
    problems = []
    for p in content.get("problems", []):
        problems.append(
            {
                **p,
                "dimension_label": dimensions.get(p.get("dimension"), p.get("dimension")),
                "objectives": [
                    {**o, "target": date.fromisoformat(o["target_on"])}
                    for o in p.get("objectives", [])
                ],
            }
        )
    return {"client_words": content.get("client_words", ""), "problems": problems}
