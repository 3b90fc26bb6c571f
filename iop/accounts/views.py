import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from iop.accounts.forms import LoginForm, TokenForm
from iop.accounts.signals import SESSION_LAST_SEEN
from iop.audit.models import Outcome
from iop.audit.services import audit_record


def safe_next_url(request, fallback: str | None = None) -> str:
    """The ``next`` target of this request when it stays on this site, else ``fallback``.

    Every redirect whose target comes from the request goes through here (Django's
    login and logout views run the same check themselves): an attacker's link such
    as ``/accounts/login/?next=/accounts/2fa/verify/?next=https://evil.example/``
    must not carry a freshly signed-in clinician to a look-alike page.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback or settings.LOGIN_REDIRECT_URL


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link cannot sign someone out."""


@login_required
def otp_setup(request):
    """Enrol a TOTP authenticator. Replacing one requires a verified session."""
    has_confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    if has_confirmed and not request.user.is_verified():
        return redirect("accounts:otp_verify")
    device, _ = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator"}
    )
    form = TokenForm(request.POST or None, submit_label="Confirm authenticator")
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit_record(action="auth.2fa_enrolled", request=request)
            messages.success(request, "Two-factor sign-in is on for your account.")
            return redirect(safe_next_url(request))
        audit_record(action="auth.2fa_failed", request=request, outcome=Outcome.DENIED)
        form.add_error("token", "That code did not match. Check the time on your phone.")
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_data_uri": qr.svg_data_uri(scale=4),
            "secret": b32encode(device.bin_key).decode(),
            "replacing": has_confirmed,
            "required": settings.IOP_REQUIRE_2FA,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def otp_verify(request):
    if request.user.is_verified():
        return redirect(safe_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices_for_user(request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                audit_record(action="auth.2fa_verified", request=request)
                return redirect(safe_next_url(request))
        audit_record(action="auth.2fa_failed", request=request, outcome=Outcome.DENIED)
        form.add_error("token", "That code did not match.")
    return render(
        request, "accounts/otp_verify.html", {"form": form}, status=400 if form.is_bound else 200
    )


@require_POST
@login_required
def keepalive(request):
    """'Stay signed in' from the idle warning; the middleware already moved last-seen."""
    request.session[SESSION_LAST_SEEN] = time.time()
    return JsonResponse({"remaining": settings.IOP_IDLE_TIMEOUT_MINUTES * 60})


@require_GET
def session_status(request):
    """Seconds left before idle logoff; polled, so it does not count as activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"remaining": 0})
    last_seen = request.session.get(SESSION_LAST_SEEN, time.time())
    remaining = settings.IOP_IDLE_TIMEOUT_MINUTES * 60 - (time.time() - last_seen)
    return JsonResponse({"remaining": max(0, int(remaining))})
