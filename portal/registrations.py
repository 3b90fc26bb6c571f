"""What the portal adds at start-up: its menu entries (the questionnaires, consents and
letters pages), the sign-in link's send check, the chart's link to the staff page of the
client's portal access, the attendance letter as an owned kind (staff reach it through
its client) and the staff menu entries for letter requests."""

from portal.navigation import NavItem
from portal.navigation import register as register_nav


def register() -> None:
    from iop.notifications.signals import message_sent
    from iop.notifications.sources import register_send_check

    register_send_check("portal_sign_in", _link_still_usable)
    message_sent.connect(_forget_sent_link, dispatch_uid="portal-forget-sent-link")
    for item in PAGES:
        register_nav(item)
    _letters()
    from clients.access import Purpose
    from clients.chart import ChartLink, register_link

    register_link(
        ChartLink("Portal access", "portal_access:access", Purpose.EDIT, "portal-access-link")
    )


PAGES = [
    NavItem("Questionnaires", "portal:measures", 20),
    NavItem("Consents", "portal:consents", 60),
    NavItem("Letters", "portal:letters", 70),
]


def _link_still_usable(message) -> bool:
    """A link that was used, has expired or whose account was turned off is not sent."""
    from portal.models import SignInToken

    token_id = (message.refs or {}).get("token")
    token = SignInToken.objects.filter(public_id=token_id, account__enabled=True).first()
    return token is not None and token.usable()


def _forget_sent_link(sender, ref, **kwargs):
    """Once a link has left, the outbox row keeps no usable copy of it: the body's URL
    is cut to its page, so the outbox (and its admin) never holds a live link longer
    than the delivery."""
    if not ref.startswith("portal-link:"):
        return
    from iop.notifications.models import OutboxMessage
    from portal.services import redacted

    for message in OutboxMessage.objects.filter(ref=ref):
        OutboxMessage.objects.filter(pk=message.pk).update(body=redacted(message.body))


def _letters() -> None:
    from clients.access import OwnedKind, register_owned
    from iop.accounts.models import Role
    from iop.accounts.navigation import ADMIN_GROUP
    from iop.accounts.navigation import NavItem as StaffNavItem
    from iop.accounts.navigation import register as register_staff_nav
    from portal.models import AttendanceLetter

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
