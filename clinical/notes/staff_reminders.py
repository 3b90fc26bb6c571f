"""Staff reminders of the notes part: sources for the outbox (iop.notifications).

Each finder yields one in-app task per item, person and period (the idempotency key),
so the minute sweep writes it once however often it runs:

- a note still a draft 24 hours after its session or appointment ended: its author;
- a note waiting for co-signature: the author's clinical supervisor.

The words name no client and no clinical content (dates only); the client travels as
an opaque id and the task list names them only to a viewer ``clients.access`` lets in.
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse

from clinical.notes.models import CosignStatus, NoteStatus, ProgressNote
from iop.notifications.models import Audience
from iop.notifications.sources import Source, local_day, register, staff_task

UNSIGNED_AFTER = timedelta(hours=24)


def _note_target(note, *, cosign: bool) -> tuple[str, object]:
    """(url, client public id) of the page where the note is finished or co-signed."""
    if note.session_id:
        if cosign:
            return reverse("notes:group_cosign", args=[note.public_id]), None
        return reverse("notes:group_note", args=[note.session.public_id]), None
    if cosign:
        return reverse("notes:cosign", args=[note.public_id]), note.client.public_id
    return reverse("notes:appointment_note", args=[note.appointment.public_id]), (
        note.client.public_id
    )


def find_unsigned_notes(now: datetime):
    cutoff = now - UNSIGNED_AFTER
    notes = (
        ProgressNote.objects.filter(status=NoteStatus.DRAFT)
        .filter(Q(session__ends_at__lte=cutoff) | Q(appointment__ends_at__lte=cutoff))
        .select_related("session", "appointment", "client")
        .order_by("pk")
    )
    for note in notes:
        url, client = _note_target(note, cosign=False)
        ended = note.session.ends_at if note.session_id else note.appointment.ends_at
        yield staff_task(
            source="clinical.note_unsigned",
            item=note.public_id,
            staff_id=note.author_id,
            period="draft",
            template="note_unsigned",
            now=now,
            url=url,
            client=client,
            context={"when": local_day(ended)},
        )


def find_cosign_waiting(now: datetime):
    notes = (
        ProgressNote.objects.filter(
            cosign_status=CosignStatus.PENDING, author__clinical_supervisor__isnull=False
        )
        .select_related("author", "client", "session", "appointment")
        .order_by("pk")
    )
    for note in notes:
        url, client = _note_target(note, cosign=True)
        yield staff_task(
            source="clinical.cosign_waiting",
            item=note.public_id,
            staff_id=note.author.clinical_supervisor_id,
            # A note returned and signed again waits again: a new period.
            period=f"signed-{note.signed_at:%Y%m%d%H%M%S}" if note.signed_at else "pending",
            template="cosign_waiting",
            now=now,
            url=url,
            client=client,
            # The date of service, as the co-sign queue lists it (not the day signed).
            context={"when": local_day(note.service_start)},
        )


def register_sources():
    register(
        Source(
            "clinical.note_unsigned",
            Audience.STAFF,
            find_unsigned_notes,
            "Notes unsigned 24 hours after the session",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.cosign_waiting",
            Audience.STAFF,
            find_cosign_waiting,
            "Notes waiting for your co-signature",
            resolves=True,
        )
    )
