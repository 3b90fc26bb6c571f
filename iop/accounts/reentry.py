"""Re-entering the password (or the authenticator code) to confirm an act, such as
signing a note: the one check every form that asks for it goes through.

Per account, across every session of it, counted from the audit trail:

- each wrong entry is an ``auth.reentry_failed`` row, which the sign-in lockout's
  per-account limit counts too (``iop/accounts/lockout.py``);
- after ``IOP_REENTRY_FAILURE_LIMIT`` wrong entries in a row (a right one resets the
  run; entries older than ``IOP_REENTRY_MEMORY`` are forgotten) re-entry pauses for
  ``IOP_REENTRY_PAUSE`` after the last one, doubling with each further wrong entry up
  to ``IOP_REENTRY_MAX_PAUSE``; during the pause an entry is refused without being
  checked, so the answer says nothing about whether it was right;
- the wrong entry that reaches the limit ends every session of the account: only
  someone already signed in as the account can guess here, so the sessions are the
  ones to distrust, and signing in again takes the password (and the code).

See the README's security section.
"""

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django_otp import devices_for_user

from iop import when
from iop.audit.models import AuditEvent, Outcome
from iop.audit.services import AuditContext, audit_record

REENTRY_OK = "auth.reentry"
REENTRY_FAILED = "auth.reentry_failed"
REENTRY_THROTTLED = "auth.reentry_throttled"
REENTRY_LOCKOUT = "auth.reentry_lockout"


class ReentryLimitReached(Exception):
    """A wrong entry reached the account's limit and its sessions were ended. Not a
    ValidationError, so no form swallows it: ``ReentryLimitMiddleware`` signs the
    request out and sends it to the sign-in page with ``message``."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _run(user, now: datetime) -> tuple[int, datetime | None]:
    """The account's wrong entries since its last right one (within the memory), and
    when the latest was."""
    since = now - settings.IOP_REENTRY_MEMORY
    last_ok = (
        AuditEvent.objects.filter(actor=user, action=REENTRY_OK, at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    run = AuditEvent.objects.filter(
        actor=user, action=REENTRY_FAILED, at__gte=last_ok or since
    ).aggregate(n=Count("id"), last=Max("at"))
    return run["n"], run["last"]


def _pause(failures: int) -> timedelta:
    extra = max(failures - settings.IOP_REENTRY_FAILURE_LIMIT, 0)
    return min(settings.IOP_REENTRY_PAUSE * 2 ** min(extra, 30), settings.IOP_REENTRY_MAX_PAUSE)


def paused_until(user, now: datetime | None = None) -> datetime | None:
    """Until when the account's re-entry is paused, or None when it may re-enter now."""
    now = now or timezone.now()
    failures, last = _run(user, now)
    if failures < settings.IOP_REENTRY_FAILURE_LIMIT or last is None:
        return None
    until = last + _pause(failures)
    return until if until > now else None


def _right(user, device, secret: str) -> bool:
    if device is not None:
        return bool(device.verify_token(secret.strip()))
    return check_password(secret, user.password)


def end_sessions(user) -> int:
    """Delete every server-side session signed in as ``user``; the next request from
    any of them is anonymous and lands on the sign-in page."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    model = store_class.get_model_class()  # the database backends (settings: db)
    ended = 0
    live = model.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for row in live:
        if str(store_class().decode(row.session_data).get(SESSION_KEY)) == str(user.pk):
            store_class(session_key=row.session_key).delete()
            ended += 1
    return ended


def reauthenticate(
    user,
    *,
    password: str = "",
    otp_token: str = "",
    audit: AuditContext | None = None,
    purpose: str = "",
) -> None:
    """Confirm it is ``user``: the authenticator code when the account has one, else the
    password. Returns when right; raises ValidationError (keyed by the field) when wrong,
    empty or paused; raises ReentryLimitReached when this wrong entry reached the limit.

    ``purpose`` (for example ``note.sign``) goes into the audit rows' detail. Call it
    outside any transaction (as the note services do): an outer rollback would take the
    counted failure and the ended sessions back with it."""
    device = next(iter(devices_for_user(user, confirmed=True)), None)
    field, secret, noun = (
        ("otp_token", otp_token, "authenticator code")
        if device is not None
        else ("password", password, "password")
    )
    limit = settings.IOP_REENTRY_FAILURE_LIMIT
    if not secret:
        raise ValidationError({field: f"Enter your {noun}."})
    # Decided inside the transaction, raised after it: a rollback would take the
    # audit rows the limit counts with it.
    with transaction.atomic():
        # One account's entries are checked one at a time, whichever session sends
        # them, so parallel guesses cannot all slip in under the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        now = timezone.now()
        until = paused_until(user, now)
        if until is not None:
            audit_record(
                action=REENTRY_THROTTLED,
                actor=user,
                audit=audit,
                outcome=Outcome.DENIED,
                detail=purpose,
            )
            failures = None
        elif _right(user, device, secret):
            audit_record(action=REENTRY_OK, actor=user, audit=audit, detail=purpose)
            return
        else:
            audit_record(
                action=REENTRY_FAILED,
                actor=user,
                audit=audit,
                outcome=Outcome.DENIED,
                detail=purpose,
            )
            failures, _last = _run(user, now)
            if failures >= limit:
                until = now + _pause(failures)
                ended = end_sessions(user)
                audit_record(
                    action=REENTRY_LOCKOUT,
                    actor=user,
                    audit=audit,
                    outcome=Outcome.DENIED,
                    detail=f"{failures} wrong entries; {ended} sessions ended",
                )
    if failures is None:
        raise ValidationError(
            {
                field: f"Too many wrong entries: confirming with your {noun} is paused "
                f"until {when.clock(until)}. Nothing you enter is checked before then."
            }
        )
    if failures < limit:
        left = limit - failures
        raise ValidationError(
            {
                field: f"That {noun} is not right. {left} more wrong "
                f"{'entry' if left == 1 else 'entries'} and you are signed out."
            }
        )
    raise ReentryLimitReached(
        f"You were signed out after {failures} wrong entries of your {noun}. Sign in "
        f"again; confirming with your {noun} is paused until {when.clock(until)}."
    )
