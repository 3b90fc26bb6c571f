"""The one function that writes the audit trail, and the one that checks it."""

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from iop.audit.models import GENESIS_HASH, AuditEvent, Outcome

# Any constant works; it names the chain's lock among the database's advisory locks.
_CHAIN_LOCK_KEY = 0x10_A0D1
_local_lock = threading.Lock()


@dataclass(frozen=True)
class AuditContext:
    """Who acts and from where. Services receive this, never the HTTP request;
    background tasks pass ``AuditContext.system(...)``."""

    actor: Any = None
    ip_address: str | None = None
    username: str = ""

    @classmethod
    def from_request(cls, request) -> "AuditContext":
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        return cls(actor=actor, ip_address=client_ip(request))

    @classmethod
    def system(cls, task: str) -> "AuditContext":
        return cls(actor=None, ip_address=None, username=f"system:{task}"[:150])


def audit_context(request) -> AuditContext:
    """The request's audit context, built once per request."""
    context = getattr(request, "_audit_context", None)
    if context is None or context.actor != (
        request.user if request.user.is_authenticated else None
    ):
        context = AuditContext.from_request(request)
        request._audit_context = context
    return context


def client_ip(request) -> str | None:
    if request is None:
        return None
    # Behind the proxy (gunicorn in compose) the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR")) or None


def audit_record(
    *,
    action: str,
    actor=None,
    audit: AuditContext | None = None,
    request=None,
    outcome: str = Outcome.ALLOWED,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    client=None,
    username: str = "",
    detail: str = "",
) -> AuditEvent:
    """Append one event to the chain.

    ``client`` is anything with a ``public_id`` (or the UUID itself). ``detail``
    must never carry client data: it is a short machine-like note
    ("reason given", "role=clinician"), not free text from a form.

    Concurrent writers are serialised on the chain head: on PostgreSQL a
    transaction-scoped advisory lock, elsewhere a process lock (SQLite already
    serialises writers). Without it two writers read the same previous hash and
    fork the chain.
    """
    if audit is None and request is not None:
        audit = audit_context(request)
    if audit is not None:
        actor = actor if actor is not None else audit.actor
        username = username or audit.username
    ip_address = audit.ip_address if audit is not None else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
    client_id = getattr(client, "public_id", client) if client is not None else None
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=username or (actor.get_username() if actor is not None else ""),
        action=action,
        object_type=object_type,
        object_id=object_id,
        client_id=client_id,
        ip_address=ip_address,
        outcome=outcome,
        detail=detail[:255],
    )
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            _append(event)
    else:
        with _local_lock, transaction.atomic():
            _append(event)
    return event


def _append(event: AuditEvent) -> None:
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    event.prev_hash = last or GENESIS_HASH
    # Timestamp taken under the lock so that time order and chain order agree.
    event.at = timezone.now()
    event.hash = event.compute_hash()
    event.save(force_insert=True)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    at: datetime
    reason: str


def audit_verify_chain(*, batch_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in id order; return rows checked and the first break."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.id, event.at, "previous hash does not match")
        if event.compute_hash() != event.hash:
            return checked, ChainBreak(event.id, event.at, "content does not match its hash")
        expected_prev = event.hash
        checked += 1
    return checked, None
