"""Thin tasks: ids in, one service call. Beat wakes ``outbox_sweep`` every minute;
the rows are the schedule, so no task is ever queued with a long ETA (a Redis broker
redelivers a task not acknowledged within its visibility timeout)."""

from celery import shared_task

from iop.notifications.services import outbox_deliver, outbox_sweep


@shared_task
def deliver_message(message_id: int) -> str:
    return outbox_deliver(message_id=message_id)


@shared_task
def sweep_outbox() -> dict:
    """Beat, every minute. Safe to overlap: keys are unique and rows are claimed
    with SKIP LOCKED."""
    return outbox_sweep()


@shared_task
def deliver_outbox() -> dict:
    """The foundation's beat entry, kept so a beat started from an older schedule file
    still wakes the sweeper."""
    return outbox_sweep()
