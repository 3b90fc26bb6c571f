"""The outbox: write once, claim before send, send at most once.

Delivery guarantees (README, *Reminders*): a message is **written once** (the unique
idempotency key) and **sent at most once**. A row is claimed (``pending`` ->
``sending``) in its own committed transaction before the provider is called; a worker
that dies after the claim leaves the row in ``sending``. The recovery sweep resends
such a row only when its channel proves the message never left (in-app, the file SMS
backend); otherwise (SMTP, an HTTP provider that cannot be asked) it is marked
``failed`` with ``last_error="stuck-in-sending"`` for an admin to look at and retry by
hand. A missed reminder is an inconvenience; two texts about a clinic appointment on a
shared phone are a disclosure risk, so we prefer at most once.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from iop.audit.services import AuditContext, audit_record
from iop.notifications import channels
from iop.notifications.models import Audience, Channel, OutboxMessage, OutboxStatus
from iop.notifications.signals import message_sent
from iop.notifications.sources import SOURCES, Planned, still_true

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A row in "sending" longer than this belongs to a worker that died mid-delivery.
STALE_CLAIM = timedelta(minutes=10)
BATCH = 200
SYSTEM = AuditContext.system("outbox")


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the n-th failed attempt, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- Writing ----------------------------------------------------------------------------


def render_message(template: str, channel: str, context: dict) -> tuple[str, str]:
    """(subject, body) of ``template`` for ``channel``; in-app and SMS have no subject
    of their own, the subject template still names the message in the admin."""
    base = f"notifications/{template}"
    subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())[:200]
    body = render_to_string(f"{base}/{channel}.txt", context).strip()
    return subject, body


def outbox_enqueue(
    *,
    idempotency_key: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    scheduled_for: datetime | None = None,
    audience: str = Audience.STAFF,
    staff=None,
    client=None,
    template: str = "plain",
    ref: str = "",
    refs: dict | None = None,
) -> tuple[OutboxMessage, bool]:
    """Write a message once; a second call with the same key returns the first."""
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                idempotency_key=idempotency_key,
                audience=audience,
                staff=staff,
                client=client,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                template=template,
                ref=ref,
                refs=refs or {},
                scheduled_for=scheduled_for or timezone.now(),
            )
        return message, True
    except IntegrityError:
        return OutboxMessage.objects.get(idempotency_key=idempotency_key), False


def _row(source, planned: Planned) -> OutboxMessage:
    subject, body = render_message(planned.template, planned.channel, planned.context)
    return OutboxMessage(
        idempotency_key=planned.key[:200],
        audience=source.audience,
        client=planned.client,
        staff_id=planned.staff_id,
        channel=planned.channel,
        recipient=planned.recipient,
        template=planned.template,
        ref=planned.ref[:120],
        refs=planned.refs,
        subject=subject,
        body=body,
        scheduled_for=planned.scheduled_for,
    )


def reminders_schedule(*, now: datetime | None = None) -> int:
    """Ask every registered source what is due and write each message once.

    Keys already in the outbox are skipped before rendering; the rest are inserted
    with ON CONFLICT DO NOTHING, so two schedulers at once still write each key once.
    Returns how many rows this run wrote.
    """
    now = now or timezone.now()
    written = 0
    for source in sorted(SOURCES.values(), key=lambda s: s.order):
        planned = {p.key[:200]: p for p in source.finder(now)}
        if source.resolves:
            tasks_resolve(source=source.key, still_open=planned.keys())
        written += _write_planned(source, planned)
    return written


def planned_write(*, source_key: str, planned: list[Planned]) -> int:
    """Write ``planned`` messages of one registered source now, each key once (the
    sweep skips them later): for a source whose item cannot wait for the next minute,
    such as a safety flag. Inside the caller's transaction."""
    source = SOURCES[source_key]
    return _write_planned(source, {p.key[:200]: p for p in planned})


def _write_planned(source, planned: dict) -> int:
    if not planned:
        return 0
    existing = set(
        OutboxMessage.objects.filter(idempotency_key__in=planned).values_list(
            "idempotency_key", flat=True
        )
    )
    rows = [_row(source, p) for key, p in planned.items() if key not in existing]
    if not rows:
        return 0
    keys = [r.idempotency_key for r in rows]
    with transaction.atomic():
        before = OutboxMessage.objects.filter(idempotency_key__in=keys).count()
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        count = OutboxMessage.objects.filter(idempotency_key__in=keys).count() - before
        if count:
            audit_record(
                action="outbox.write",
                audit=AuditContext.system("reminders"),
                object_type="notifications.source",
                object_id=source.key,
                detail=f"source={source.key}; written={count}",
            )
    return count


def tasks_resolve(*, source: str, still_open) -> int:
    """Close the open in-app tasks of ``source`` whose item is done (the finder no longer
    yields their key), so the list and the digest count only what is left to do."""
    count = (
        OutboxMessage.objects.open_tasks()
        .filter(refs__kind=source)
        .exclude(idempotency_key__in=list(still_open))
        .update(status=OutboxStatus.CANCELLED, last_error="resolved")
    )
    if count:
        audit_record(
            action="task.resolve",
            audit=AuditContext.system("reminders"),
            object_type="notifications.source",
            object_id=source,
            detail=f"source={source}; resolved={count}",
        )
    return count


# --- Claiming and sending -----------------------------------------------------------------


def outbox_claim(*, message_id: int) -> bool:
    """Claim one pending message. The conditional UPDATE is the lock: of two workers
    racing for the same row exactly one sees a row count of 1."""
    now = timezone.now()
    return bool(
        OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def outbox_claim_due(*, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Claim up to ``limit`` due messages. ``SKIP LOCKED``: a second sweeper running at
    the same moment passes over the rows this one holds and takes others (PostgreSQL;
    SQLite serialises writers, and the conditional UPDATE still decides)."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.due(now)
            .select_for_update(skip_locked=True)
            .order_by("scheduled_for", "id")
            .values_list("id", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def outbox_send_claimed(*, message_id: int) -> str:
    """Send one message this worker has claimed and record the outcome."""
    message = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING).first()
    if message is None:
        return "skipped"
    if not still_true(message):
        # What it said stopped being true after it was written (an absence corrected to
        # present): cancelled, never sent.
        OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.CANCELLED, last_error="no-longer-true"
        )
        _audit(message, "outbox.withdraw")
        return "withdrawn"
    now = timezone.now()
    try:
        provider_id = channels.send(message)
    except Exception as exc:  # noqa: BLE001  (any failure is recorded, never raised to the task)
        permanent = isinstance(exc, channels.PermanentError)
        failed = permanent or message.attempts >= MAX_ATTEMPTS
        # A code only: the words of a provider's or mail server's error can echo the address.
        code = (
            str(exc)[:60]
            if isinstance(exc, channels.TransientError | channels.PermanentError)
            else ""
        )
        OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            last_error=(code or type(exc).__name__)[:200],
            scheduled_for=now + backoff(message.attempts),
        )
        logger.warning("outbox message %s failed (%s)", message_id, type(exc).__name__)
        if failed:
            _audit(message, "outbox.fail")
        return "failed"
    OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.SENT, sent_at=now, last_error="", provider_id=provider_id[:120]
    )
    if message.ref:
        message_sent.send(sender=OutboxMessage, ref=message.ref)
    if message.audience == Audience.CLIENT:
        _audit(message, "outbox.send")
    return "sent"


def outbox_deliver(*, message_id: int) -> str:
    """Claim and send one message (the task queued after a page's commit)."""
    if not outbox_claim(message_id=message_id):
        return "skipped"
    return outbox_send_claimed(message_id=message_id)


def outbox_recover_stuck(*, now: datetime | None = None) -> dict:
    """Rows left in ``sending`` past ``STALE_CLAIM`` by a worker that died.

    Sent again only when the channel proves the message never left; otherwise failed
    with ``stuck-in-sending`` for an admin (at most once, see the module docstring).
    """
    now = now or timezone.now()
    result = {"requeued": 0, "failed": 0}
    stuck = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    for message in stuck:
        not_sent = channels.confirm_not_sent(message)
        if not_sent is True:
            result["requeued"] += OutboxMessage.objects.filter(
                pk=message.pk, status=OutboxStatus.SENDING
            ).update(status=OutboxStatus.PENDING, last_error="recovered")
        elif not_sent is False:
            # The provider has it: the worker died between sending and recording.
            OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
                status=OutboxStatus.SENT, sent_at=now, last_error="recovered-as-sent"
            )
        else:
            result["failed"] += OutboxMessage.objects.filter(
                pk=message.pk, status=OutboxStatus.SENDING
            ).update(status=OutboxStatus.FAILED, last_error="stuck-in-sending")
    return result


def outbox_sweep(*, now: datetime | None = None) -> dict:
    """What beat wakes every minute: write what is due, recover the stuck, send the due."""
    now = now or timezone.now()
    written = reminders_schedule(now=now)
    recovered = outbox_recover_stuck(now=now)
    sent = 0
    for message_id in outbox_claim_due(now=now):
        sent += outbox_send_claimed(message_id=message_id) == "sent"
    return {"written": written, "sent": sent, **recovered}


def _audit(message: OutboxMessage, action: str) -> None:
    audit_record(
        action=action,
        audit=SYSTEM,
        object_type="notifications.outboxmessage",
        object_id=str(message.public_id),
        client=message.client,
        detail=(
            f"template={message.template}; channel={message.channel}; attempts={message.attempts}"
        ),
    )


# --- Queuing after commit ------------------------------------------------------------------


def queue_delivery(message_id: int) -> None:
    """Queue a delivery task once the surrounding transaction commits. A broker that
    is down costs nothing: the row stays pending and the minute sweep sends it."""
    transaction.on_commit(lambda: _publish(message_id))


def _publish(message_id: int) -> None:
    from iop.notifications.tasks import deliver_message

    try:
        deliver_message.apply_async((message_id,), retry=False)
    except Exception as exc:  # noqa: BLE001  (kombu raises many kinds when the broker is down)
        logger.warning(
            "broker unavailable (%s); outbox message %s waits for the sweep",
            type(exc).__name__,
            message_id,
        )


# --- Admin actions and cancelling --------------------------------------------------------


@transaction.atomic
def outbox_retry(*, message: OutboxMessage, actor, audit: AuditContext | None = None):
    """A failed message, or one a person cancelled, goes back to pending, sent by the
    next sweep. What the app cancelled for a reason stays cancelled: a task closed
    because its item is done, a reminder for a cancelled session, a message to a
    client who opted out."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if not message.retryable:
        raise ValidationError(
            "Only a failed message, or one cancelled by staff, can be retried."
            if message.status != OutboxStatus.CANCELLED
            else "This message was cancelled because it is no longer needed; it cannot be retried."
        )
    message.status = OutboxStatus.PENDING
    message.scheduled_for = timezone.now()
    message.attempts = 0
    message.save(update_fields=["status", "scheduled_for", "attempts"])
    audit_record(
        action="outbox.retry", actor=actor, audit=audit, obj=message, client=message.client
    )
    queue_delivery(message.pk)
    return message


@transaction.atomic
def outbox_cancel(*, message: OutboxMessage, actor, audit: AuditContext | None = None):
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (OutboxStatus.PENDING, OutboxStatus.FAILED):
        raise ValidationError("Only a pending or failed message can be cancelled.")
    message.status = OutboxStatus.CANCELLED
    message.save(update_fields=["status"])
    audit_record(
        action="outbox.cancel", actor=actor, audit=audit, obj=message, client=message.client
    )
    return message


def outbox_cancel_pending(
    *, ref: str | None = None, client=None, reason: str, audit: AuditContext | None = None
) -> int:
    """Cancel the pending messages about ``ref`` (a cancelled session) or to ``client``
    (an opt-out). Called inside the caller's transaction: the cancel and the change
    that caused it commit together. ``reason`` is a code."""
    messages = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    if ref is not None:
        messages = messages.filter(ref=ref)
    if client is not None:
        messages = messages.filter(
            audience=Audience.CLIENT, client=getattr(client, "public_id", client)
        )
    if ref is None and client is None:
        return 0
    count = messages.update(status=OutboxStatus.CANCELLED, last_error=reason[:200])
    if count:
        audit_record(
            action="outbox.cancel_pending",
            audit=audit or SYSTEM,
            object_type="notifications.outboxmessage",
            object_id=(ref or "")[:64],
            client=client,
            detail=f"reason={reason}; cancelled={count}",
        )
    return count


@transaction.atomic
def task_mark_done(*, message: OutboxMessage, actor, audit: AuditContext | None = None):
    """A staff member marks one of their own tasks done (or read). Done twice is done
    once: the second call changes nothing and writes no second audit row."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.staff_id != actor.pk or message.channel != Channel.IN_APP:
        raise ValidationError("No such task.")
    if message.read_at is not None:
        return message
    source = SOURCES.get(message.refs.get("kind", ""))
    if source is not None and source.resolves:
        # Marked done, it would leave the list while the note is still unsigned (its
        # key stays written, so the sweep would never show it again).
        raise ValidationError(
            "This task closes itself when what it asks for is done; it cannot be marked done."
        )
    message.read_at = timezone.now()
    message.save(update_fields=["read_at"])
    audit_record(
        action="task.done",
        actor=actor,
        audit=audit,
        obj=message,
        client=message.refs.get("client") or None,
        detail=f"kind={message.refs.get('kind', message.template)}",
    )
    return message
