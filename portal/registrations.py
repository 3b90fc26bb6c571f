"""What the portal adds at start-up: its menu entries, the sign-in link's send check and
the chart's link to the staff page of the client's portal access."""

from portal.navigation import NavItem
from portal.navigation import register as register_nav


def register() -> None:
    from iop.notifications.signals import message_sent
    from iop.notifications.sources import register_send_check

    register_send_check("portal_sign_in", _link_still_usable)
    message_sent.connect(_forget_sent_link, dispatch_uid="portal-forget-sent-link")
    for item in PAGES:
        register_nav(item)
    from portal import registrations_portal2

    registrations_portal2.register()
    from clients.access import Purpose
    from clients.chart import ChartLink, register_link

    register_link(
        ChartLink("Portal access", "portal_access:access", Purpose.EDIT, "portal-access-link")
    )


PAGES: list[NavItem] = []


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
