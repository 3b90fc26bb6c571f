"""The portal's pages. Every page about the client goes through ``portal_view``; the
sign-in pages are open, and answer the same whatever is typed or followed."""

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from iop.audit.models import Outcome
from iop.audit.services import audit_record, client_ip
from portal import services, session
from portal.access import client_audit, portal_view
from portal.forms import CodeForm, LinkRequestForm
from portal.models import ClientAccount, SignInToken, ThrottleKind


def sign_in(request):
    """Ask for a link by email or text. The answer is the same whether or not the
    address is on file (and whether or not a limit held it back)."""
    reason = request.session.pop("portal.signed_out", "")
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_request(address=form.cleaned_data["address"], ip=client_ip(request))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(
                request,
                "portal/link_sent.html",
                {"minutes": SignInToken.lifetime().seconds // 60},
            )
    return render(
        request,
        "portal/sign_in.html",
        {"form": form, "idle": reason == "idle"},
        status=400 if form.is_bound else 200,
    )


def link(request, token):
    """The link in the message. GET only shows a button (a mail scanner that opens
    links must not use one up); the POST signs in. Every failure answers alike."""
    if request.method == "POST":
        signed_in = request.session.get(session.ACCOUNT) or request.session.get(session.PENDING)
        account = services.link_redeem(
            raw=token, ip=client_ip(request), signed_in_account_id=signed_in
        )
        if account is not None:
            pending = ClientAccount.objects.filter(
                pk=account.pk, authenticator__confirmed=True
            ).exists()
            session.begin(request, account, pending=pending)
            return redirect("portal:verify" if pending else "portal:home")
        return render(request, "portal/link_failed.html", status=400)
    return render(request, "portal/link.html")


def verify(request):
    """The authenticator's code, after the link, for an account that has one."""
    pk = request.session.get(session.PENDING)
    if pk is None:
        return redirect("portal:sign_in")
    account = ClientAccount.objects.enabled().select_related("client", "authenticator").get(pk=pk)
    form = CodeForm(request.POST or None, submit_label="Continue")
    if request.method == "POST" and form.is_valid():
        key = str(account.public_id)
        if services.throttled(ThrottleKind.CODE_FAILED, key):
            form.add_error("token", "Too many wrong codes. Ask for a new link in 15 minutes.")
        elif services.authenticator_verify(account=account, code=form.cleaned_data["token"]):
            session.complete(request)
            audit_record(
                action="portal.2fa_verified",
                audit=client_audit(request, account.client),
                client=account.client,
                obj=account,
            )
            return redirect("portal:home")
        else:
            services.attempt_note(ThrottleKind.CODE_FAILED, key)
            audit_record(
                action="portal.2fa_failed",
                audit=client_audit(request, account.client),
                client=account.client,
                obj=account,
                outcome=Outcome.DENIED,
            )
            form.add_error("token", "That code did not match. Check the time on your phone.")
    return render(
        request, "portal/verify.html", {"form": form}, status=400 if form.is_bound else 200
    )


@require_POST
def sign_out(request):
    if session.portal_session(request):
        account_id = request.session.get(session.ACCOUNT) or request.session.get(session.PENDING)
        account = ClientAccount.objects.select_related("client").filter(pk=account_id).first()
        if account is not None:
            audit_record(
                action="portal.sign_out",
                audit=client_audit(request, account.client),
                client=account.client,
                obj=account,
            )
    session.end(request)
    return redirect("portal:sign_in")


@require_GET
def session_status(request):
    """Seconds before the idle sign-out; polled, so it is not activity."""
    if session.account_id(request) is None:
        return JsonResponse({"remaining": 0})
    last_seen = request.session.get(session.LAST_SEEN, time.time())
    remaining = settings.IOP_IDLE_TIMEOUT_MINUTES * 60 - (time.time() - last_seen)
    return JsonResponse({"remaining": max(0, int(remaining))})


@require_POST
@portal_view("keepalive", audited=False)
def keepalive(request):
    request.session[session.LAST_SEEN] = time.time()
    return JsonResponse({"remaining": settings.IOP_IDLE_TIMEOUT_MINUTES * 60})


@portal_view("home")
def home(request):
    return render(request, "portal/home.html", {})
