"""How the notes part plugs into the rest: access kinds, chart and dashboard sections."""

from clients.access import (
    AUTHOR,
    FACILITATOR,
    REACH_AUTHOR,
    SUPERVISOR,
    OwnedKind,
    Purpose,
    Supervision,
    register_owned,
)
from clients.chart import ChartSection
from clients.chart import register as register_chart
from iop.accounts.models import Role
from iop.dashboard import DashboardSection
from iop.dashboard import register as register_section

# The chart shows the latest notes; the client's notes page shows them all.
CHART_NOTES = 20


def register():
    from clinical.notes.models import CosignStatus, ProgressNote

    # An appointment's note is its client's: the client's purposes decide.
    register_owned(
        OwnedKind(
            "clinical.progressnote",
            "note_id",
            lambda: ProgressNote.objects.filter(client__isnull=False).select_related(
                "author", "client", "appointment", "modality__parent", "signed_by"
            ),
            relations={AUTHOR: "author", SUPERVISOR: "author"},
        )
    )
    # A group note belongs to no single client: clients.access's author rule reaches it
    # whole for its author, and for the author's supervisor, who co-signs it, for
    # SUPERVISION while the co-signature is outstanding and IOP_SUPERVISION_READ_DAYS
    # after; the same window gives the supervisor SUPERVISION on each client with a
    # section in it. Clients' charts show one section.
    register_owned(
        OwnedKind(
            "clinical.groupnote",
            "group_note_id",
            lambda: ProgressNote.objects.filter(session__isnull=False).select_related(
                "author", "session__group", "modality__parent", "topic", "signed_by"
            ),
            client_attr=None,
            reach=REACH_AUTHOR,
            relations={AUTHOR: "author", SUPERVISOR: "author", FACILITATOR: "session__group"},
            supervision=Supervision(
                clients="sections__client",
                status="cosign_status",
                outstanding=(CosignStatus.PENDING, CosignStatus.RETURNED),
                recorded=CosignStatus.COSIGNED,
                recorded_at="cosigned_at",
            ),
        )
    )
    register_chart(
        ChartSection(
            "notes", "Progress notes", Purpose.CLINICAL, "clinical/notes/chart_notes.html", _chart
        )
    )
    register_section(
        DashboardSection(
            "cosign",
            "Notes waiting for your co-signature",
            (Role.SUPERVISOR,),
            "clinical/notes/dashboard_cosign.html",
            _cosign_queue,
            clients=_note_clients,
        )
    )
    register_section(
        DashboardSection(
            "my_notes",
            "My notes in progress",
            (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL),
            "clinical/notes/dashboard_my_notes.html",
            _my_notes,
            clients=_note_clients,
        )
    )


def _chart(request, client):
    from clinical.notes.selectors import chart_notes

    # One more than shown says whether older notes exist, without a count query.
    notes = list(chart_notes(client, limit=CHART_NOTES + 1))
    return {"notes": notes[:CHART_NOTES], "more": len(notes) > CHART_NOTES}


def _note_clients(context):
    # A note's kind, date and client by name: a group note names its group, no client.
    return [note.client for note in context["notes"] if note.client_id is not None]


def _cosign_queue(request):
    from clinical.notes.selectors import cosign_queue

    return {"notes": list(cosign_queue(request.user))}


def _my_notes(request):
    from clinical.notes.selectors import open_notes

    notes = list(open_notes(request.user))
    return {"notes": notes} if notes else None
