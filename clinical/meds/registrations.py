"""Chart sections, dashboard section and owned kinds of medications and measures."""

from django.utils import timezone

from clients.access import Action, OwnedKind, Purpose, register_owned
from clients.chart import ChartSection
from clients.chart import register as register_chart
from iop.accounts.models import Role
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section


def register():
    from clinical.meds.models import Measure, MeasureAssignment, Medication
    from clinical.meds.selectors import FLAG_ROLES

    register_owned(
        OwnedKind(
            "clinical.medication",
            "medication_id",
            lambda: Medication.objects.select_related("client", "prescriber"),
        )
    )
    register_owned(
        OwnedKind(
            "clinical.measure",
            "measure_id",
            lambda: Measure.objects.select_related("client", "recorded_by", "flag_acknowledged_by"),
        )
    )
    register_owned(
        OwnedKind(
            "clinical.measureassignment",
            "assignment_id",
            lambda: MeasureAssignment.objects.select_related("client"),
        )
    )
    register_chart(
        ChartSection(
            "medications",
            "Medications",
            Purpose.CLINICAL,
            "clinical/meds/chart_medications.html",
            _chart_medications,
        )
    )
    register_chart(
        ChartSection(
            "measures",
            "Outcome measures",
            Purpose.CLINICAL,
            "clinical/meds/chart_measures.html",
            _chart_measures,
        )
    )
    register_section(
        DashboardSection(
            "safety_flags",
            "Safety flags to follow up",
            FLAG_ROLES,
            "clinical/meds/dashboard_flags.html",
            _dashboard_flags,
            # A PHQ-9 item 9 answer: clinical content about each client shown.
            clients=lambda context: [flag.client for flag in context["flags"]],
            clinical=True,
        )
    )
    register_section(
        DashboardSection(
            "mat_clients",
            "Clients on MAT",
            (Role.MEDICAL,),
            "clinical/meds/dashboard_mat.html",
            _dashboard_mat,
            # A medication for opioid or alcohol use disorder: clinical content.
            clients=lambda context: [m.client for m in context["medications"]],
            clinical=True,
        )
    )


def _dashboard_mat(request):
    from clinical.meds.selectors import mat_clients

    return {"medications": mat_clients(request.user, on=timezone.localdate())}


def _can_write(request) -> bool:
    return request.client_access.can(Action.WRITE_CLINICAL)


def _chart_medications(request, client):
    from clinical.meds.selectors import medications_for_chart

    return {
        **medications_for_chart(client, today=timezone.localdate()),
        "can_write": _can_write(request),
    }


def _chart_measures(request, client):
    from clinical.meds.selectors import measures_for_chart

    return {**measures_for_chart(client), "can_write": _can_write(request)}


def _dashboard_flags(request):
    from clinical.meds.forms import AcknowledgeForm
    from clinical.meds.selectors import open_safety_flags

    return {"flags": open_safety_flags(request.user), "form": AcknowledgeForm()}
