"""Demo progress notes (fake people only), written through the services.

For each demo facilitator every group session that met is charted, so that the few
left without a note stand out as a clinic's would: the latest session is left a
draft, one that ended 1-3 days ago has no note (a task for the facilitator) and one of
4-14 days ago neither (escalated to ``supervisor`` for ``clinician``). The notes of the
last three days are signed on time; older ones are signed now, when the demo is
seeded, and so are marked late entries (a signature is dated when it is given). Two
individual appointments of the past two weeks are booked and charted, and one kept two
days ago is left without its note. ``clinician`` needs a co-signature: ``supervisor``
co-signs every note but the newest, which waits in their queue.

Idempotent: a facilitator who already has notes is skipped.
"""

from contextlib import suppress
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import CareTeamRole, Client
from clinical.notes.checks import sign_warnings
from clinical.notes.models import CosignStatus, CurriculumTopic, Modality, NoteStatus, ProgressNote
from clinical.notes.selectors import sessions_that_met
from clinical.notes.services import (
    NoteContent,
    appointment_note_save,
    attending_ids,
    group_note_save,
    note_cosign,
    note_sign,
    session_plan_set,
)
from clinical.plans.objectives import PlanObjectives, plan_objectives
from iop.accounts.models import User
from scheduling.models import clinic_tz
from scheduling.services import appointment_book

DEMO_PASSWORD = "demo"  # noqa: S105  (the demo accounts' documented password)
FACILITATORS = ("clinician", "clinician2")


def seed(*, stdout):
    users = {u.username: u for u in User.objects.filter(username__in=[*FACILITATORS, "supervisor"])}
    if len(users) < 3 or not Modality.objects.exists():
        stdout.write("Notes: demo staff or the modality catalogue missing; skipped.")
        return
    written = 0
    for username in FACILITATORS:
        author = users[username]
        if ProgressNote.objects.filter(author=author).exists():
            continue
        written += _group_notes(author) + _individual_notes(author)
    cosigned = _cosign_all_but_newest(users["clinician"], users["supervisor"])
    waiting = ProgressNote.objects.filter(cosign_status=CosignStatus.PENDING).count()
    stdout.write(
        f"Notes: {written} written, {cosigned} co-signed, {waiting} awaiting co-signature."
    )


def _content(session_or_none, modality, topic, *, time_in, time_out) -> NoteContent:
    title = topic.title.lower() if topic else "process group"
    return NoteContent(
        modality=modality,
        topic=topic,
        interventions=["psychoeducation", "process_facilitation"],
        time_in=time_in,
        time_out=time_out,
        narrative=(
            f"Psychoeducation on {title}, then process group: members linked the topic to "
            "the week at work and rehearsed one coping response each."
        ),
    )


def _section(n: int, objectives: PlanObjectives | None) -> dict:
    """A section in the structured choices (issue 20): the choices vary a little from
    client to client, and each client's own line is their own."""
    responses = [
        "Named a work trigger and a plan to leave early from client dinners.",
        "Quiet at first; engaged after the role play and gave feedback to peers.",
        "Reported cravings after a long shift; practised urge surfing in group.",
        "Shared a relapse warning sign (isolating) and asked the group for check-ins.",
        "Said the hardest hour is the drive home; will call a peer from the car.",
    ]
    participation = ["active", "appropriate", "active", "minimal", "appropriate"]
    affect = ["euthymic", "anxious", "euthymic", "depressed", "euthymic"]
    response = ["receptive", "practising", "receptive", "ambivalent", "receptive"]
    rating = ["progressing", "maintaining", "progressing", "regressing", "progressing"]
    plan = ["continue", "continue", "individual", "primary", "continue"]
    i = n % len(responses)
    has_objectives = objectives is not None and objectives.lines
    return {
        "participation_level": participation[i],
        "affect": affect[i],
        "intervention_response": response[i],
        "response": responses[i],
        "objective": objectives.key(n % len(objectives.lines)) if has_objectives else "",
        "progress_rating": rating[i] if has_objectives else "",
        "plan_choice": plan[i],
        "risk": "none",
        "safety_plan_note": "",
    }


def _left_missing(sessions, now) -> set[int]:
    """The sessions the demo leaves without a note: the first that ended 1-3 days ago
    (a task for the facilitator) and the first of 4-14 days ago (escalated)."""
    left = set()
    for low, high in (
        (timedelta(hours=26), timedelta(hours=70)),
        (timedelta(days=4), timedelta(days=14)),
    ):
        found = next((s for s in sessions if low < now - s.ends_at < high), None)
        if found is not None:
            left.add(found.pk)
    return left


def _group_notes(author) -> int:
    now = timezone.now()
    sessions = list(
        sessions_that_met()
        .filter(group__facilitators=author, ends_at__lte=now)
        .select_related("group__track")
        .order_by("-ends_at")
    )
    missing = _left_missing(sessions, now)
    modalities = list(Modality.objects.filter(code__in=["cbt", "dbt-distress-tolerance"]))
    topics = {}
    written = 0
    for n, session in enumerate(s for s in sessions if s.pk not in missing):
        present = list(Client.objects.filter(pk__in=attending_ids(session)))
        if not present:
            continue
        track_topics = topics.setdefault(
            session.group.track_id,
            list(CurriculumTopic.objects.filter(track=session.group.track).order_by("order")),
        )
        topic = track_topics[n % len(track_topics)] if track_topics else None
        modality = modalities[n % len(modalities)]
        session_plan_set(session=session, topic=topic, modality=modality, actor=author)
        local_start = session.starts_at.astimezone(clinic_tz()).time()
        local_end = session.ends_at.astimezone(clinic_tz()).time()
        draft = n == 0
        charted = present[:2] if draft else present
        objectives = plan_objectives([c.pk for c in charted])
        sections = {
            client: _section(i + n, objectives.get(client.pk)) for i, client in enumerate(charted)
        }
        note = group_note_save(
            session=session,
            content=_content(session, modality, topic, time_in=local_start, time_out=local_end),
            sections=sections,
            actor=author,
        )
        if not draft:
            # The demo's sections share their participation, progress and plan lines:
            # its author acknowledges the copied-text warnings, as the report then shows.
            keys = [w.key for w in sign_warnings(note)]
            note_sign(note=note, actor=author, password=DEMO_PASSWORD, acknowledged=keys)
        written += 1
    return written


def _individual_notes(author) -> int:
    clients = list(
        Client.objects.filter(
            care_team__staff=author,
            care_team__role=CareTeamRole.PRIMARY,
            care_team__ended_on__isnull=True,
            status="active",
        ).order_by("mrn")[:2]
    )
    cbt = Modality.objects.get(code="cbt")
    written = 0
    for days_ago, client in zip((3, 10), clients, strict=False):
        day = timezone.localdate() - timedelta(days=days_ago)
        start = datetime.combine(day, time(15, 0), tzinfo=clinic_tz())
        try:
            appointment = appointment_book(
                client=client,
                clinician=author,
                kind="individual",
                starts_at=start,
                ends_at=start + timedelta(minutes=50),
                actor=author,
            )
        except ValidationError:
            continue  # that hour is taken in this demo's calendar
        note = appointment_note_save(
            appointment=appointment,
            content=NoteContent(
                modality=cbt,
                interventions=["cognitive_restructuring", "relapse_prevention"],
                time_in=time(15, 0),
                time_out=time(15, 50),
                body={
                    "data": "Reports 3 weeks abstinent; stress rising before a licensing "
                    "board interview.",
                    "assessment": "Engaged; identified all-or-nothing thinking about the "
                    "interview and reframed it.",
                },
                plan="Weekly individual session; thought record daily; call sponsor before "
                "the interview.",
                risk="none",
            ),
            actor=author,
        )
        note_sign(note=note, actor=author, password=DEMO_PASSWORD)
        written += 1
    if clients:
        # Kept two days ago and never charted: a missing note on the task list.
        day = timezone.localdate() - timedelta(days=2)
        start = datetime.combine(day, time(14, 10), tzinfo=clinic_tz())
        with suppress(ValidationError):  # that hour may be taken in this demo's calendar
            appointment_book(
                client=clients[0],
                clinician=author,
                kind="individual",
                starts_at=start,
                ends_at=start + timedelta(minutes=50),
                actor=author,
            )
    return written


def _cosign_all_but_newest(author, supervisor) -> int:
    pending = list(
        ProgressNote.objects.filter(
            author=author, status=NoteStatus.SIGNED, cosign_status=CosignStatus.PENDING
        ).order_by("-signed_at")
    )
    for note in pending[1:]:
        note_cosign(note=note, actor=supervisor, password=DEMO_PASSWORD)
    return len(pending[1:])
