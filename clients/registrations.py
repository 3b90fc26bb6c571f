"""What the clients app adds to the registries (docs/architecture.md): its owned kind
(an emergency access under review), the audit's subjects, the task list's openable
clients, menu items and dashboard sections."""

from clients.access import OwnedKind, register_owned
from iop.accounts.models import Role
from iop.accounts.navigation import ADMIN_GROUP, NavItem
from iop.accounts.navigation import register as register_nav
from iop.audit import subjects
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section

# Prospects on the intake coordinator's dashboard; the task list holds every one.
INTAKE_ROWS = 10


def register():
    from clients.intake import register_steps
    from clients.models import EmergencyAccess

    register_steps()
    register_owned(
        OwnedKind(
            "clients.emergencyaccess",
            "access_id",
            lambda: EmergencyAccess.objects.select_related("client", "staff"),
        )
    )
    # The admin's audit page shows MRN and name; the platform never imports clients.
    subjects.register_model(
        "clients.Client", id_field="public_id", mrn_field="mrn", name=lambda c: c.legal_name
    )
    # The staff task list names and links a client only when the viewer may open it.
    from clients.selectors import openable_client_labels
    from iop.notifications.sources import register_openable

    register_openable(openable_client_labels)
    register_nav(
        NavItem(
            "Clients",
            "clients:list",
            tuple(r for r in Role.values if r != Role.BILLING),
            "Clients you have a reason to see.",
        )
    )
    register_nav(NavItem("Caseload", "clients:caseload", (Role.CLINICIAN, Role.SUPERVISOR)))
    register_nav(NavItem("Register client", "clients:register", (Role.INTAKE, Role.ADMIN)))
    register_nav(
        NavItem("Emergency access", "clients:emergency_review", (Role.ADMIN,), group=ADMIN_GROUP)
    )
    register_section(
        DashboardSection(
            "caseload",
            "My caseload",
            (Role.CLINICIAN, Role.SUPERVISOR),
            "clients/dashboard_caseload.html",
            _caseload_context,
            clients=lambda context: context["clients"],
        )
    )
    register_section(
        DashboardSection(
            "intake",
            "Intake",
            (Role.INTAKE,),
            "clients/dashboard_intake.html",
            _intake_context,
            clients=lambda context: [row["client"] for row in context["rows"]],
        )
    )
    register_section(
        DashboardSection(
            "emergency",
            "Emergency access to review",
            (Role.ADMIN,),
            "clients/dashboard_emergency.html",
            _emergency_context,
        )
    )


def _caseload_context(request):
    from clients.selectors import caseload_for

    return {"clients": list(caseload_for(request.user)[:10])}


def _intake_context(request):
    from clients.intake import missing_step
    from clients.selectors import intake_worklist

    rows = []
    for client in intake_worklist(request.user)[:INTAKE_ROWS]:
        step = missing_step(client)
        rows.append({"client": client, "step": step, "url": step.url(client) if step else ""})
    return {"rows": rows}


def _emergency_context(request):
    from clients.models import EmergencyAccess

    return {"pending": EmergencyAccess.objects.awaiting_review().count()}
