"""Sign-in events go to the audit trail through the one recording function."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from iop.audit.models import Outcome
from iop.audit.services import audit_record

SESSION_STARTED = "iop_session_started"
SESSION_LAST_SEEN = "iop_session_last_seen"


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_LAST_SEEN] = now
    audit_record(action="auth.login", actor=user, request=request)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        reason = getattr(request, "iop_logout_reason", "")
        audit_record(action="auth.logout", actor=user, request=request, detail=reason)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(
        action="auth.login_failed",
        request=request,
        outcome=Outcome.DENIED,
        username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action="auth.lockout",
        request=request,
        outcome=Outcome.DENIED,
        username=str(username or "")[:150],
        detail=(
            "too many failed sign-ins for the account from any address"
            if getattr(request, "iop_lockout_scope", "") == "account"
            else "5 failed sign-ins from this address; locked for 15 minutes"
        ),
    )
