"""The portal's pages. Every page about the client goes through ``portal_view``; the
sign-in pages are open, and answer the same whatever is typed or followed."""

import time
from base64 import b32encode
from binascii import unhexlify

import segno
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clients.models import Client
from clients.services import client_update
from clinical.plans.models import CRISIS_LINE
from iop.audit.models import Outcome
from iop.audit.services import audit_record, client_ip
from iop.forms import apply_validation_error
from portal import calendar, selectors, services, session
from portal.access import client_audit, portal_view
from portal.forms import CodeForm, LinkRequestForm, RemindersForm
from portal.models import ClientAccount, ClientAuthenticator, SignInToken, ThrottleKind

# The name an authenticator app shows: neutral, like the page title.
TOTP_LABEL = "Appointments"


def sign_in(request):
    """Ask for a link by email or text. The answer is the same whether or not the
    address is on file (and whether or not a limit held it back)."""
    if request.method == "GET" and session.account_id(request) is not None:
        return redirect("portal:home")  # already signed in
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
    account = (
        ClientAccount.objects.enabled()
        .select_related("client", "authenticator")
        .filter(pk=pk)
        .first()
    )
    if account is None or not session.same_grant(request, account):
        session.end(request)  # staff took the access away while the code was awaited
        return redirect("portal:sign_in")
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
    """What is next and this week's hours at a glance, then the menu as big tiles."""
    data = selectors.schedule(request.portal_client)
    return render(
        request,
        "portal/home.html",
        {"next": data["items"][0] if data["items"] else None, **data},
    )


@portal_view("schedule")
def schedule(request):
    data = selectors.schedule(request.portal_client)
    return render(request, "portal/schedule.html", data)


@portal_view("calendar")
def calendar_file(request):
    """The next four weeks as a calendar file, every title "Appointment"."""
    data = selectors.schedule(request.portal_client)
    response = HttpResponse(
        calendar.ics(data["items"]), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="appointments.ics"'
    return response


@portal_view("plan")
def plan(request):
    return render(
        request,
        "portal/plan.html",
        {"version": selectors.relapse_plan(request.portal_client), "crisis_line": CRISIS_LINE},
    )


@portal_view("reminders", audited=False)
def reminders(request):
    """The client's reminder choices, saved by the service staff's form uses (its
    rules, its cancelling of pending messages), audited as the client's own change."""
    client = request.portal_client
    if request.method != "POST":
        audit_record(
            action="portal.reminders",
            audit=request.portal_audit,
            client=client,
            object_type="portal.page",
            object_id="reminders",
            detail="page=portal:reminders",
        )
        return render(request, "portal/reminders.html", {"form": RemindersForm(instance=client)})
    form = RemindersForm(request.POST, instance=Client.objects.get(pk=client.pk))
    if form.is_valid():
        try:
            with transaction.atomic():
                client_update(
                    client=Client.objects.lock(client),
                    actor=None,
                    audit=request.portal_audit,
                    **{name: form.cleaned_data[name] for name in RemindersForm.Meta.fields},
                )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Your reminder choices are saved.")
            return redirect("portal:reminders")
    return render(request, "portal/reminders.html", {"form": form}, status=400)


@portal_view("record_access")
def record_access(request):
    rows = selectors.record_access(request.portal_client)
    return render(
        request,
        "portal/record_access.html",
        {
            "rows": rows,
            "days": selectors.ACCESS_DAYS,
            "limit": selectors.ACCESS_ROWS,
            "show_names": settings.IOP_PORTAL_SHOW_STAFF_NAMES,
        },
    )


@portal_view("authenticator", audited=False)
def authenticator(request):
    """An optional authenticator app: after the link, a 6-digit code too."""
    account = request.portal_account
    device = ClientAuthenticator.objects.filter(account=account).first()
    confirmed = device is not None and device.confirmed
    form = CodeForm(request.POST or None, submit_label="Confirm")
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["token"]
        if services.throttled(ThrottleKind.CODE_FAILED, str(account.public_id)):
            form.add_error("token", "Too many wrong codes. Try again in 15 minutes.")
        elif confirmed and request.POST.get("action") == "remove":
            if services.authenticator_verify(account=account, code=code):
                services.authenticator_remove(account=account, audit=request.portal_audit)
                messages.success(request, "The authenticator is off: the link alone signs you in.")
                return redirect("portal:authenticator")
            services.attempt_note(ThrottleKind.CODE_FAILED, str(account.public_id))
            form.add_error("token", "That code did not match.")
        elif not confirmed and services.authenticator_verify(
            account=account, code=code, setup=True
        ):
            audit_record(
                action="portal.2fa_enrolled",
                audit=request.portal_audit,
                client=request.portal_client,
                obj=account,
            )
            messages.success(
                request, "The authenticator is on: after the link, it asks for a code."
            )
            return redirect("portal:authenticator")
        else:
            services.attempt_note(ThrottleKind.CODE_FAILED, str(account.public_id))
            form.add_error("token", "That code did not match. Check the time on your phone.")
    else:
        audit_record(
            action="portal.authenticator",
            audit=request.portal_audit,
            client=request.portal_client,
            object_type="portal.page",
            object_id="authenticator",
            detail="page=portal:authenticator",
        )
    context = {"form": form, "confirmed": confirmed}
    if not confirmed:
        device = services.authenticator_start(account=account)
        secret = b32encode(unhexlify(device.key)).decode()
        url = f"otpauth://totp/{TOTP_LABEL}?secret={secret}&issuer={TOTP_LABEL}&digits=6&period=30"
        context.update(secret=secret, qr_data_uri=segno.make(url, error="m").svg_data_uri(scale=4))
    return render(request, "portal/authenticator.html", context, status=400 if form.errors else 200)
