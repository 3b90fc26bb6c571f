"""Sign-in lockout policy: django-axes by (account, address), plus a slower limit per
account from any address, counted from the audit trail's failed sign-ins and failed
password re-entries (``iop/accounts/reentry.py``)."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from django.conf import settings
from django.utils import timezone

from iop.accounts.reentry import REENTRY_FAILED
from iop.audit.models import AuditEvent


def account_failures(username: str) -> int:
    """Failed sign-ins and failed re-entries (at signing) for ``username`` from any
    address within the window, counting only those after the account's last
    successful sign-in."""
    since = timezone.now() - settings.IOP_ACCOUNT_FAILURE_WINDOW
    last_success = (
        AuditEvent.objects.filter(actor_username=username, action="auth.login", at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return AuditEvent.objects.filter(
        actor_username=username,
        action__in=("auth.login_failed", REENTRY_FAILED),
        at__gte=last_success or since,
    ).count()


class ClinicLockoutHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            request.iop_lockout_scope = "address"
            return True
        username = get_client_username(request, credentials)
        if username and account_failures(username) >= settings.IOP_ACCOUNT_FAILURE_LIMIT:
            request.iop_lockout_scope = "account"
            return True
        return False
