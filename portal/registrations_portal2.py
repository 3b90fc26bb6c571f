"""What the measures, consents and letters pages add at start-up: the portal's menu
entries, the letter as an owned kind (staff reach it through its client) and the staff
menu entry for letter requests."""

from clients.access import OwnedKind, register_owned
from iop.accounts.models import Role
from iop.accounts.navigation import ADMIN_GROUP
from iop.accounts.navigation import NavItem as StaffNavItem
from iop.accounts.navigation import register as register_staff_nav
from portal.navigation import NavItem
from portal.navigation import register as register_nav

PAGES = [
    NavItem("Questionnaires", "portal:measures", 20),
    NavItem("Consents", "portal:consents", 60),
    NavItem("Letters", "portal:letters", 70),
]


def register() -> None:
    from portal.models import AttendanceLetter

    for item in PAGES:
        register_nav(item)
    register_owned(
        OwnedKind(
            "portal.attendanceletter",
            "letter_id",
            lambda: AttendanceLetter.objects.select_related("client", "consent", "decided_by"),
        )
    )
    register_staff_nav(
        StaffNavItem(
            "Letters",
            "letters:staff_pending",
            (Role.CLINICIAN, Role.INTAKE, Role.MEDICAL),
            "Attendance letters clients asked for in the portal.",
        )
    )
    # The admin's under the Admin dropdown (the bar stays one line at 1366 px).
    register_staff_nav(
        StaffNavItem(
            "Letter requests",
            "letters:staff_pending",
            (Role.ADMIN,),
            "Attendance letters clients asked for in the portal.",
            group=ADMIN_GROUP,
        )
    )
