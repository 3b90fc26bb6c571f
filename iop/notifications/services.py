import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from iop.notifications.models import Channel, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=10)


def outbox_enqueue(
    *, idempotency_key: str, channel: str, recipient: str, subject: str, body: str, not_before=None
) -> tuple[OutboxMessage, bool]:
    """Write a message once; a second call with the same key returns the first."""
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                idempotency_key=idempotency_key,
                channel=channel,
                recipient=recipient,
                subject=subject,
                body=body,
                not_before=not_before,
            )
        return message, True
    except IntegrityError:
        return OutboxMessage.objects.get(idempotency_key=idempotency_key), False


def outbox_claim(*, message_id: int) -> bool:
    """Claim one message for sending. The conditional UPDATE is the lock: of two
    workers racing for the same row exactly one sees a row count of 1."""
    now = timezone.now()
    return bool(
        OutboxMessage.objects.filter(pk=message_id)
        .filter(
            Q(status=OutboxStatus.PENDING)
            | Q(status=OutboxStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def outbox_due_ids(*, limit: int = 200) -> list[int]:
    now = timezone.now()
    return list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def outbox_deliver(*, message_id: int) -> str:
    if not outbox_claim(message_id=message_id):
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        if message.channel == Channel.EMAIL:
            send_mail(message.subject, message.body, None, [message.recipient])
        else:
            raise ValueError(f"no delivery channel {message.channel!r}")
    except Exception as exc:  # noqa: BLE001  (any failure is recorded and retried)
        failed = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id).update(
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            # Exception class only: messages of mail errors can echo the address.
            last_error=type(exc).__name__,
            not_before=timezone.now() + timedelta(minutes=2**message.attempts),
        )
        logger.warning("outbox message %s failed (%s)", message_id, type(exc).__name__)
        return "failed"
    OutboxMessage.objects.filter(pk=message_id).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"
