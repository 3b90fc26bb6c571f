"""The staff page of one client's portal access, at /portal-access/<client>/ (namespace
``portal_access``), linked from the chart's actions. Intake, the admin and the care
team who edit the record reach it (``Purpose.EDIT``); anyone else gets 404, audited.

One page, four buttons, each a POST to the page: give access, take it away (the client
is signed out: ``portal.access.load_account`` refuses the session at its next page),
send a sign-in link by the channel the client consented to reminders on, and show a
one-time link to hand over. The shown link is in that one answer's body only: never in
an address, a redirect, a flash message (stored in the session) or a log.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers

from clients.access import Purpose, client_view
from clients.reminders import reminder_route
from iop.audit.services import audit_context
from portal import services
from portal.models import ClientAccount, ClientAuthenticator, SignInToken

CHANNELS = {"sms": "text message", "email": "email"}


def _act(request, client, action: str) -> tuple[str, str]:
    """Do what the button asked: (message, link shown once or "")."""
    audit = audit_context(request)
    if action == "give":
        account = services.account_enable(client=client, actor=request.user, audit=audit)
        if getattr(account, "repeated", False):
            return "The client already has portal access; nothing was changed.", ""
        return "Portal access given. Send the client a sign-in link or show one to hand over.", ""
    if action == "take":
        account = ClientAccount.objects.filter(client=client).first()
        if account is None:
            raise ValidationError("The client has no portal access to take away.")
        account = services.account_disable(account=account, actor=request.user, audit=audit)
        if getattr(account, "repeated", False):
            return "Portal access was already taken away; nothing was changed.", ""
        return (
            "Portal access taken away: the client is signed out of the portal and "
            "their sign-in links no longer work.",
            "",
        )
    if action == "send":
        channel = services.staff_link_send(client=client, actor=request.user, audit=audit)
        return (
            f"A sign-in link was sent by {CHANNELS[channel]}. It works once, within "
            f"{SignInToken.lifetime().seconds // 60} minutes.",
            "",
        )
    if action == "show":
        url = services.staff_link(client=client, actor=request.user, audit=audit)
        return "", url
    raise ValidationError("Choose one of the buttons on this page.")


@client_view(Purpose.EDIT)
def access(request, client):
    error, link = "", ""
    if request.method == "POST":
        try:
            message, link = _act(request, client, request.POST.get("action", ""))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            if not link:
                messages.success(request, message)
                return redirect("portal_access:access", client.public_id)
    account = ClientAccount.objects.filter(client=client).first()
    route = reminder_route(client)
    response = render(
        request,
        "portal/staff_access.html",
        {
            "client": client,
            "account": account,
            "authenticator": _authenticator(account),
            "route": route,
            "route_label": CHANNELS[route[0]] if route else "",
            "no_route_reason": "" if route else services.no_route_reason(client),
            "minutes": SignInToken.lifetime().seconds // 60,
            "error": error,
            "link": link,
        },
        status=400 if error else 200,
    )
    # The page may show a live link: no copy of it in a cache.
    add_never_cache_headers(response)
    return response


def _authenticator(account) -> bool:
    """Whether the client added the optional authenticator (a code after the link)."""
    return (
        account is not None
        and ClientAuthenticator.objects.filter(account=account, confirmed=True).exists()
    )
