"""Reads the note pages need, each in a fixed number of queries whatever the size of
the group or the length of the chart (pinned by tests/clinical/test_notes_queries.py)."""

from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, Subquery

from clients.models import Client
from clinical.models import (
    Addendum,
    CosignStatus,
    GroupNoteSection,
    NoteKind,
    NoteStatus,
    ProgressNote,
    SessionPlan,
)
from clinical.objectives import current_objectives
from iop.db import pk_among
from scheduling.models import ATTENDED, Attendance, Enrollment, GroupSession

NOTE_RELATED = ("author", "signed_by", "cosigned_by", "modality__parent", "topic")


@dataclass
class SectionRow:
    client: Client
    attendance: Attendance | None
    section: GroupNoteSection | None
    objectives: list[str]
    last_plan: str


def group_note_for(session: GroupSession) -> ProgressNote | None:
    return (
        ProgressNote.objects.filter(session=session)
        .select_related(*NOTE_RELATED)
        .prefetch_related(
            Prefetch("sections", queryset=GroupNoteSection.objects.select_related("client")),
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


def _last_plans(exclude_note_id):
    """Subqueries: the plan line of a client's last signed note, group or individual."""
    sections = GroupNoteSection.objects.filter(
        client=OuterRef("pk"), note__status=NoteStatus.SIGNED
    ).exclude(note_id=exclude_note_id or 0)
    notes = ProgressNote.objects.filter(client=OuterRef("pk"), status=NoteStatus.SIGNED)
    return {
        "_group_plan": Subquery(sections.order_by("-note__signed_at").values("plan")[:1]),
        "_group_plan_at": Subquery(
            sections.order_by("-note__signed_at").values("note__signed_at")[:1]
        ),
        "_note_plan": Subquery(notes.order_by("-signed_at").values("plan")[:1]),
        "_note_plan_at": Subquery(notes.order_by("-signed_at").values("signed_at")[:1]),
    }


def group_note_rows(session: GroupSession, note: ProgressNote | None):
    """(attending rows with their section, objectives and last plan; absent rows).

    Queries: the roster and marked clients with this session's attendance and the
    last plans (2), the note's sections come prefetched with the note, objectives
    (the plans module's one query)."""
    marked = Attendance.objects.filter(session=session)
    roster = Enrollment.objects.on(session.date).filter(group_id=session.group_id)
    clients = list(
        Client.objects.filter(Q(pk__in=roster.values("client")) | Q(pk__in=marked.values("client")))
        .annotate(**_last_plans(note.pk if note else None))
        .prefetch_related(Prefetch("attendance", queryset=marked, to_attr="this_session"))
        .order_by("legal_last_name", "legal_first_name")
    )
    sections = {s.client_id: s for s in note.sections.all()} if note else {}
    attending = [c for c in clients if c.this_session and c.this_session[0].status in ATTENDED]
    objectives = current_objectives([c.pk for c in attending]) if attending else {}
    rows, absent = [], []
    for client in clients:
        attendance = client.this_session[0] if client.this_session else None
        if client in attending:
            rows.append(
                SectionRow(
                    client=client,
                    attendance=attendance,
                    section=sections.get(client.pk),
                    objectives=objectives.get(client.pk, []),
                    last_plan=_latest_plan(client),
                )
            )
        else:
            absent.append({"client": client, "attendance": attendance})
    return rows, absent


def _latest_plan(client) -> str:
    candidates = [
        (client._group_plan_at, client._group_plan),
        (client._note_plan_at, client._note_plan),
    ]
    dated = [(at, plan) for at, plan in candidates if at is not None]
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
    """The client's notes, newest first: their appointment notes, and the group notes
    of sessions they attended with the group narrative and ONLY their own section.

    Queries: the notes (1), this client's sections (1), the addenda (1)."""
    # A UNION of two index lookups, not "client = x OR id IN (...)": PostgreSQL cannot
    # answer that OR from an index and read every note in the clinic.
    # The newest ``limit`` are picked among those ids before the joins the page needs.
    note_ids = (
        ProgressNote.objects.filter(client=client)
        .order_by()
        .values("pk")
        .union(GroupNoteSection.objects.filter(client=client).order_by().values("note"))
    )
    chosen = ProgressNote.objects.filter(pk_among(note_ids)).order_by("-created_at").values("pk")
    if limit is not None:
        chosen = chosen[:limit]
    notes = (
        ProgressNote.objects.filter(pk_among(chosen))
        .select_related(*NOTE_RELATED, "session__group", "appointment")
        .prefetch_related(
            # Filtered by client: another client's section never leaves the database.
            Prefetch(
                "sections",
                queryset=GroupNoteSection.objects.filter(client=client).select_related("client"),
                to_attr="client_sections",
            ),
            Prefetch("addenda", queryset=Addendum.objects.select_related("author")),
        )
        .order_by("-created_at")
    )
    return notes


def cosign_queue(supervisor):
    """Notes of the supervisor's supervisees waiting for their co-signature."""
    return (
        ProgressNote.objects.filter(
            cosign_status=CosignStatus.PENDING, author__clinical_supervisor=supervisor
        )
        .select_related("author", "client", "session__group", "appointment")
        .order_by("signed_at")
    )


def open_notes(author):
    """The author's drafts, and signed notes their supervisor returned."""
    return (
        ProgressNote.objects.filter(author=author)
        .filter(Q(status=NoteStatus.DRAFT) | Q(cosign_status=CosignStatus.RETURNED))
        .select_related("client", "session__group", "appointment")
        .order_by("created_at")
    )


KIND_LABELS = dict(NoteKind.choices)
