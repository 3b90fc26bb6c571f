"""Registrations of the plans part: owned kinds for the access path, chart sections
and the clinicians' "Plans due for review" on the dashboard."""

from django.utils import timezone

from clients.access import Action, OwnedKind, Purpose, register_owned
from clients.chart import ChartSection
from clients.chart import register as register_chart
from iop.accounts.models import Role
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section


def register():
    from clinical.plans.models import RelapsePreventionVersion, TreatmentPlanVersion

    # A version carries its client, so the one access path decides on that client.
    register_owned(
        OwnedKind(
            "clinical.treatmentplanversion",
            "plan_version_id",
            lambda: TreatmentPlanVersion.objects.select_related(
                "client", "created_by", "plan__episode"
            ),
        )
    )
    register_owned(
        OwnedKind(
            "clinical.relapsepreventionversion",
            "relapse_version_id",
            lambda: RelapsePreventionVersion.objects.select_related("client", "created_by"),
        )
    )
    register_chart(
        ChartSection(
            "treatment_plan",
            "Treatment plan",
            Purpose.CLINICAL,
            "clinical/plans/chart_treatment.html",
            _chart_treatment,
        )
    )
    register_chart(
        ChartSection(
            "relapse_plan",
            "Relapse-prevention plan",
            Purpose.CLINICAL,
            "clinical/plans/chart_relapse.html",
            _chart_relapse,
        )
    )
    register_section(
        DashboardSection(
            "plans_due",
            "Plans due for review",
            (Role.CLINICIAN, Role.SUPERVISOR),
            "clinical/plans/dashboard_due.html",
            _plans_due,
            clients=lambda context: [version.client for version in context["due"]],
        )
    )


def _can_write(request) -> bool:
    return request.client_access.can(Action.WRITE_CLINICAL)


def _chart_treatment(request, client):
    from clinical.plans.selectors import current_treatment_version, treatment_content_view

    current = current_treatment_version(client)
    return {
        "current": current,
        "content": treatment_content_view(current.content, current.plan.episode.asam_edition)
        if current
        else None,
        "today": timezone.localdate(),
        "can_write": _can_write(request),
    }


def _chart_relapse(request, client):
    from clinical.plans.selectors import current_relapse_version

    return {"current": current_relapse_version(client), "can_write": _can_write(request)}


def _plans_due(request):
    from clinical.plans.selectors import DUE_SOON_DAYS, plans_due_for_review

    today = timezone.localdate()
    return {
        "due": plans_due_for_review(request.user, today=today),
        "today": today,
        "within_days": DUE_SOON_DAYS,
    }
