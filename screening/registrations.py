"""Owned kinds, the chart's screening section, the dashboard sections and the menu."""

from django.utils import timezone

from clients.access import Action, OwnedKind, Purpose, register_owned
from clients.chart import ChartSection
from clients.chart import register as register_chart
from iop.accounts.models import Role
from iop.accounts.navigation import NavItem
from iop.accounts.navigation import register as register_nav
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section


def register():
    from screening.models import BreathTest, RandomSelection, ScreenFollowUp, UrineScreen

    register_owned(
        OwnedKind(
            "screening.urine",
            "screen_id",
            lambda: UrineScreen.objects.select_related("client", "panel", "collector"),
        )
    )
    register_owned(
        OwnedKind(
            "screening.breath",
            "breath_id",
            lambda: BreathTest.objects.select_related("client", "operator", "confirm_operator"),
        )
    )
    register_owned(
        OwnedKind(
            "screening.selection",
            "selection_id",
            lambda: RandomSelection.objects.select_related("client", "track"),
        )
    )
    register_owned(
        OwnedKind(
            "screening.follow_up",
            "follow_up_id",
            lambda: ScreenFollowUp.objects.select_related(
                "client", "urine_screen", "breath_test", "acknowledged_by"
            ),
        )
    )
    register_chart(
        ChartSection(
            "screening",
            "Screens",
            Purpose.CLINICAL,
            "screening/chart_section.html",
            _chart_section,
        )
    )
    register_section(
        DashboardSection(
            "screen_follow_ups",
            "Screens to follow up",
            (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL, Role.ADMIN),
            "screening/dashboard_follow_ups.html",
            _dashboard_follow_ups,
            # Why a screen needs following up (an unexpected positive, a refusal).
            clients=lambda context: [item.client for item in context["items"]],
            clinical=True,
        )
    )
    register_section(
        DashboardSection(
            "collection_today",
            "Today's screens to collect",
            (Role.MEDICAL,),
            "screening/dashboard_collection.html",
            _dashboard_collection,
        )
    )
    register_nav(
        NavItem(
            "Screens today",
            "screening:collection_list",
            (Role.MEDICAL, Role.ADMIN, Role.CLINICIAN, Role.SUPERVISOR),
            "Random urine and breath tests due today, by slot.",
        )
    )


def _chart_section(request, client):
    from screening.selectors import CHART_ROWS, screen_history

    return {
        **screen_history(client, limit=CHART_ROWS),
        "can_write": request.client_access.can(Action.RECORD_SCREEN),
    }


def _dashboard_follow_ups(request):
    from screening.forms import AcknowledgeForm
    from screening.selectors import follow_ups_for

    items = follow_ups_for(request.user)
    if not items and not request.user.has_role(Role.CLINICIAN):
        return None  # only a primary clinician's dashboard keeps the empty section
    return {"items": items, "form": AcknowledgeForm()}


def _dashboard_collection(request):
    from screening.selectors import collection_list

    slots = collection_list(request.user, on=timezone.localdate())
    due = sum(1 for slot in slots for row in slot["rows"] if row.status == "pending")
    return {"due": due, "total": sum(len(slot["rows"]) for slot in slots)}
