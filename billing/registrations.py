"""What billing adds to the platform's registries (docs/architecture.md): menu items,
the authorization warnings on the dashboard, the chart's coverage section, intake's
coverage step, the payer rules scheduling's H0015 report reads, and the claim as a
client-owned kind (the held queue's "Check again")."""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clients.access import OwnedKind, Purpose, register_owned
from clients.chart import ChartSection
from clients.chart import register as register_chart
from clients.intake import IntakeStep
from clients.intake import register as register_intake_step
from iop.accounts.models import Role
from iop.accounts.navigation import ADMIN_GROUP, NavItem
from iop.accounts.navigation import register as register_nav
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section

BILLING_ROLES = (Role.BILLING, Role.ADMIN)
WARNING_ROWS = 15


def register():
    from scheduling.billing import register_payer_rules

    _claims()

    register_nav(
        NavItem(
            "Billing", "billing:clients", (Role.BILLING,), "Coverage, diagnoses, authorizations."
        )
    )
    # The admin's under the Admin dropdown: the admin's bar stays one line at 1366 px.
    register_nav(
        NavItem(
            "Billing",
            "billing:clients",
            (Role.ADMIN,),
            "Coverage, diagnoses, authorizations.",
            group=ADMIN_GROUP,
        )
    )
    # Payers under the admin's dropdown (the bar stays one line at 1366 px); billing
    # reaches them from the billing page.
    register_nav(
        NavItem(
            "Payers",
            "billing:payers",
            (Role.ADMIN,),
            "Payers, fee schedules, billing provider.",
            group=ADMIN_GROUP,
        )
    )
    register_nav(
        NavItem(
            "Export claims",
            "billing:claims_export",
            (Role.BILLING,),
            "837P batches to payers.",
            group="Claims",
        )
    )
    register_nav(
        NavItem(
            "Remittances",
            "billing:remittances",
            (Role.BILLING,),
            "Import 835 payments.",
            group="Claims",
        )
    )
    register_nav(
        NavItem(
            "Denials",
            "billing:denials",
            (Role.BILLING,),
            "Denied lines and the reasons.",
            group="Claims",
        )
    )
    register_section(
        DashboardSection(
            "authorizations",
            "Authorizations needing attention",
            BILLING_ROLES,
            "billing/dashboard_authorizations.html",
            _warnings,
            clients=lambda context: [row.client for row in context["rows"]],
        )
    )
    register_chart(
        ChartSection(
            "coverage", "Coverage", Purpose.EDIT, "billing/chart_coverage.html", _chart_coverage
        )
    )
    register_intake_step(
        IntakeStep(
            "coverage",
            "coverage",
            5,
            _covered,
            "billing:intake_coverage",
            "record coverage",
        )
    )
    register_payer_rules(_payer_rule, _payer_listing)


def _covered(today):
    from billing.models import Coverage, SelfPay

    return Exists(Coverage.objects.filter(client=OuterRef("pk"))) | Exists(
        SelfPay.objects.filter(client=OuterRef("pk"))
    )


def _chart_coverage(request, client):
    from billing.models import Coverage

    return {
        "coverages": list(
            Coverage.objects.filter(client=client)
            .select_related("payer")
            .order_by("order", "-effective_on")
        ),
        "client_id": client.public_id,
        "can_record": True,
    }


def _warnings(request):
    from billing.selectors import EXPIRY_WARNING_DAYS, USED_SHARE_WARNING, authorization_warnings

    today = timezone.localdate()
    rows = list(authorization_warnings(request.user, today=today)[:WARNING_ROWS])
    for row in rows:
        row.warning_units = row.used >= row.units_approved * USED_SHARE_WARNING
        row.warning_expiry = row.ends_on <= today + timedelta(days=EXPIRY_WARNING_DAYS)
    return {"rows": rows}


def _payer_rule(code: str):
    """The payer's row as scheduling's billing rule reads it (None: not a payer here)."""
    from billing.models import Payer

    payer = Payer.objects.filter(code=code).first()
    if payer is None:
        return None
    return {
        "label": payer.name,
        "min_hours": payer.min_hours,
        "min_days": payer.min_days,
        "h0015_rule": payer.h0015_rule,
    }


def _payer_listing():
    from billing.models import Payer

    return [
        (code, f"{name} ({code})")
        for code, name in Payer.objects.filter(active=True)
        .order_by("name")
        .values_list("code", "name")
    ]


def _claims():
    """The claim as an owned kind, and the claims pages' menu items."""
    from billing.models import Claim

    register_owned(
        OwnedKind(
            "billing.claim",
            "claim_id",
            lambda: Claim.objects.select_related("client", "payer"),
        )
    )
    for label, url_name, description in (
        ("All claims", "billing:claims", "Claims by status and payer; build charges and claims."),
        ("Held claims", "billing:claims_held", "Claims held by a check, with what to fix."),
    ):
        # The billing role's "Claims" dropdown (with export, remittances and denials).
        register_nav(NavItem(label, url_name, (Role.BILLING,), description, group="Claims"))
    # The admin's bar stays one line at 1366 px: claims under the Admin dropdown; the
    # claims page links to held claims, the export, remittances and denials.
    register_nav(
        NavItem(
            "Claims",
            "billing:claims",
            (Role.ADMIN,),
            "Claims, the 837P export, remittances and denials.",
            group=ADMIN_GROUP,
        )
    )
