from celery import shared_task

from iop.notifications.services import outbox_deliver, outbox_due_ids


@shared_task
def deliver_message(message_id: int) -> str:
    return outbox_deliver(message_id=message_id)


@shared_task
def deliver_outbox() -> int:
    """Beat: send whatever is due. Safe to overlap; each row is claimed once."""
    sent = 0
    for message_id in outbox_due_ids():
        sent += outbox_deliver(message_id=message_id) == "sent"
    return sent
