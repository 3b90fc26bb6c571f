"""The one writer of the audit trail (one event, or a page's read audit in one append),
and the one that checks it."""

import io
import ipaddress
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from iop.audit.models import GENESIS_HASH, AuditEvent, Outcome

# Any constant works; it names the chain's lock among the database's advisory locks.
_CHAIN_LOCK_KEY = 0x10_A0D1
_local_lock = threading.Lock()
# The actor of a row a client wrote about themselves (``AuditContext.client_self``).
CLIENT_ACTOR_PREFIX = "client:"


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

    @classmethod
    def client_self(cls, client_id, ip_address: str | None = None) -> "AuditContext":
        """A client acting on their own record (the portal): no staff actor; the actor
        is written ``client:<public id>`` (``CLIENT_ACTOR_PREFIX``), an opaque id."""
        return cls(actor=None, ip_address=ip_address, username=f"{CLIENT_ACTOR_PREFIX}{client_id}")


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
    """The address the audit (and the sign-in lockout) records for this request.

    ``X-Forwarded-For`` is written by whoever sends the request, so it is read only
    when the deployment says how many proxies stand in front
    (``IOP_TRUSTED_PROXY_COUNT``): each proxy appends the address it was reached
    from, so with N proxies the client is the Nth address from the right and
    anything further left is the client's own say. With no proxy (the default) the
    socket's address is the truth. Whatever is picked is validated: a value that is
    not an IP address is stored as unknown (NULL), never passed to the database.
    """
    if request is None:
        return None
    trusted = settings.IOP_TRUSTED_PROXY_COUNT
    candidate = request.META.get("REMOTE_ADDR")
    if trusted > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= trusted:
            candidate = hops[-trusted]
        # Fewer hops than proxies: the request did not come through all of them, and
        # nothing in the header can be trusted; the socket's address is still true.
    return valid_ip(candidate)


def valid_ip(value) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one."""
    if not value or not isinstance(value, str) or "%" in value:
        return None  # "%": an IPv6 zone id, which PostgreSQL's inet refuses
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _clean_text(value, limit: int) -> str:
    # PostgreSQL refuses NUL in text; an overlong value would refuse the whole row.
    return str(value or "").replace("\x00", "")[:limit]


def _event(
    *,
    action: str,
    actor=None,
    audit: AuditContext | None = None,
    outcome: str = Outcome.ALLOWED,
    object_type: str = "",
    object_id: str = "",
    client=None,
    username: str = "",
    detail: str = "",
) -> AuditEvent:
    """One unwritten event. Whatever the input, the row can be written: every text is
    cut to its column and the address validated, so a hostile header or username
    cannot drop the audit row."""
    if audit is not None:
        actor = actor if actor is not None else audit.actor
        username = username or audit.username
    ip_address = audit.ip_address if audit is not None else None
    client_id = getattr(client, "public_id", client) if client is not None else None
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=_clean_text(
            username or (actor.get_username() if actor is not None else ""), 150
        ),
        action=_clean_text(action, 64),
        object_type=_clean_text(object_type, 64),
        object_id=_clean_text(object_id, 64),
        client_id=client_id,
        ip_address=valid_ip(ip_address),
        outcome=outcome,
        detail=_clean_text(detail, 255),
    )


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
    """
    if audit is None and request is not None:
        audit = audit_context(request)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
    event = _event(
        action=action,
        actor=actor,
        audit=audit,
        outcome=outcome,
        object_type=object_type,
        object_id=object_id,
        client=client,
        username=username,
        detail=detail,
    )
    _append([event])
    return event


def audit_record_per_client(*, clients, **fields) -> list[AuditEvent]:
    """One event per client in ``clients``, otherwise alike (``audit_record``'s other
    arguments): a page that shows several clients' content says so in each client's
    trail. Chained as ``audit_record`` chains one, under the same lock, in one INSERT
    whatever the number of clients, so a page's query count does not grow with them.
    No client, no event."""
    request = fields.pop("request", None)
    if fields.get("audit") is None and request is not None:
        fields["audit"] = audit_context(request)
    obj = fields.pop("obj", None)
    if obj is not None:
        fields.setdefault("object_type", obj._meta.label_lower)
        fields.setdefault("object_id", str(getattr(obj, "public_id", None) or obj.pk))
    events = [_event(client=client, **fields) for client in clients]
    if events:
        _append(events)
    return events


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` onto the trail, in one INSERT whatever their number.

    Concurrent writers are serialised on the chain head: on PostgreSQL a
    transaction-scoped advisory lock, elsewhere a process lock (SQLite already
    serialises writers). Without it two writers read the same previous hash and
    fork the chain.

    Inside a caller's transaction no savepoint is taken: the rows commit, or roll
    back, with what they record, and a failure fails the caller's transaction too.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(savepoint=False):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            _chain_and_insert(events)
    else:
        with _local_lock, transaction.atomic(savepoint=False):
            _chain_and_insert(events)


def _chain_and_insert(events: list[AuditEvent]) -> None:
    prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    prev = prev or GENESIS_HASH
    # Timestamp taken under the lock so that time order and chain order agree.
    now = timezone.now()
    for event in events:
        event.prev_hash, event.at = prev, now
        event.hash = prev = event.compute_hash()
    if len(events) == 1:
        events[0].save(force_insert=True)  # its id is read back (the audit export's cut)
        return
    if connection.vendor != "sqlite":
        AuditEvent.objects.bulk_create(events)  # one statement whatever the number of rows
        return
    # SQLite takes at most 999 parameters a statement, so bulk_create would send a
    # statement per 83 rows; one prepared statement run for every row is one call.
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Names from the model, values as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(AuditEvent._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [
        [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
        for event in events
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# --- Pages that show clients ----------------------------------------------------------

LIST_ACTION = "access.list"


def page_name(request) -> str:
    """The URL name of the page being served (``clients:caseload``), for ``detail``."""
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match else "")[:60]


def _client_key(client):
    """A client's public id (a UUID: the hash must see the value as it is read back),
    from anything with a ``public_id``, the id itself, or another key such as an MRN,
    which counts a client and is never stored."""
    value = getattr(client, "public_id", client)
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return value


def _distinct(clients) -> list:
    """Each client once, in the order shown; None (no client) is skipped."""
    return list(dict.fromkeys(_client_key(c) for c in clients if c is not None))


def audit_shown(
    *,
    audit: AuditContext,
    page: str,
    listed: Iterable = (),
    clinical: Iterable = (),
    action: str = LIST_ACTION,
    actor=None,
    object_type: str = "",
    object_id: str = "",
    detail: str = "",
) -> int:
    """The read audit of a page that shows clients, and the one rule for it:

    - one row for the page, naming no client, with the count of the clients it shows
      (``clients=N``), written even when it shows nobody, so every opening of a list,
      queue, calendar, dashboard or report is on the trail;
    - and one ``access.list`` row per client in ``clinical``, naming the client: the
      page showed clinical content about them (a safety flag, a screen's result or
      status, a measure, a note's text), so their own trail says who read it.
      ``listed`` are the clients it shows only by name, MRN and times: the count says
      how many, and no id is kept.

    ``action`` names the page row (``access.list``; a report's ``report.run``). All the
    rows go in one append (the chain's lock, the previous hash, one INSERT), so the
    cost of a page does not grow with its clients. Returns the rows written.
    """
    clinical_ids = _distinct(clinical)
    if any(not isinstance(key, uuid.UUID) for key in clinical_ids):
        raise ValueError("A client with a row of their own is named by its public id.")
    shown = set(_distinct(listed)) | set(clinical_ids)
    note = f"page={page}; clients={len(shown)}; clinical={len(clinical_ids)}"
    events = [
        _event(
            action=action,
            actor=actor,
            audit=audit,
            object_type=object_type,
            object_id=object_id,
            detail=f"{note}; {detail}" if detail else note,
        )
    ]
    events += [
        _event(
            action=LIST_ACTION,
            actor=actor,
            audit=audit,
            object_type=object_type,
            object_id=object_id,
            client=client_id,
            detail=f"page={page}; clinical",
        )
        for client_id in clinical_ids
    ]
    _append(events)
    return len(events)


def audit_list(request, *, listed: Iterable = (), clinical: Iterable = (), **page_row) -> int:
    """``audit_shown`` for the page ``request`` is serving (who, from where, which page)."""
    return audit_shown(
        audit=audit_context(request),
        page=page_name(request),
        listed=listed,
        clinical=clinical,
        **page_row,
    )


def _events_in_id_order(batch_size: int):
    """Every event, oldest first, one keyed page (``id > last``) per query.

    Not ``.iterator()``: on PostgreSQL that is a server-side cursor, which outside a
    transaction does not survive PgBouncer in transaction mode (the next fetch may
    reach another server connection), and with DISABLE_SERVER_SIDE_CURSORS psycopg2
    would load all of a million-row trail into memory at once. Each page is its own
    short query, through a pooler or not, in bounded memory.
    """
    last_id = 0
    while True:
        page = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        yield from page
        if len(page) < batch_size:
            return
        last_id = page[-1].id


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    at: datetime | None
    reason: str


def audit_verify_chain(
    *, batch_size: int = 2000, checkpoints: list | None = None
) -> tuple[int, ChainBreak | None]:
    """Walk the whole chain in id order; return rows checked and the first break.

    Every row's keyed hash is recomputed (a changed, removed or re-hashed row breaks
    it) and compared with the checkpoints taken outside the database (a checkpointed
    row with another hash was rewritten by someone holding the key; one that is
    missing means the tail was cut).
    """
    from iop.audit.checkpoints import checkpoints_read

    if checkpoints is None:
        checkpoints = checkpoints_read()
    expected = {}
    for checkpoint in checkpoints:
        expected.setdefault(checkpoint.event_id, []).append(checkpoint.hash)
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    for event in _events_in_id_order(batch_size):
        if event.prev_hash != expected_prev:
            return checked, ChainBreak(event.id, event.at, "previous hash does not match")
        if event.compute_hash() != event.hash:
            return checked, ChainBreak(
                event.id,
                event.at,
                "content does not match its hash (changed, or hashed without IOP_AUDIT_KEY)",
            )
        if any(hash_ != event.hash for hash_ in expected.pop(event.id, [])):
            return checked, ChainBreak(
                event.id, event.at, "hash differs from its checkpoint (the chain was rewritten)"
            )
        expected_prev = event.hash
        last_id = event.id
        checked += 1
    if expected:
        missing = max(expected)
        return checked, ChainBreak(
            missing,
            None,
            f"checkpointed event is missing; the trail ends at event {last_id or 'none'}"
            " (truncated)",
        )
    return checked, None


def audit_bulk_append(rows, *, batch_size: int = 10_000) -> int:
    """Append many events at once (seeding a large dataset, an import), chained
    exactly as ``audit_record`` chains one: under the same lock, each row's
    ``prev_hash`` is the row before's hash and its hash is ``AuditEvent.compute_hash``.

    ``rows`` is an iterable of dicts with AuditEvent's content fields (``at`` an aware
    datetime, ``actor_id``, ``actor_username``, ``action``, ``object_type``,
    ``object_id``, ``client_id``, ``ip_address``, ``outcome``, ``detail``), in the order
    they are to be chained; ``at`` is kept as given (a backfill carries its own times),
    so on a chain that already has rows, time order and chain order may differ.
    Writes a checkpoint of the new head when done. Returns the rows appended.
    """
    from iop.audit.checkpoints import checkpoint_write

    appended = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = last or GENESIS_HASH
        batch = []
        for row in rows:
            event = AuditEvent(
                at=row["at"].astimezone(UTC),
                actor_id=row.get("actor_id"),
                actor_username=_clean_text(row.get("actor_username"), 150),
                action=_clean_text(row["action"], 64),
                object_type=_clean_text(row.get("object_type"), 64),
                object_id=_clean_text(row.get("object_id"), 64),
                client_id=row.get("client_id"),
                ip_address=valid_ip(row.get("ip_address")),
                outcome=row.get("outcome") or Outcome.ALLOWED,
                detail=_clean_text(row.get("detail"), 255),
                prev_hash=prev,
            )
            event.hash = event.compute_hash()
            prev = event.hash
            batch.append(event)
            if len(batch) >= batch_size:
                _insert_events(batch)
                appended += len(batch)
                batch = []
        if batch:
            _insert_events(batch)
            appended += len(batch)
    if appended:
        checkpoint_write(source="audit_bulk_append")
    return appended


_COPY_COLUMNS = (
    "at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "ip_address",
    "outcome",
    "detail",
    "prev_hash",
    "hash",
)


def _insert_events(events: list[AuditEvent]) -> None:
    """COPY on PostgreSQL (ten times bulk_create's speed at a million rows)."""
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events)
        return
    # CSV: an unquoted empty field is NULL, a quoted one an empty string.
    buffer = io.StringIO()
    for event in events:
        values = (
            event.at.isoformat(),
            event.actor_id,
            event.actor_username,
            event.action,
            event.object_type,
            event.object_id,
            event.client_id,
            event.ip_address,
            event.outcome,
            event.detail,
            event.prev_hash,
            event.hash,
        )
        buffer.write(",".join(_csv_field(value) for value in values))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(_COPY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY audit_auditevent ({columns}) FROM STDIN WITH (FORMAT csv)", buffer
        )


def _csv_field(value) -> str:
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'
