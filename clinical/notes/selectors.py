"""Reads the note pages need, each in a fixed number of queries whatever the size of
the group or the length of the chart (pinned by tests/clinical/test_notes_queries.py)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    Exists,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import JSONObject

from clients.access import AUTHOR, SUPERVISOR, Purpose, holds_purpose, scope
from clients.models import Client
from clinical.notes.models import (
    Addendum,
    CosignStatus,
    GroupNoteSection,
    NoteKind,
    NoteStatus,
    ProgressNote,
    SectionPlan,
    SessionPlan,
    service_start,
)
from clinical.plans.objectives import PlanObjectives, plan_objectives
from iop.db import pk_among
from scheduling.models import (
    ATTENDED,
    Appointment,
    AppointmentStatus,
    Attendance,
    Enrollment,
    GroupSession,
)

NOTE_RELATED = ("author", "signed_by", "cosigned_by", "modality__parent", "topic")
# A section is read with its client and the plan version its objective comes from (the
# objective's words are read from it: a sentence of the section).
SECTION_RELATED = ("client", "objective_plan")


# --- Which sessions need a note --------------------------------------------------------
#
# Every session's note is accounted for: a group session that met, or an appointment
# that was kept, has a note, and a note it does not have (or has only as a draft) is a
# missing note, counted by the documentation report and asked for by the staff tasks.
# The rule is stated here once; tooling/bench/raw.py restates it by hand in SQL.


def sessions_that_met():
    """Group sessions that met: not cancelled, with at least one client marked there
    (present, late, left early, telehealth). A session where every client was absent
    did not meet: there is nobody to write about."""
    attended = Attendance.objects.filter(session=OuterRef("pk"), status__in=ATTENDED)
    return GroupSession.objects.held().filter(Exists(attended))


def appointments_kept():
    """Appointments kept: neither cancelled nor recorded as a no-show. Writing the note
    marks one completed; one still *scheduled* after its end has had neither its note
    nor its no-show recorded, and both are the clinician's to record."""
    return Appointment.objects.filter(
        status__in=(AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED)
    )


@dataclass
class SectionRow:
    client: Client
    attendance: Attendance | None
    section: GroupNoteSection | None
    objectives: list[str]
    last_plan: str
    plan_objectives: PlanObjectives | None = None


def group_note_for(session: GroupSession) -> ProgressNote | None:
    return (
        ProgressNote.objects.filter(session=session)
        .select_related(*NOTE_RELATED)
        .prefetch_related(
            Prefetch(
                "sections", queryset=GroupNoteSection.objects.select_related(*SECTION_RELATED)
            ),
            Prefetch("addenda", queryset=Addendum.objects.select_related("author")),
        )
        .first()
    )


def session_plan(session: GroupSession) -> SessionPlan | None:
    return (
        SessionPlan.objects.filter(session=session)
        .select_related("topic", "modality__parent")
        .first()
    )


def _last_plans(exclude_note_id, viewer=None):
    """Subqueries: a client's last signed group section and last signed individual note,
    each as ``{"plan": ..., "at": signed_at}`` (one subquery per kind, not one per
    column: each reads all of the client's signed notes of that kind).

    With ``viewer``, the individual note's plan only for a client the viewer holds
    CLINICAL on: a facilitator who reaches the session for attendance only sees the
    plan lines of group notes, never another clinician's individual or medication
    note. Decided per client in the same query (``clients.access.holds_purpose``)."""
    sections = GroupNoteSection.objects.filter(
        client=OuterRef("pk"), note__status=NoteStatus.SIGNED
    ).exclude(note_id=exclude_note_id or 0)
    notes = ProgressNote.objects.filter(client=OuterRef("pk"), status=NoteStatus.SIGNED)
    note_plan = Subquery(
        notes.order_by("-signed_at").values(last=JSONObject(plan="plan", at="signed_at"))[:1],
        output_field=JSONField(),
    )
    clinical = holds_purpose(viewer, Purpose.CLINICAL) if viewer is not None else None
    if clinical is not None:
        note_plan = Case(When(clinical, then=note_plan), output_field=JSONField())
    return {
        "_group_plan": Subquery(
            sections.order_by("-note__signed_at").values(
                last=JSONObject(plan="plan", choice="plan_choice", at="note__signed_at")
            )[:1],
            output_field=JSONField(),
        ),
        "_note_plan": note_plan,
    }


def group_note_rows(session: GroupSession, note: ProgressNote | None, *, viewer=None):
    """(attending rows with their section, objectives and last plan; absent rows).

    The last plan is of the client's latest signed note of either kind for a
    ``viewer`` holding CLINICAL on the client, of their latest group note otherwise
    (``_last_plans``).

    Queries: the roster and marked clients with this session's attendance and the
    last plans (2), the note's sections come prefetched with the note, objectives
    (the plans module's one query)."""
    marked = Attendance.objects.filter(session=session)
    roster = Enrollment.objects.on(session.date).filter(group_id=session.group_id)
    # One UNION of two index lookups, not "in the roster OR marked": PostgreSQL cannot
    # answer that OR from an index, so it read every client in the clinic and priced
    # the plan subqueries for each of them, high enough to JIT-compile the query
    # (about half a second at 5,000 clients, for a 12-client group).
    clients = list(
        Client.objects.filter(
            pk__in=roster.order_by().values("client").union(marked.order_by().values("client"))
        )
        .annotate(**_last_plans(note.pk if note else None, viewer))
        .prefetch_related(Prefetch("attendance", queryset=marked, to_attr="this_session"))
        .order_by("legal_last_name", "legal_first_name")
    )
    sections = {s.client_id: s for s in note.sections.all()} if note else {}
    attending = [c for c in clients if c.this_session and c.this_session[0].status in ATTENDED]
    objectives = plan_objectives([c.pk for c in attending]) if attending else {}
    rows, absent = [], []
    for client in clients:
        attendance = client.this_session[0] if client.this_session else None
        if client in attending:
            rows.append(
                SectionRow(
                    client=client,
                    attendance=attendance,
                    section=sections.get(client.pk),
                    objectives=objectives[client.pk].lines if client.pk in objectives else [],
                    last_plan=_latest_plan(client),
                    plan_objectives=objectives.get(client.pk),
                )
            )
        else:
            absent.append({"client": client, "attendance": attendance})
    return rows, absent


_PLAN_LABELS = dict(SectionPlan.choices)


def _latest_plan(client) -> str:
    # Both signed_at come from the same database in the same JSON text form (ISO 8601
    # on PostgreSQL, "YYYY-MM-DD HH:MM:SS" on SQLite); on a tie the group note wins.
    dated = [
        (
            datetime.fromisoformat(last["at"]),
            last["plan"] or _PLAN_LABELS.get(last.get("choice"), ""),
        )
        for last in (client._group_plan, client._note_plan)
        if last and last.get("at")
    ]
    return max(dated, key=lambda pair: pair[0])[1] if dated else ""


def appointment_note_for(appointment) -> ProgressNote | None:
    return (
        ProgressNote.objects.filter(appointment=appointment)
        .select_related(*NOTE_RELATED)
        .prefetch_related(Prefetch("addenda", queryset=Addendum.objects.select_related("author")))
        .first()
    )


def last_plan_for(client: Client, *, exclude_note_id=None) -> str:
    row = Client.objects.filter(pk=client.pk).annotate(**_last_plans(exclude_note_id)).first()
    return _latest_plan(row) if row else ""


def chart_notes(client: Client, *, limit: int | None = None):
    """The client's notes, newest service first: their appointment notes, and the group notes
    of sessions they attended with the group narrative and ONLY their own section.

    Queries: the notes (1), this client's sections (1), the addenda to the notes as a
    whole and to this client's own sections (1)."""
    # A UNION of two index lookups, not "client = x OR id IN (...)": PostgreSQL cannot
    # answer that OR from an index and read every note in the clinic.
    # The newest ``limit`` are picked among those ids before the joins the page needs.
    note_ids = (
        ProgressNote.objects.filter(client=client)
        .order_by()
        .values("pk")
        .union(GroupNoteSection.objects.filter(client=client).order_by().values("note"))
    )
    # Newest service first: a note signed days late stays at its session's date.
    newest_service = (service_start().desc(), "-pk")
    chosen = ProgressNote.objects.filter(pk_among(note_ids)).order_by(*newest_service).values("pk")
    if limit is not None:
        chosen = chosen[:limit]
    notes = (
        ProgressNote.objects.filter(pk_among(chosen))
        .select_related(*NOTE_RELATED, "session__group", "appointment")
        .prefetch_related(
            # Filtered by client: another client's section never leaves the database.
            Prefetch(
                "sections",
                queryset=GroupNoteSection.objects.filter(client=client).select_related(
                    *SECTION_RELATED
                ),
                to_attr="client_sections",
            ),
            # The same for the addenda: another client's section's addendum stays out.
            Prefetch(
                "addenda",
                queryset=Addendum.objects.filter(
                    Q(section__isnull=True) | Q(section__client=client)
                ).select_related("author"),
            ),
        )
        .order_by(*newest_service)
    )
    return notes


def cosign_sections(note: ProgressNote) -> list[GroupNoteSection]:
    """A group note's sections with their clients, for the co-signer who reads the whole
    note; the note's addenda are loaded with them, each shown under the narrative or
    its own section (2 queries, whatever the size of the group)."""
    prefetch_related_objects(
        [note], Prefetch("addenda", queryset=Addendum.objects.select_related("author"))
    )
    return list(note.sections.select_related(*SECTION_RELATED)) if note.is_group else []


def _notes_in_scope(user, *, relation):
    """The notes ``user`` stands to in ``relation`` (clients.access) and may open from a
    list: an appointment's note only while its client is in their CLINICAL scope, a
    group note by its own reach rule: for its supervisor, SUPERVISION, the co-sign
    page's purpose (while the co-signature is outstanding); for its author, only while
    the session's page, where the draft is finished, opens for them."""
    appointment_notes = scope(user, "clinical.progressnote", Purpose.CLINICAL, relation=relation)
    group_purpose = Purpose.SUPERVISION if relation == SUPERVISOR else Purpose.CLINICAL
    group_notes = scope(user, "clinical.groupnote", group_purpose, relation=relation)
    if relation == AUTHOR:
        group_notes = group_notes.filter(
            session__in=scope(user, "scheduling.groupsession", Purpose.ATTENDANCE).values("pk")
        )
    return ProgressNote.objects.filter(
        Q(pk__in=appointment_notes.values("pk")) | Q(pk__in=group_notes.values("pk"))
    )


def cosign_queue(supervisor):
    """Notes of the supervisor's supervisees waiting for their co-signature, that the
    supervisor may open (a note about a client the author's team no longer serves
    leaves the queue with the client's chart)."""
    return (
        _notes_in_scope(supervisor, relation=SUPERVISOR)
        .filter(cosign_status=CosignStatus.PENDING)
        .select_related("author", "client", "session__group", "appointment")
        .order_by(service_start(), "signed_at")
    )


def open_notes(author):
    """The author's drafts, and signed notes their supervisor returned, that the author
    may still open."""
    return (
        _notes_in_scope(author, relation=AUTHOR)
        .filter(Q(status=NoteStatus.DRAFT) | Q(cosign_status=CosignStatus.RETURNED))
        .select_related("client", "session__group", "appointment")
        .order_by(service_start(), "created_at")
    )


KIND_LABELS = dict(NoteKind.choices)
