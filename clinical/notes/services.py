"""Writes of progress notes: drafts (typed and autosaved), signing, co-signing,
addenda, and the appointment's outcome (completed by its note, or a no-show).

Every rule lives here, so the page, an autosave, a task or the shell share it:
only the author edits a draft; a group section is for a client who attended; a
signed note never changes (``ProgressNote.save`` and the PostgreSQL trigger back
this service); a note is signed only when complete and only after its author
confirms who they are.

Audit: a draft's creation, an explicit save, a signature, a co-signature, a return
and an addendum each write their own row. Autosaves arrive every few seconds while
a clinician types; a row per keystroke pause would bury the trail and say nothing
new, so an autosave writes ``note.autosave`` at most once per note every
``AUTOSAVE_AUDIT_MINUTES`` (the page's access row is still written on every request
by ``clients.access``). ``detail`` carries codes and counts, never the words typed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.access import Action, may
from clients.models import Client
from clinical.notes import checks
from clinical.notes.models import (
    FORMAT_SECTIONS,
    RESPONSE_KEY,
    RISK_PRESENT,
    Addendum,
    Affect,
    CosignStatus,
    CurriculumTopic,
    GroupNoteSection,
    Intervention,
    InterventionResponse,
    Modality,
    NoteFormatDefault,
    NoteKind,
    NoteStatus,
    Participation,
    ProgressNote,
    ProgressRating,
    Risk,
    SectionPlan,
    SessionPlan,
    SignWarning,
    is_late_entry,
)
from clinical.plans.objectives import PlanObjectives, plan_objectives
from iop.accounts.reentry import ReentryLimitReached, reauthenticate
from iop.audit.models import Outcome
from iop.audit.services import AuditContext, audit_record, audit_record_per_client
from iop.forms import text_problem
from scheduling.models import (
    ATTENDED,
    Appointment,
    AppointmentStatus,
    Attendance,
    GroupSession,
    clinic_tz,
    clock_label,
    local_datetime,
)

AUTOSAVE_AUDIT_MINUTES = 10
ATTESTATION = (
    "I attest that I provided the services this note describes, that it is accurate and "
    "complete, and that I am signing it myself."
)
COSIGN_ATTESTATION = (
    "As clinical supervisor I have reviewed this note and agree with its assessment and plan."
)
ADDENDUM_ATTESTATION = "I attest that this addendum is accurate and that I am signing it myself."
# Room for a full narrative; anything longer is a paste gone wrong, refused with a message.
MAX_NARRATIVE = 8000
MAX_FIELD = 4000
# A section's columns as written before issue 20 (free text and the risk screen): kept,
# so the notes and drafts that hold them read as they were written.
SECTION_FIELDS = ("participation", "response", "progress", "plan", "risk", "safety_plan_note")
SECTION_TEXT = ("participation", "response", "progress", "plan", "safety_plan_note")
# The structured choices, each with its list (a value outside it is refused).
SECTION_CHOICES = {
    "participation_level": Participation,
    "affect": Affect,
    "intervention_response": InterventionResponse,
    "progress_rating": ProgressRating,
    "plan_choice": SectionPlan,
    "risk": Risk,
}
# The objective whose progress is rated: a key of ``PlanObjectives`` (the client's plan
# in force and the objective's place in it), stored as objective_plan/objective_index.
OBJECTIVE = "objective"
# What a section may be given, in the order the form asks for it.
SECTION_PARTS = (
    "participation_level",
    "affect",
    "intervention_response",
    "response",
    OBJECTIVE,
    "progress_rating",
    "plan_choice",
    "risk",
    "safety_plan_note",
    "participation",
    "progress",
    "plan",
)
SECTION_COLUMNS = (
    *SECTION_TEXT,
    *SECTION_CHOICES,
    "objective_plan",
    "objective_index",
)


@dataclass
class NoteContent:
    """What a clinician types; any part may be blank while the note is a draft."""

    modality: Modality | None = None
    topic: CurriculumTopic | None = None
    interventions: list[str] = field(default_factory=list)
    time_in: time | None = None
    time_out: time | None = None
    risk: str = ""
    safety_plan_note: str = ""
    narrative: str = ""
    body: dict[str, str] = field(default_factory=dict)
    plan: str = ""


# --- Checks shared by every write --------------------------------------------------------


def _text_problems(name: str, value: str, limit: int) -> dict[str, str]:
    problem = text_problem(value, limit)
    return {name: problem} if problem else {}


def _check_content(content: NoteContent, *, note_format: str, is_group: bool) -> None:
    errors: dict[str, str] = {}
    if content.time_in and content.time_out and content.time_out <= content.time_in:
        errors["time_out"] = "Time out is before time in."
    unknown = [code for code in content.interventions if code not in Intervention.values]
    if unknown:
        errors["interventions"] = "Choose interventions from the list."
    if content.risk and content.risk not in Risk.values:
        errors["risk"] = "Choose a risk screen answer from the list."
    if content.modality is not None and not content.modality.active:
        errors["modality"] = "This modality is no longer offered."
    allowed = {key for key, _label in FORMAT_SECTIONS[note_format]}
    if set(content.body) - allowed:
        errors["body"] = f"A {note_format} note has no such section."
    errors |= _text_problems("narrative", content.narrative, MAX_NARRATIVE)
    errors |= _text_problems("safety_plan_note", content.safety_plan_note, MAX_FIELD)
    errors |= _text_problems("plan", content.plan, MAX_FIELD)
    for key, text in content.body.items():
        errors |= _text_problems(key, text, MAX_FIELD)
    if is_group and (content.body or content.plan or content.risk):
        errors["body"] = "A group note keeps response, plan and risk in each client's section."
    if errors:
        raise ValidationError(errors)


def _check_section(client: Client, values: dict, objectives: PlanObjectives | None) -> None:
    """A section's values: text within its limits, each choice from its list, and an
    objective only from the client's own plan in force."""
    errors: dict[str, str] = {}
    prefix = str(client.public_id)
    for name in SECTION_TEXT:
        for _key, message in _text_problems(name, values.get(name, ""), MAX_FIELD).items():
            errors[f"{prefix}-{name}"] = message
    for name, choices in SECTION_CHOICES.items():
        value = values.get(name, "")
        if value and value not in choices.values:
            errors[f"{prefix}-{name}"] = "Choose an answer from the list."
    key = values.get(OBJECTIVE, "")
    if key and (objectives is None or objectives.index_of(str(key)) is None):
        errors[f"{prefix}-{OBJECTIVE}"] = (
            "Choose an objective of this client's current treatment plan (the plan may have "
            "been reviewed since the page was opened: reload it)."
        )
    if set(values) - set(SECTION_PARTS):
        errors[prefix] = "A section holds participation, affect, response, progress, plan and risk."
    if errors:
        raise ValidationError(errors)


def _apply(note: ProgressNote, content: NoteContent) -> None:
    note.modality = content.modality
    note.topic = content.topic
    note.interventions = list(dict.fromkeys(content.interventions))
    note.time_in = content.time_in
    note.time_out = content.time_out
    note.risk = content.risk
    note.safety_plan_note = content.safety_plan_note
    note.narrative = content.narrative
    note.body = {k: v for k, v in content.body.items() if v}
    note.plan = content.plan


def _check_editable(note: ProgressNote, actor) -> None:
    if note.status != NoteStatus.DRAFT:
        raise ValidationError("This note is signed and locked: add an addendum instead.")
    if not may(actor, note_kind(note), note, Action.EDIT_NOTE):
        raise ValidationError("Only the author edits a draft; this one is someone else's.")


def _audit_write(note, *, created, autosave, actor, audit, client=None, detail=""):
    """The write's own audit row: created, saved, or (throttled) autosaved."""
    now = timezone.now()
    if created:
        action = "note.create"
    elif not autosave:
        action = "note.save"
    elif note.autosave_audited_at is None or now - note.autosave_audited_at >= timedelta(
        minutes=AUTOSAVE_AUDIT_MINUTES
    ):
        action = "note.autosave"
    else:
        return
    if autosave or created:
        ProgressNote.objects.filter(pk=note.pk).update(autosave_audited_at=now)
        note.autosave_audited_at = now
    audit_record(action=action, actor=actor, audit=audit, obj=note, client=client, detail=detail)


# --- Session plans ----------------------------------------------------------------------


@transaction.atomic
def session_plan_set(
    *,
    session: GroupSession,
    topic: CurriculumTopic | None,
    modality: Modality | None,
    actor,
    audit: AuditContext | None = None,
) -> SessionPlan:
    session = GroupSession.objects.select_for_update().select_related("group").get(pk=session.pk)
    if session.is_cancelled:
        raise ValidationError("This session was cancelled: there is nothing to plan.")
    if topic is not None and topic.track_id != session.group.track_id:
        raise ValidationError({"topic": "Choose a topic of this group's track."})
    if modality is not None and not modality.active:
        raise ValidationError({"modality": "This modality is no longer offered."})
    plan, _created = SessionPlan.objects.update_or_create(
        session=session, defaults={"topic": topic, "modality": modality, "planned_by": actor}
    )
    audit_record(
        action="session.plan",
        actor=actor,
        audit=audit,
        obj=session,
        detail=f"topic={topic.pk if topic else '-'}; modality={modality.code if modality else '-'}",
    )
    return plan


# --- When a note may be written and signed ---------------------------------------------
#
# Nothing is attested before it happened. A note is drafted once its session or
# appointment has begun (the clinician writes as it goes), and signed, or co-signed,
# only once it is over: at its scheduled end, or at the time out the note records when
# the clinician recorded one (a session that ended early, or ran over). A time out is
# never in the future when the note is signed, and never before the session began.


def session_not_begun(session: GroupSession, *, now=None) -> str | None:
    """Why the group note of ``session`` cannot be drafted yet, or None."""
    now = now or timezone.now()
    if now >= session.starts_at:
        return None
    return (
        f"This session begins at {clock_label(session.starts_at, now=now)}: its note is "
        "written once it has begun."
    )


def recorded_time_out(note: ProgressNote) -> datetime | None:
    """The note's time out as a moment: the clinic-local time on the service's day."""
    if note.time_out is None:
        return None
    day = timezone.localtime(note.service_start).date()
    return local_datetime(day, note.time_out)


def signing_opens(note: ProgressNote) -> tuple[datetime, str]:
    """When ``note`` may be signed (and co-signed), and why then."""
    out = recorded_time_out(note)
    if out is not None and out > note.service_start:
        return out, "its recorded time out"
    what = "session" if note.session_id else "appointment"
    return note.service_end, f"when the {what} ends"


def signing_not_yet(note: ProgressNote, *, now=None, verb: str = "signed") -> str | None:
    """Why ``note`` cannot be signed (``verb``: or co-signed) now, or None. The sign
    and co-sign pages say the same words instead of offering the form."""
    now = now or timezone.now()
    start = note.service_start
    out = recorded_time_out(note)
    what = "session" if note.session_id else "appointment"
    if out is not None and out <= start:
        return (
            f"The time out ({clock_label(out, now=now)}) is not after the {what} began "
            f"({clock_label(start, now=now)}): correct it before the note is {verb}."
        )
    opens, why = signing_opens(note)
    if now < opens:
        return f"This note can be {verb} from {clock_label(opens, now=now)}, {why}."
    return None


# --- Group notes ------------------------------------------------------------------------


def attending_ids(session: GroupSession) -> set[int]:
    """Clients whose attendance for this session says they were there."""
    return set(
        Attendance.objects.filter(session=session, status__in=ATTENDED).values_list(
            "client_id", flat=True
        )
    )


@transaction.atomic
def group_note_save(
    *,
    session: GroupSession,
    content: NoteContent,
    sections: dict[Client, dict],
    actor,
    audit: AuditContext | None = None,
    autosave: bool = False,
) -> ProgressNote:
    """Create or update the session's draft group note and the given sections.

    The session row is locked first, so two facilitators starting the note at once
    get one draft (the second sees the first's and is told it is not theirs)."""
    session = GroupSession.objects.select_for_update().select_related("group").get(pk=session.pk)
    if session.is_cancelled:
        raise ValidationError("This session was cancelled: there is no group note to write.")
    not_begun = session_not_begun(session)
    if not_begun:
        raise ValidationError(not_begun)
    if not may(actor, "scheduling.groupsession", session, Action.WRITE_NOTE):
        raise ValidationError("Only a facilitator of this group writes its group note.")
    note = ProgressNote.objects.select_for_update().filter(session=session).first()
    created = note is None
    if created:
        planned = SessionPlan.objects.filter(session=session).first()
        note = ProgressNote(
            kind=NoteKind.GROUP,
            format=NoteFormatDefault.for_kind(NoteKind.GROUP),
            author=actor,
            session=session,
        )
        if planned is not None:  # the note starts from the session's plan
            content.topic = content.topic or planned.topic
            content.modality = content.modality or planned.modality
    else:
        _check_editable(note, actor)
    _check_content(content, note_format=note.format, is_group=True)
    present = attending_ids(session)
    absent = [client for client in sections if client.pk not in present]
    if absent:
        raise ValidationError(
            "A section was sent for a client who did not attend this session: nothing was "
            "saved. Absent clients get no section; correct the attendance first if they came."
        )
    # One query for every client's plan in force, whatever the size of the group.
    objectives = plan_objectives(
        [client.pk for client, values in sections.items() if values.get(OBJECTIVE)]
    )
    for client, values in sections.items():
        _check_section(client, values, objectives.get(client.pk))
    _apply(note, content)
    note.save()
    existing = {s.client_id: s for s in note.sections.all()} if not created else {}
    new, changed = [], []
    for client, values in sections.items():
        section = existing.get(client.pk) or GroupNoteSection(note=note, client=client)
        # Only the parts given change: the form of issue 20 no longer asks for the
        # participation, progress and plan text a draft begun before it may hold.
        for name in (*SECTION_TEXT, *SECTION_CHOICES):
            if name in values:
                setattr(section, name, values[name] or "")
        if OBJECTIVE in values:
            key = values[OBJECTIVE]
            plan = objectives.get(client.pk)
            section.objective_plan_id = plan.version_id if key else None
            section.objective_index = plan.index_of(str(key)) if key else None
        (changed if section.pk else new).append(section)
    GroupNoteSection.objects.bulk_create(new)
    if changed:
        GroupNoteSection.objects.bulk_update(changed, SECTION_COLUMNS)
    _audit_write(
        note,
        created=created,
        autosave=autosave,
        actor=actor,
        audit=audit,
        detail=f"kind=group; sections={len(sections)}",
    )
    return note


# --- Appointment notes ------------------------------------------------------------------


@transaction.atomic
def appointment_note_save(
    *,
    appointment: Appointment,
    content: NoteContent,
    actor,
    audit: AuditContext | None = None,
    autosave: bool = False,
) -> ProgressNote:
    """Create or update the appointment's draft note. The first write marks the
    appointment completed: the note is the record that the session took place."""
    appointment = (
        Appointment.objects.select_for_update().select_related("client").get(pk=appointment.pk)
    )
    if not may(actor, "scheduling.appointment", appointment, Action.WRITE_NOTE):
        raise ValidationError("Only the appointment's clinician writes its note.")
    note = ProgressNote.objects.select_for_update().filter(appointment=appointment).first()
    created = note is None
    if created:
        _complete(appointment, actor=actor, audit=audit)
        note = ProgressNote(
            kind=appointment.kind,
            format=NoteFormatDefault.for_kind(appointment.kind),
            author=actor,
            appointment=appointment,
            client=appointment.client,
        )
    else:
        _check_editable(note, actor)
    _check_content(content, note_format=note.format, is_group=False)
    _apply(note, content)
    note.save()
    _audit_write(
        note,
        created=created,
        autosave=autosave,
        actor=actor,
        audit=audit,
        client=appointment.client,
        detail=f"kind={note.kind}",
    )
    return note


def _complete(appointment: Appointment, *, actor, audit) -> None:
    # The caller holds the appointment's row lock.
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationError(
            f"This appointment is {appointment.get_status_display().lower()}: no note to write."
        )
    if appointment.starts_at > timezone.now():
        raise ValidationError("This appointment has not started yet: write its note afterwards.")
    appointment.status = AppointmentStatus.COMPLETED
    appointment.save(update_fields=["status"])
    audit_record(
        action="appointment.complete",
        actor=actor,
        audit=audit,
        obj=appointment,
        client=appointment.client,
    )


@transaction.atomic
def appointment_no_show(
    *, appointment: Appointment, actor, audit: AuditContext | None = None
) -> Appointment:
    appointment = (
        Appointment.objects.select_for_update().select_related("client").get(pk=appointment.pk)
    )
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationError(
            f"This appointment is already {appointment.get_status_display().lower()}."
        )
    if appointment.starts_at > timezone.now():
        raise ValidationError("This appointment has not started yet: it cannot be a no-show.")
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.save(update_fields=["status"])
    audit_record(
        action="appointment.no_show",
        actor=actor,
        audit=audit,
        obj=appointment,
        client=appointment.client,
    )
    return appointment


# --- Completeness -----------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    anchor: str  # the id of the field on the note's page
    message: str


def note_missing(
    note: ProgressNote | None,
    *,
    attending: list[Client] | None = None,
    objectives: dict[int, PlanObjectives] | None = None,
) -> list[Missing]:
    """What a payer or an auditor would reject this note for, each with its field.

    For a group note ``attending`` is the clients who attended (each needs a
    section); it is read from the attendance when not given. ``objectives`` are
    their plans in force (``plan_objectives``), read when not given: a client with
    current objectives needs progress rated toward one of them. Each line names the
    client with their MRN, so two clients of the same name are told apart."""
    if note is None:
        return [Missing("id_narrative", "Nothing is written yet.")]
    missing = []
    if note.time_in is None:
        missing.append(Missing("id_time_in", "Time in"))
    if note.time_out is None:
        missing.append(Missing("id_time_out", "Time out"))
    if note.modality_id is None:
        missing.append(Missing("id_modality", "Modality"))
    if not note.interventions:
        missing.append(Missing("id_interventions", "At least one intervention"))
    if note.is_group:
        if not note.narrative.strip():
            missing.append(Missing("id_narrative", "The group narrative"))
        if attending is None:
            attending = list(
                Client.objects.filter(pk__in=attending_ids(note.session)).order_by(
                    "legal_last_name", "legal_first_name"
                )
            )
        if not attending:
            missing.append(Missing("attendance", "Attendance: no client is marked as attending"))
        sections = {s.client_id: s for s in note.sections.all()}
        if objectives is None:
            objectives = plan_objectives([c.pk for c in attending])
        for client in attending:
            section = sections.get(client.pk)
            prefix = f"id_{client.public_id}"
            name = f"{client.display_name} (MRN {client.mrn})"
            plan = objectives.get(client.pk)
            for attr, label in (
                ("participation_level", "participation"),
                ("affect", "affect"),
                ("intervention_response", "response to the intervention"),
                ("response", "what the client said or did"),
                *(
                    ((OBJECTIVE, "progress objective"), ("progress_rating", "progress rating"))
                    if plan is not None and plan.lines
                    else ()
                ),
                ("plan_choice", "plan"),
                ("risk", "risk screen"),
            ):
                if attr == OBJECTIVE:
                    done = section is not None and section.objective_plan_id == plan.version_id
                else:
                    done = section is not None and getattr(section, attr).strip()
                if not done:
                    missing.append(Missing(f"{prefix}-{attr}", f"{name}: {label}"))
            if (
                section is not None
                and section.risk in RISK_PRESENT
                and not section.safety_plan_note.strip()
            ):
                missing.append(Missing(f"{prefix}-safety_plan_note", f"{name}: safety-plan note"))
    else:
        key = RESPONSE_KEY[note.format]
        if not note.body.get(key, "").strip():
            label = dict(FORMAT_SECTIONS[note.format])[key]
            missing.append(Missing(f"id_body_{key}", f"Client's response ({label})"))
        if not note.plan.strip():
            missing.append(Missing("id_plan", "Plan"))
        if not note.risk:
            missing.append(Missing("id_risk", "Risk screen"))
        elif note.risk in RISK_PRESENT and not note.safety_plan_note.strip():
            missing.append(Missing("id_safety_plan_note", "Safety-plan note (SI/HI present)"))
    if note.time_in and note.time_out and note.time_out <= note.time_in:
        missing.append(Missing("id_time_out", "Time out is before time in"))
    return missing


# --- Identity, signature, co-signature, addenda -----------------------------------------


def _confirm_identity(user, *, password: str, otp_token: str, action: str, note, audit) -> None:
    """A signature is the signer's: re-confirmed through the one re-entry check
    (iop/accounts/reentry.py: the authenticator code when the account has one, else
    the password; throttled per account). A refusal is also audited on the note."""
    try:
        reauthenticate(user, password=password, otp_token=otp_token, audit=audit, purpose=action)
    except (ValidationError, ReentryLimitReached):
        audit_record(
            action=action,
            actor=user,
            audit=audit,
            obj=note,
            client=note.client,
            outcome=Outcome.DENIED,
            detail="identity not confirmed",
        )
        raise


def _section_clients(note: ProgressNote) -> list:
    if not note.is_group:
        return [note.client]
    return list(Client.objects.filter(group_note_sections__note=note))


def note_sign(
    *,
    note: ProgressNote,
    actor,
    password: str = "",
    otp_token: str = "",
    acknowledged: Iterable[str] = (),
    audit: AuditContext | None = None,
) -> ProgressNote:
    """Sign and lock a complete draft (the whole group at once).

    ``acknowledged``: the keys of the warnings (``clinical.notes.checks``: copied text,
    another member's name) the author acknowledged on the sign page. Every warning the
    note raises now needs its key; a key of no current warning (stale, forged) counts
    for nothing.

    Not one transaction from the top: a failed identity check must leave its denied
    audit row behind, which a rollback would remove."""
    if not may(actor, note_kind(note), note, Action.SIGN):
        raise ValidationError("Only the author signs a note.")
    # Asked before the password too, so a refused signature costs no re-entry attempt;
    # asked again under the row lock in _sign, which is what holds.
    acknowledged = frozenset(acknowledged)
    if note.status == NoteStatus.DRAFT:
        not_yet = signing_not_yet(note)
        if not_yet:
            raise ValidationError(not_yet)
        _check_acknowledged(checks.sign_warnings(note), acknowledged)
    _confirm_identity(
        actor, password=password, otp_token=otp_token, action="note.sign", note=note, audit=audit
    )
    return _sign(note=note, actor=actor, acknowledged=acknowledged, audit=audit)


def _check_acknowledged(warnings, acknowledged: frozenset) -> None:
    waiting = [w for w in warnings if w.key not in acknowledged]
    if waiting:
        raise ValidationError(
            f"{len(waiting)} warning{'s' if len(waiting) != 1 else ''} before signing "
            "(copied text, another member's name) need your acknowledgment: edit the "
            "note, or tick each warning you have checked. Nothing was signed.",
            code="unacknowledged",
        )


def _warning_clients(note: ProgressNote, warning, section_clients: list) -> list:
    """Whose records the warning is about: the sections it names; the narrative, or an
    appointment's note, enters every record the note enters."""
    named = [p.client for p in warning.places if p.client is not None]
    if len(named) < len(warning.places):
        return section_clients
    return named


@transaction.atomic
def _sign(*, note: ProgressNote, actor, acknowledged: frozenset, audit) -> ProgressNote:
    note = (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("session", "appointment", "client")
        .get(pk=note.pk)
    )
    if note.status != NoteStatus.DRAFT:
        raise ValidationError("This note is already signed.")
    not_yet = signing_not_yet(note)
    if not_yet:
        raise ValidationError(not_yet)
    missing = note_missing(note)
    if missing:
        raise ValidationError(
            ["The note is not complete: " + "; ".join(m.message for m in missing) + "."]
        )
    if actor.requires_cosign and actor.clinical_supervisor_id is None:
        raise ValidationError(
            "Your notes need a supervisor's co-signature and no supervisor is set on your "
            "account: ask the program admin."
        )
    # Recomputed under the lock: what is acknowledged is what is signed.
    warnings = checks.sign_warnings(note)
    _check_acknowledged(warnings, acknowledged)
    now = timezone.now()
    note.status = NoteStatus.SIGNED
    note.signed_at = now
    note.signed_by = actor
    note.attestation = ATTESTATION
    note.late_entry = is_late_entry(signed_at=now, service_ended=note.service_end)
    note.cosign_required = bool(actor.requires_cosign)
    note.cosign_status = (
        CosignStatus.PENDING if actor.requires_cosign else CosignStatus.NOT_REQUIRED
    )
    note.save()
    detail = (
        f"kind={note.kind}; late={int(note.late_entry)}; cosign={int(note.cosign_required)}; "
        f"warnings={len(warnings)}"
    )
    # One row per client whose record the note enters, so each client's trail shows it.
    section_clients = _section_clients(note)
    for client in section_clients:
        audit_record(
            action="note.sign", actor=actor, audit=audit, obj=note, client=client, detail=detail
        )
    # Each acknowledged warning: a row for the counts (the documentation report) and an
    # audit code in the trail of each client it is about. Codes and counts only: the
    # text and the name matched stay on the sign page.
    SignWarning.objects.bulk_create(
        SignWarning(
            note=note,
            kind=w.kind,
            field=w.field,
            places=len(w.places),
            acknowledged_by=actor,
            acknowledged_at=now,
        )
        for w in warnings
    )
    for w in warnings:
        audit_record_per_client(
            clients=_warning_clients(note, w, section_clients),
            action="note.sign_warning",
            actor=actor,
            audit=audit,
            obj=note,
            detail=w.code,
        )
    return note


def note_cosign(
    *,
    note: ProgressNote,
    actor,
    password: str = "",
    otp_token: str = "",
    audit: AuditContext | None = None,
) -> ProgressNote:
    _check_cosigner(note, actor)
    not_yet = signing_not_yet(note, verb="co-signed")
    if not_yet:
        raise ValidationError(not_yet)
    _confirm_identity(
        actor,
        password=password,
        otp_token=otp_token,
        action="note.cosign",
        note=note,
        audit=audit,
    )
    return _cosign(note=note, actor=actor, audit=audit)


def _locked(note: ProgressNote) -> ProgressNote:
    return (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("author")
        .get(pk=note.pk)
    )


def _check_cosigner(note: ProgressNote, actor) -> None:
    if not may(actor, note_kind(note), note, Action.COSIGN):
        raise ValidationError("Only the author's clinical supervisor co-signs this note.")


@transaction.atomic
def _cosign(*, note, actor, audit) -> ProgressNote:
    note = (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("author", "session", "appointment")
        .get(pk=note.pk)
    )
    _check_cosigner(note, actor)
    if note.cosign_status != CosignStatus.PENDING:
        raise ValidationError("This note is not waiting for a co-signature.")
    not_yet = signing_not_yet(note, verb="co-signed")
    if not_yet:
        raise ValidationError(not_yet)
    note.cosign_status = CosignStatus.COSIGNED
    note.cosigned_at = timezone.now()
    note.cosigned_by = actor
    note.cosign_attestation = COSIGN_ATTESTATION
    note.save(update_fields=["cosign_status", "cosigned_at", "cosigned_by", "cosign_attestation"])
    audit_record(action="note.cosign", actor=actor, audit=audit, obj=note, client=note.client)
    return note


@transaction.atomic
def note_return(
    *, note: ProgressNote, comment: str, actor, audit: AuditContext | None = None
) -> ProgressNote:
    """The supervisor sends a signed note back with a comment.

    The note stays signed and locked (what was signed is what the record shows); it
    is simply not co-signed. The author answers with an addendum, which puts it back
    in the supervisor's queue."""
    note = (
        ProgressNote.objects.select_for_update(of=("self",))
        .select_related("author")
        .get(pk=note.pk)
    )
    _check_cosigner(note, actor)
    if note.cosign_status != CosignStatus.PENDING:
        raise ValidationError("This note is not waiting for a co-signature.")
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": "Say what the author should add or correct."})
    problems = _text_problems("comment", comment, MAX_FIELD)
    if problems:
        raise ValidationError(problems)
    note.cosign_status = CosignStatus.RETURNED
    note.returned_comment = comment
    note.save(update_fields=["cosign_status", "returned_comment"])
    audit_record(action="note.return", actor=actor, audit=audit, obj=note, client=note.client)
    return note


def note_kind(note: ProgressNote) -> str:
    """The note's owned kind in clients.access."""
    return "clinical.groupnote" if note.session_id else "clinical.progressnote"


def may_add_addendum(note: ProgressNote, user) -> bool:
    """The author, or for a group note any facilitator of its session (clients.access)."""
    return may(user, note_kind(note), note, Action.ADDENDUM)


def addendum_add(
    *,
    note: ProgressNote,
    text: str,
    actor,
    section_client: Client | None = None,
    password: str = "",
    otp_token: str = "",
    audit: AuditContext | None = None,
) -> Addendum:
    """Sign an addendum to a signed note.

    For a group note, ``section_client`` names the client whose section the addendum
    adds to: it enters that client's record only, like the section (42 CFR 2.13: a
    client's record says nothing about the others in the room). None adds to the
    group narrative, which every attending client's record holds. An appointment's
    note has no sections: its addendum adds to the note."""
    if note.status != NoteStatus.SIGNED:
        raise ValidationError(
            "An addendum is added to a signed note; this one is a draft: edit it."
        )
    if not may_add_addendum(note, actor):
        raise ValidationError("Only the note's author adds an addendum to it.")
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    problems = _text_problems("text", text, MAX_FIELD)
    if problems:
        raise ValidationError(problems)
    # Before the identity check: a wrong choice costs no password attempt.
    section = addendum_section(note, section_client)
    _confirm_identity(
        actor,
        password=password,
        otp_token=otp_token,
        action="note.addendum",
        note=note,
        audit=audit,
    )
    return _add_addendum(note=note, section=section, text=text, actor=actor, audit=audit)


def addendum_section(note: ProgressNote, client: Client | None) -> GroupNoteSection | None:
    """The section of ``note`` an addendum about ``client`` adds to (None: the note as a
    whole). A client without a section in the note (absent, another group's, unknown)
    is refused: the addendum would enter a record the note never entered."""
    if client is None:
        return None
    if not note.is_group:
        raise ValidationError(
            {"target": "This note is one client's: its addendum adds to the note itself."}
        )
    section = (
        GroupNoteSection.objects.filter(note=note, client=client).select_related("client").first()
    )
    if section is None:
        raise ValidationError(
            {
                "target": "That client has no section in this group note: choose the group "
                "narrative or the section of a client who attended."
            }
        )
    return section


@transaction.atomic
def _add_addendum(*, note, section, text, actor, audit) -> Addendum:
    note = ProgressNote.objects.select_for_update().get(pk=note.pk)
    addendum = Addendum.objects.create(
        note=note,
        section=section,
        author=actor,
        text=text,
        signed_at=timezone.now(),
        attestation=ADDENDUM_ATTESTATION,
    )
    if note.cosign_status == CosignStatus.RETURNED and note.author_id == actor.pk:
        note.cosign_status = CosignStatus.PENDING
        note.save(update_fields=["cosign_status"])
    # One row per client whose record the addendum enters: a section's addendum enters
    # its client's only.
    clients = [section.client] if section else _section_clients(note)
    for client in clients:
        audit_record(
            action="note.addendum",
            actor=actor,
            audit=audit,
            obj=addendum,
            client=client,
            detail=f"kind={note.kind}; to={'section' if section else 'note'}",
        )
    return addendum


def local_time(value: datetime) -> time:
    return value.astimezone(clinic_tz()).time().replace(second=0, microsecond=0)
