"""``portal_view``: the one way a portal page reaches its client.

The client is the signed-in account's, never one named in the request: no portal
URL carries a client id, an MRN or a name, so client A cannot ask for client B.
Anyone else gets 404 (a staff session, see ``portal.middleware``) or the sign-in
page (nobody signed in). Each page opened is audited as the client's own access
(``AuditContext.client_self``: the actor is the client, by opaque id).
"""

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect

from iop.audit.services import AuditContext, audit_record, client_ip
from portal import session
from portal.models import ClientAccount


def load_account(request) -> ClientAccount | None:
    """The signed-in account with its client (one query), or None: also when staff
    took the access away (the account is off), or took it away and gave it back after
    this session began (``enabled_at``): either way, the client is signed out."""
    pk = session.account_id(request)
    if pk is None:
        return None
    account = ClientAccount.objects.enabled().select_related("client").filter(pk=pk).first()
    if account is None or not session.same_grant(request, account):
        return None
    return account


def client_audit(request, client) -> AuditContext:
    return AuditContext.client_self(client.public_id, client_ip(request))


def portal_view(page: str, *, audited: bool = True):
    """Gives the view ``request.portal_client``, ``request.portal_account`` and
    ``request.portal_audit``; writes one ``portal.<page>`` audit row per opening
    (``audited=False`` for a page that writes its own row, e.g. a save)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated:
                raise Http404
            account = load_account(request)
            if account is None:
                if request.session.get(session.PENDING):
                    return redirect("portal:verify")
                if session.portal_session(request):
                    session.end(request)  # an account turned off while signed in
                return redirect("portal:sign_in")
            client = account.client
            request.portal_account = account
            request.portal_client = client
            request.portal_audit = client_audit(request, client)
            if audited:
                audit_record(
                    action=f"portal.{page}",
                    audit=request.portal_audit,
                    object_type="portal.page",
                    object_id=page,
                    client=client,
                    detail=f"page=portal:{page}",
                )
            return view(request, *args, **kwargs)

        wrapper.portal_page = page
        return wrapper

    return decorator
