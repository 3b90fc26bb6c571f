"""What the scheduling app adds to the registries (docs/architecture.md): its owned
kinds (a group session, an appointment), menu items, dashboard section and chart
sections."""

from django.utils import timezone

from clients.access import (
    CLINICIAN,
    FACILITATOR,
    REACH_FACILITATOR,
    Action,
    OwnedKind,
    Purpose,
    register_owned,
)
from clients.chart import ChartSection
from clients.chart import register as register_chart
from clients.intake import IntakeStep
from clients.intake import register as register_intake_step
from iop.accounts.models import Role
from iop.accounts.navigation import NavItem
from iop.accounts.navigation import register as register_nav
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section

CLINICAL = (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL, Role.ADMIN)


def register():
    from scheduling.models import Appointment, GroupSession

    # A group session belongs to no single client: clients.access's facilitator rule
    # reaches it through its group. An appointment is its client's.
    register_owned(
        OwnedKind(
            "scheduling.groupsession",
            "session_id",
            lambda: GroupSession.objects.select_related("group__slot", "group__track", "room"),
            client_attr=None,
            reach=REACH_FACILITATOR,
            relations={FACILITATOR: "group"},
        )
    )
    register_owned(
        OwnedKind(
            "scheduling.appointment",
            "appointment_id",
            lambda: Appointment.objects.select_related("client", "clinician", "room"),
            relations={CLINICIAN: "clinician"},
        )
    )
    # The intake journey's last step: a placement on a track that has not ended.
    register_intake_step(
        IntakeStep(
            "placement",
            "placement on a track",
            40,
            _placed,
            "scheduling:enroll",
            "place on a track and slot",
        )
    )
    register_nav(NavItem("My week", "scheduling:week", CLINICAL))
    register_nav(NavItem("Program day", "scheduling:day", (*CLINICAL, Role.INTAKE)))
    register_section(
        DashboardSection(
            "today",
            "My sessions today",
            (Role.CLINICIAN, Role.SUPERVISOR, Role.ADMIN),
            "scheduling/dashboard_today.html",
            _today,
        )
    )
    register_chart(
        ChartSection(
            "program",
            "Track, attendance and weekly hours",
            Purpose.CHART,
            "scheduling/chart_program.html",
            _chart_program,
        )
    )


def _placed(today):
    from django.db.models import Exists, OuterRef, Q

    from scheduling.models import Enrollment

    return Exists(
        Enrollment.objects.filter(client=OuterRef("pk")).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gt=today)
        )
    )


def _today(request):
    from scheduling.selectors import facilitator_today

    return {"sessions": facilitator_today(request.user, timezone.localdate())}


def _chart_program(request, client):
    from scheduling.selectors import (
        attendance_history,
        enrollment_facts,
        step_down_readiness,
        weekly_hours,
        weekly_hours_first_week,
    )

    today = timezone.localdate()
    # The client's enrollments once, for both rows below.
    facts = enrollment_facts(client, today=today, window_first=weekly_hours_first_week(today))
    return {
        "readiness": step_down_readiness(
            client, today=today, enrollment=facts.current, planned=facts.planned
        ),
        "weeks": weekly_hours(
            client, today=today, enrollment=facts.current, placed=facts.placed_on
        ),
        "history": attendance_history(client, limit=10),
        "can_edit": request.client_access.can(Action.EDIT),
    }
