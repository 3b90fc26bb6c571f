"""The portal's own keys in the session: a client is signed in to the portal, never
to Django's staff authentication (``request.user`` stays anonymous).

Signing in flushes the session first (a new key, nothing carried over: no fixation,
no staff sign-in left beside it) and rotates the CSRF token.
"""

import time

from django.middleware.csrf import rotate_token

ACCOUNT = "portal.account"  # the ClientAccount's pk, once signed in
PENDING = "portal.pending"  # the pk while an authenticator code is still awaited
STARTED = "portal.started"
LAST_SEEN = "portal.last_seen"
GRANT = "portal.grant"  # the account's ``enabled_at`` when the session began
KEYS = (ACCOUNT, PENDING, STARTED, LAST_SEEN, GRANT)


def portal_session(request) -> bool:
    """Whether this request carries a portal session (signed in or half-way)."""
    session = getattr(request, "session", None)
    return session is not None and (ACCOUNT in session or PENDING in session)


def account_id(request) -> int | None:
    return request.session.get(ACCOUNT)


def _stamp(account) -> str:
    return account.enabled_at.isoformat() if account.enabled_at else ""


def same_grant(request, account) -> bool:
    """Whether this session began under the account's present grant of access: staff
    who take access away and give it back (a new ``enabled_at``) leave no session of
    before alive. (A stamp, not a clock comparison: clocks may step back.)"""
    return request.session.get(GRANT, "") == _stamp(account)


def begin(request, account, *, pending: bool = False) -> None:
    """Start a portal session for ``account`` (``pending``: the authenticator code is next)."""
    request.session.flush()
    now = time.time()
    request.session[PENDING if pending else ACCOUNT] = account.pk
    request.session[STARTED] = now
    request.session[LAST_SEEN] = now
    request.session[GRANT] = _stamp(account)
    rotate_token(request)


def complete(request) -> None:
    """The authenticator code was right: the pending session becomes a signed-in one."""
    pk = request.session.pop(PENDING)
    request.session.cycle_key()
    request.session[ACCOUNT] = pk
    request.session[LAST_SEEN] = time.time()
    rotate_token(request)


def end(request) -> None:
    request.session.flush()
