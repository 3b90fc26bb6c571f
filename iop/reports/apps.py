from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "iop.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self):
        from iop.accounts.models import Role
        from iop.accounts.navigation import NavItem, register

        # The roles some report is for (reports_for lists which, per person); intake
        # and medical staff have none, so no menu item that leads to "No report".
        register(
            NavItem(
                "Reports",
                "reports:index",
                (Role.ADMIN, Role.SUPERVISOR, Role.CLINICIAN, Role.BILLING),
                "Attendance, census and outcomes, documentation compliance; A/R and payer mix.",
            )
        )
