"""Menu items and dashboard sections of the clients app."""

from iop.accounts.models import Role
from iop.accounts.navigation import NavItem
from iop.accounts.navigation import register as register_nav
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section


def register():
    register_nav(
        NavItem("Clients", "clients:list", tuple(Role.values), "Clients you have a reason to see.")
    )
    register_nav(NavItem("Caseload", "clients:caseload", (Role.CLINICIAN, Role.SUPERVISOR)))
    register_nav(NavItem("Register client", "clients:register", (Role.INTAKE, Role.ADMIN)))
    register_nav(NavItem("Emergency access", "clients:emergency_review", (Role.ADMIN,)))
    register_section(
        DashboardSection(
            "caseload",
            "My caseload",
            (Role.CLINICIAN, Role.SUPERVISOR),
            "clients/dashboard_caseload.html",
            _caseload_context,
        )
    )
    register_section(
        DashboardSection(
            "intake",
            "Intake",
            (Role.INTAKE,),
            "clients/dashboard_intake.html",
            _intake_context,
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

    return {"clients": caseload_for(request.user)[:10]}


def _intake_context(request):
    from clients.selectors import intake_worklist

    return {"clients": intake_worklist(request.user)[:10]}


def _emergency_context(request):
    from clients.models import EmergencyAccess

    return {"pending": EmergencyAccess.objects.awaiting_review().count()}
