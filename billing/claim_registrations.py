"""What the claims part adds to the registries: the claim as a client-owned kind (for
"Check again"), the menu items of the claims pages."""

from billing.models import Claim
from clients.access import OwnedKind, register_owned
from iop.accounts.models import Role
from iop.accounts.navigation import NavItem
from iop.accounts.navigation import register as register_nav


def register():
    register_owned(
        OwnedKind(
            "billing.claim",
            "claim_id",
            lambda: Claim.objects.select_related("client", "payer"),
        )
    )
    register_nav(
        NavItem(
            "Claims",
            "billing:claims",
            (Role.BILLING, Role.ADMIN),
            "Claims by status and payer, the held claims' queue; build charges and claims.",
        )
    )
