"""Staff reminders of the notes part: sources for the outbox (iop.notifications).

Each finder yields one in-app task per item, person and period (the idempotency key),
so the minute sweep writes it once however often it runs; each yields every task still
to do, so a task closes itself when its item is done or when its person no longer has
the reason to do it (``clients.access`` is asked whom each goes to):

- a note still a draft ``IOP_NOTE_TASK_HOURS`` (24) after its session or appointment
  ended: its author, while they may still finish it;
- a session that met, or an appointment kept, with no note at all after as long: the
  group's facilitators, the appointment's clinician while they may write it;
- either of those still without a signed note ``IOP_NOTE_ESCALATE_HOURS`` (72) after
  the end: the clinical supervisor of whoever should have written it;
- a note the supervisor returned: its author, until their addendum re-queues it;
- a note waiting for co-signature: the author's clinical supervisor, once for each
  time it is queued (an addendum answering a return queues it again).

The words name no client and no clinical content (dates, a group's name, a colleague's
name); the client travels as an opaque id and the task list names them only to a
viewer ``clients.access`` lets in.
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.urls import reverse

from clients.access import Purpose, holders
from clinical.notes.models import CosignStatus, NoteStatus, ProgressNote
from clinical.notes.selectors import appointments_kept, sessions_that_met
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, local_day, register, staff_task


def task_after() -> timedelta:
    return timedelta(hours=settings.IOP_NOTE_TASK_HOURS)


def escalate_after() -> timedelta:
    return timedelta(hours=settings.IOP_NOTE_ESCALATE_HOURS)


def _due(ended: datetime) -> datetime:
    """A note is due before it becomes a late entry."""
    return ended + timedelta(hours=settings.IOP_LATE_ENTRY_HOURS)


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


def _ended(note) -> datetime:
    return note.session.ends_at if note.session_id else note.appointment.ends_at


def _authors_who_may(notes, purpose) -> set[int]:
    """The notes (ids) whose author still reaches them as a list of theirs would: an
    appointment's note while the author holds ``purpose`` on its client, a group note
    while the author facilitates its group (where the draft is finished)."""
    held = holders({n.client_id for n in notes if n.client_id}, purpose)
    allowed = set()
    for note in notes:
        if note.session_id:
            if any(f.pk == note.author_id for f in note.session.group.facilitators.all()):
                allowed.add(note.pk)
        elif note.author_id in held.get(note.client_id, {}):
            allowed.add(note.pk)
    return allowed


# What a note's task needs is who, when and where: never its words (a year of drafts
# at clinic scale is megabytes of narrative read every minute for nothing).
NOTE_WORDS = ("narrative", "body", "plan", "safety_plan_note", "attestation", "interventions")


def _notes(queryset):
    return list(
        queryset.select_related("session__group", "appointment", "client", "author")
        .defer(*NOTE_WORDS)
        .prefetch_related("session__group__facilitators")
        .order_by("pk")
    )


def find_unsigned_notes(now: datetime):
    cutoff = now - task_after()
    notes = _notes(
        ProgressNote.objects.filter(status=NoteStatus.DRAFT).filter(
            Q(session__ends_at__lte=cutoff) | Q(appointment__ends_at__lte=cutoff)
        )
    )
    allowed = _authors_who_may(notes, Purpose.CLINICAL_WRITE)
    for note in notes:
        if note.pk not in allowed:
            continue
        url, client = _note_target(note, cosign=False)
        ended = _ended(note)
        yield staff_task(
            source="clinical.note_unsigned",
            item=note.public_id,
            staff_id=note.author_id,
            period="draft",
            template="note_unsigned",
            now=now,
            url=url,
            client=client,
            context={"when": local_day(ended), "hours": settings.IOP_NOTE_TASK_HOURS},
            due=_due(ended),
        )


# --- Sessions without a note --------------------------------------------------------------


def _unnoted(cutoff, *, signed_only: bool):
    """(group sessions, appointments) that met or were kept, ended by ``cutoff``, with no
    note at all (``signed_only=False``) or no signed note (``True``), each with its
    draft's author when it has a draft."""
    missing = Q(group_note__isnull=True)
    appointment_missing = Q(note__isnull=True)
    if signed_only:
        missing |= Q(group_note__status=NoteStatus.DRAFT)
        appointment_missing |= Q(note__status=NoteStatus.DRAFT)
    sessions = list(
        sessions_that_met()
        .filter(missing, ends_at__lte=cutoff)
        .select_related("group")
        .annotate(draft_author=F("group_note__author_id"))
        .prefetch_related("group__facilitators")
        .order_by("pk")
    )
    appointments = list(
        appointments_kept()
        .filter(appointment_missing, ends_at__lte=cutoff)
        .select_related("client", "clinician")
        .annotate(draft_author=F("note__author_id"))
        .order_by("pk")
    )
    # A draft's author who no longer facilitates its group (one query, usually none).
    known = {f.pk for s in sessions for f in s.group.facilitators.all()}
    wanted = {s.draft_author for s in sessions if s.draft_author} - known
    authors = {u.pk: u for u in get_user_model().objects.filter(pk__in=wanted)} if wanted else {}
    for session in sessions:
        session.authors = authors
    return sessions, appointments


def _has_draft(obj) -> bool:
    """With ``_unnoted``'s rows: a note exists (only a draft can be there)."""
    return obj.draft_author is not None


def _responsible(session) -> list:
    """Whoever should write a session's note: the draft's author when there is a draft,
    else every active facilitator of its group (any of them may write it)."""
    facilitators = [f for f in session.group.facilitators.all() if f.is_active]
    if _has_draft(session):
        mine = [f for f in facilitators if f.pk == session.draft_author]
        return mine or [session.authors[session.draft_author]]
    return facilitators


def find_missing_notes(now: datetime):
    sessions, appointments = _unnoted(now - task_after(), signed_only=False)
    for session in sessions:
        for facilitator in _responsible(session):
            yield staff_task(
                source="clinical.note_missing",
                item=session.public_id,
                staff_id=facilitator.pk,
                period="none",
                template="note_missing",
                now=now,
                url=reverse("notes:group_note", args=[session.public_id]),
                context={
                    "when": local_day(session.ends_at),
                    "group": session.group.name,
                    "hours": settings.IOP_NOTE_TASK_HOURS,
                },
                due=_due(session.ends_at),
            )
    # Writing an appointment's note needs the care team's EDIT and CLINICAL now.
    held = holders({a.client_id for a in appointments}, Purpose.CLINICAL_WRITE)
    for appointment in appointments:
        if appointment.clinician_id not in held.get(appointment.client_id, {}):
            continue
        yield staff_task(
            source="clinical.note_missing",
            item=appointment.public_id,
            staff_id=appointment.clinician_id,
            period="none",
            template="note_missing",
            now=now,
            url=reverse("notes:appointment_note", args=[appointment.public_id]),
            client=appointment.client.public_id,
            context={
                "when": local_day(appointment.ends_at),
                "appointment": appointment.get_kind_display().lower(),
                "hours": settings.IOP_NOTE_TASK_HOURS,
            },
            due=_due(appointment.ends_at),
        )


def _report_url(day, staff=None) -> str:
    query = {"start": day.isoformat(), "end": day.isoformat()}
    if staff is not None:
        query["clinician"] = staff.pk
    return reverse("reports:report", args=["documentation"]) + "?" + urlencode(query)


def find_escalations(now: datetime):
    """A session or appointment still without a signed note after the escalation delay,
    to the clinical supervisor of whoever should write it. The task opens the
    documentation report of that day for that clinician (the supervisor's own page,
    naming no client); an appointment's client is named on the task list only while
    the supervisor may read the client's chart."""
    sessions, appointments = _unnoted(now - escalate_after(), signed_only=True)
    hours = settings.IOP_NOTE_ESCALATE_HOURS
    for session in sessions:
        for staff in _responsible(session):
            if staff.clinical_supervisor_id is None:
                continue
            yield staff_task(
                source="clinical.note_escalated",
                item=f"{session.public_id}:{staff.pk}",
                staff_id=staff.clinical_supervisor_id,
                # What the task says (a draft, or no note) is true: a draft written
                # since makes it a new task.
                period="draft" if _has_draft(session) else "none",
                template="note_escalated",
                now=now,
                url=_report_url(session.date, staff),
                context={
                    "when": local_day(session.ends_at),
                    "group": session.group.name,
                    "staff": staff.get_full_name() or staff.username,
                    "draft": _has_draft(session),
                    "hours": hours,
                },
                due=_due(session.ends_at),
            )
    # The supervisor reads a supervisee's client through the supervisee's chart grant.
    held = holders({a.client_id for a in appointments}, Purpose.CLINICAL)
    for appointment in appointments:
        staff = appointment.clinician
        supervisor_id = staff.clinical_supervisor_id
        if supervisor_id is None or supervisor_id not in held.get(appointment.client_id, {}):
            continue
        yield staff_task(
            source="clinical.note_escalated",
            item=f"{appointment.public_id}:{staff.pk}",
            staff_id=supervisor_id,
            period="draft" if _has_draft(appointment) else "none",
            template="note_escalated",
            now=now,
            url=_report_url(appointment.starts_at.astimezone(clinic_tz()).date(), staff),
            client=appointment.client.public_id,
            context={
                "when": local_day(appointment.ends_at),
                "appointment": appointment.get_kind_display().lower(),
                "staff": staff.get_full_name() or staff.username,
                "draft": _has_draft(appointment),
                "hours": hours,
            },
            due=_due(appointment.ends_at),
        )


# --- Returned and re-queued notes -----------------------------------------------------------


def _with_requeues(queryset):
    """Each note with how many addenda its author added: each answers a return and puts
    the note back in the queue, so it names the round of the co-signature."""
    return queryset.annotate(requeues=Count("addenda", filter=Q(addenda__author_id=F("author_id"))))


def find_returned_notes(now: datetime):
    notes = _notes(_with_requeues(ProgressNote.objects.filter(cosign_status=CosignStatus.RETURNED)))
    allowed = _authors_who_may(notes, Purpose.CLINICAL)
    for note in notes:
        if note.pk not in allowed:
            continue
        url, client = _note_target(note, cosign=False)
        yield staff_task(
            source="clinical.note_returned",
            item=note.public_id,
            staff_id=note.author_id,
            period=f"returned-{note.requeues}",
            template="note_returned",
            now=now,
            url=url,
            client=client,
            context={"when": local_day(_ended(note))},
        )


def find_cosign_waiting(now: datetime):
    """The notes of ``cosign_queue``, asked for every supervisor at once: a group note
    by its reach rule (the author's supervisor), an appointment's note while the
    supervisor may read its client; one task for each time the note is queued, so a
    note re-queued by an addendum is a task again, as it is a row of the queue again."""
    notes = _notes(
        _with_requeues(
            ProgressNote.objects.filter(
                cosign_status=CosignStatus.PENDING, author__clinical_supervisor__isnull=False
            )
        )
    )
    held = holders({n.client_id for n in notes if n.client_id}, Purpose.CLINICAL)
    for note in notes:
        supervisor_id = note.author.clinical_supervisor_id
        if note.client_id and supervisor_id not in held.get(note.client_id, {}):
            continue
        url, client = _note_target(note, cosign=True)
        period = f"signed-{note.signed_at:%Y%m%d%H%M%S}" if note.signed_at else "pending"
        if note.requeues:
            period += f"-requeued-{note.requeues}"
        yield staff_task(
            source="clinical.cosign_waiting",
            item=note.public_id,
            staff_id=supervisor_id,
            period=period,
            template="cosign_waiting",
            now=now,
            url=url,
            client=client,
            # The date of service, as the co-sign queue lists it (not the day signed).
            context={"when": local_day(note.service_start)},
            due=note.signed_at or now,
        )


def register_sources():
    register(
        Source(
            "clinical.note_unsigned",
            Audience.STAFF,
            find_unsigned_notes,
            "Notes still a draft after the session",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.note_missing",
            Audience.STAFF,
            find_missing_notes,
            "Sessions without a note",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.note_escalated",
            Audience.STAFF,
            find_escalations,
            "Your team's sessions still without a signed note",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.note_returned",
            Audience.STAFF,
            find_returned_notes,
            "Notes your supervisor returned",
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
