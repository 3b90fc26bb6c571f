"""Signals the apps send so the outbox follows their changes without the platform
importing them (docs/architecture.md: dependencies point one way).

- ``reminders_subject_cancelled(ref=..., client=None)``: a session or appointment was
  cancelled, or what a message said stopped being true (an absence corrected, with
  the client's public id); its pending messages are cancelled in the same transaction.
- ``reminders_withdrawn(client=<public id>)``: a client opted out or changed channel;
  their pending messages are cancelled at once.
- ``message_sent(ref=...)``: the outbox sent a message; the app it refers to may note
  it (screening marks a random test's call-in notice as sent).
"""

from django.dispatch import Signal, receiver

reminders_subject_cancelled = Signal()
reminders_withdrawn = Signal()
message_sent = Signal()


@receiver(reminders_subject_cancelled, dispatch_uid="outbox-subject-cancelled")
def _cancel_subject(sender, ref, audit=None, client=None, reason="subject-cancelled", **kwargs):
    from iop.notifications.services import outbox_cancel_pending

    outbox_cancel_pending(ref=ref, client=client, reason=reason, audit=audit)


@receiver(reminders_withdrawn, dispatch_uid="outbox-withdrawn")
def _withdrawn(sender, client, audit=None, **kwargs):
    from iop.notifications.services import outbox_cancel_pending

    outbox_cancel_pending(client=client, reason="opt-out", audit=audit)
