import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device

from iop.accounts.reentry import ReentryLimitReached
from iop.accounts.signals import SESSION_LAST_SEEN, SESSION_STARTED

# Paths a signed-in but not yet second-factor-verified person may reach.
_TWO_FACTOR_OPEN = ("/accounts/", "/static/", "/healthz", "/favicon.ico")
# Polled by the idle-warning script: reading the remaining time is not activity.
_PASSIVE_PATHS = ("/accounts/session/",)


def _is_htmx(request) -> bool:
    # The header itself, not only request.htmx: correct whatever the middleware order.
    return bool(getattr(request, "htmx", False)) or request.headers.get("HX-Request") == "true"


def _redirect(request, url):
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class SessionLimitsMiddleware:
    """Idle logoff after IOP_IDLE_TIMEOUT_MINUTES and an absolute 12-hour limit.

    Unattended screens in shared clinic spaces are the commonest leak (HIPAA
    164.312(a)(2)(iii), automatic logoff). The session row is deleted on the
    server, not only the cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(SESSION_STARTED, now)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            idle_limit = settings.IOP_IDLE_TIMEOUT_MINUTES * 60
            reason = ""
            if now - started > settings.IOP_SESSION_ABSOLUTE_HOURS * 3600:
                reason = "session limit"
            elif now - last_seen > idle_limit:
                reason = "idle timeout"
            if reason:
                request.iop_logout_reason = reason
                logout(request)
                messages.info(
                    request,
                    "You were signed out after "
                    + (
                        f"{settings.IOP_IDLE_TIMEOUT_MINUTES} minutes without activity."
                        if reason == "idle timeout"
                        else f"{settings.IOP_SESSION_ABSOLUTE_HOURS} hours. Please sign in again."
                    ),
                )
                return _redirect(request, reverse(settings.LOGIN_URL))
            touch = now - last_seen > settings.IOP_SESSION_TOUCH_SECONDS
            if touch and not request.path.startswith(_PASSIVE_PATHS):
                # Only write the session when it moved on, not on every asset request.
                request.session[SESSION_LAST_SEEN] = now
                request.session.setdefault(SESSION_STARTED, now)
        return self.get_response(request)


class TwoFactorMiddleware:
    """A signed-in person with a device must verify it; with IOP_REQUIRE_2FA on,
    a person without one must enrol before reaching any other page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_TWO_FACTOR_OPEN)
        ):
            if user_has_device(user):
                return _redirect(request, reverse("accounts:otp_verify"))
            if settings.IOP_REQUIRE_2FA:
                return _redirect(request, reverse("accounts:otp_setup"))
        return self.get_response(request)


class ReentryLimitMiddleware:
    """A wrong password (or code) re-entered at the account's limit has ended the
    account's sessions (``iop/accounts/reentry.py``); the request that reached it is
    signed out here and sent to the sign-in page with the reason, whichever view
    asked for the re-entry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ReentryLimitReached):
            return None
        request.iop_logout_reason = "re-entry limit"
        logout(request)
        messages.error(request, exception.message)
        return _redirect(request, reverse(settings.LOGIN_URL))


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and private, no-cache) on every response to a
    signed-in person, so a shared clinic computer cannot show a chart from the
    browser's cache or history after sign-out. Static files never get here
    (WhiteNoise answers them first) and stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class HtmxSignInRedirectMiddleware:
    """An htmx request whose answer is "go and sign in" (idle sign-out, an expired
    session) gets ``HX-Redirect`` so the whole page goes to the sign-in form; a plain
    302 would be followed by the browser's XHR and the form swapped into a table row."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 302
            and _is_htmx(request)
            and response["Location"].startswith(reverse(settings.LOGIN_URL))
        ):
            return _redirect(request, response["Location"])
        return response
