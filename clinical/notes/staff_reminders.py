"""Staff reminders of the clinical app: sources for the outbox (iop.notifications).

Each finder yields one in-app task per item, person and period (the idempotency key),
so the minute sweep writes it once however often it runs:

- a note still a draft 24 hours after its session or appointment ended: its author;
- a note waiting for co-signature: the author's clinical supervisor;
- a treatment plan due for review within ``PLAN_DUE_DAYS``: the primary clinician(s);
- a PHQ-9 or GAD-7 due (``IOP_MEASURE_INTERVAL_DAYS`` after the last one, or at
  admission when there is none): the primary clinician(s).

The words name no client and no clinical content (dates only); the client travels as
an opaque id and the task list names them only to a viewer ``clients.access`` lets in.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse

from clients.models import Episode
from clients.selectors import primary_clinician_ids
from clinical.models import CosignStatus, Measure, NoteStatus, ProgressNote
from clinical.models.meds import Instrument
from clinical.models.plans import TreatmentPlanVersion
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, local_day, register, staff_task

UNSIGNED_AFTER = timedelta(hours=24)
PLAN_DUE_DAYS = 7
DUE_MEASURES = (Instrument.PHQ9, Instrument.GAD7)


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
        .select_related("author", "client")
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
            context={"when": local_day(note.signed_at or now)},
        )


def find_plans_due(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    versions = list(
        TreatmentPlanVersion.objects.due_for_review(by=today + timedelta(days=PLAN_DUE_DAYS))
        .filter(client__episodes__discharged_on__isnull=True)
        .select_related("client")
        .distinct()
        .order_by("pk")
    )
    owners = primary_clinician_ids({v.client_id for v in versions})
    for version in versions:
        due_on = version.review_due_on
        for staff_id in owners.get(version.client_id, ()):
            yield staff_task(
                source="clinical.plan_review",
                item=version.public_id,
                staff_id=staff_id,
                period="review",
                template="plan_review",
                now=now,
                url=reverse("plans:treatment", args=[version.client.public_id]),
                client=version.client.public_id,
                context={"due": f"{due_on:%a} {due_on.day} {due_on:%b}"},
            )


def find_measures_due(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    interval = timedelta(days=settings.IOP_MEASURE_INTERVAL_DAYS)
    last = {
        f"last_{code}": Subquery(
            Measure.objects.filter(client=OuterRef("client"), instrument=code)
            .values("client")
            .annotate(last=Max("administered_on"))
            .values("last")[:1]
        )
        for code in DUE_MEASURES
    }
    episodes = list(Episode.objects.open().annotate(**last).select_related("client").order_by("pk"))
    owners = primary_clinician_ids({e.client_id for e in episodes})
    labels = dict(Instrument.choices)
    for episode in episodes:
        for code in DUE_MEASURES:
            previous = getattr(episode, f"last_{code}")
            due_on = previous + interval if previous else episode.admitted_on
            if due_on > today:
                continue
            for staff_id in owners.get(episode.client_id, ()):
                yield staff_task(
                    source="clinical.measure_due",
                    item=f"{episode.client.public_id}:{code}",
                    staff_id=staff_id,
                    period=due_on.isoformat(),
                    template="measure_due",
                    now=now,
                    url=reverse(f"meds:measure_add_{code}", args=[episode.client.public_id]),
                    client=episode.client.public_id,
                    context={"instrument": labels[code]},
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
    register(
        Source(
            "clinical.plan_review",
            Audience.STAFF,
            find_plans_due,
            "Treatment plans due for review",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.measure_due",
            Audience.STAFF,
            find_measures_due,
            "Outcome measures due",
            resolves=True,
        )
    )
