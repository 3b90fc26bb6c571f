"""What the claims part adds to the registries: the claim as a client-owned kind (for
"Check again"), the menu items of the claims pages."""

from billing.models import Claim
from clients.access import OwnedKind, register_owned
from iop.accounts.models import Role
from iop.accounts.navigation import ADMIN_GROUP, NavItem
from iop.accounts.navigation import register as register_nav


def register():
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
