"""Modalities, curricula, session plans and progress notes (group and individual).

A note is a draft its author edits, then signed and locked: nothing in it changes
after ``signed_at`` except the co-signature columns, and those only once (co-signed,
or returned and re-queued by an addendum); a correction is an ``Addendum`` with its
own author, time and signature. ``save()`` refuses a change to a signed note's
content or to a recorded co-signature, and on PostgreSQL triggers
(``clinical/notes/lock.py``) refuse the same from any path (a queryset ``update()``,
the shell, raw SQL).
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

__all__ = [
    "Addendum",
    "Affect",
    "CosignStatus",
    "CurriculumTopic",
    "GroupNoteSection",
    "Intervention",
    "Modality",
    "NoteFormat",
    "NoteFormatDefault",
    "NoteKind",
    "NoteStatus",
    "Participation",
    "ProgressNote",
    "ProgressRating",
    "Risk",
    "SectionPlan",
    "SessionPlan",
    "SignWarning",
    "SignWarningKind",
    "SignedNoteLocked",
    "InterventionResponse",
    "is_late_entry",
    "late_entry_after",
]


def late_entry_after() -> timedelta:
    """How long after its service ends a note may be signed without being a late entry
    (``IOP_LATE_ENTRY_HOURS``, 72 by default)."""
    return timedelta(hours=settings.IOP_LATE_ENTRY_HOURS)


def is_late_entry(*, signed_at: datetime, service_ended: datetime) -> bool:
    """The one definition of a late entry: signed more than ``late_entry_after()`` after
    the session or appointment ended. Applied once, when the note is signed, into the
    locked ``late_entry`` column, which every page, list and report reads: the mark a
    note was signed with never changes afterwards, even if the setting does."""
    return signed_at - service_ended > late_entry_after()


class SignedNoteLocked(Exception):
    """A signed note's content, a signed note's section or an addendum was changed."""


class Modality(models.Model):
    """A treatment approach (CBT, DBT…); a DBT skill module is a child of DBT."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="modules"
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "modalities"

    def __str__(self):
        return f"{self.parent.name}: {self.name}" if self.parent_id else self.name


class CurriculumTopic(models.Model):
    """A psychoeducation topic of a track's curriculum, in teaching order.

    IOP 6 covers the topics first; IOP 3 returns to them in more depth."""

    track = models.ForeignKey(
        "scheduling.Track", on_delete=models.PROTECT, related_name="curriculum"
    )
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["track__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["track", "title"], name="one_topic_title_per_track"),
        ]

    def __str__(self):
        return f"{self.track.code.upper()} {self.order}. {self.title}"


class SessionPlan(models.Model):
    """What a group session will cover; the group note starts from it.

    Kept here rather than on scheduling's session: clinical depends on scheduling,
    never the reverse (docs/architecture.md)."""

    session = models.OneToOneField(
        "scheduling.GroupSession", on_delete=models.CASCADE, related_name="plan"
    )
    topic = models.ForeignKey(
        CurriculumTopic, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    modality = models.ForeignKey(
        Modality, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Plan of {self.session_id}"


class NoteKind(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual"
    FAMILY = "family", "Family"
    MEDICATION = "medication", "Medication management"
    CASE_MANAGEMENT = "case_management", "Case management"


class NoteFormat(models.TextChoices):
    DAP = "DAP", "DAP (data, assessment, plan)"
    BIRP = "BIRP", "BIRP (behaviour, intervention, response, plan)"
    SOAP = "SOAP", "SOAP (subjective, objective, assessment, plan)"


# The body sections of each format, before the plan (a column of its own, because the
# next note shows the last one). The response key is where the client's response to
# the session is written: what the completeness check looks for.
FORMAT_SECTIONS = {
    NoteFormat.DAP: [("data", "Data"), ("assessment", "Assessment (client's response)")],
    NoteFormat.BIRP: [
        ("behavior", "Behaviour"),
        ("intervention", "Intervention"),
        ("response", "Response"),
    ],
    NoteFormat.SOAP: [
        ("subjective", "Subjective"),
        ("objective", "Objective"),
        ("assessment", "Assessment (client's response)"),
    ],
}
RESPONSE_KEY = {
    NoteFormat.DAP: "assessment",
    NoteFormat.BIRP: "response",
    NoteFormat.SOAP: "assessment",
}
# The program's choice when no NoteFormatDefault row says otherwise.
DEFAULT_FORMATS = {
    NoteKind.GROUP: NoteFormat.BIRP,
    NoteKind.INDIVIDUAL: NoteFormat.DAP,
    NoteKind.FAMILY: NoteFormat.DAP,
    NoteKind.MEDICATION: NoteFormat.SOAP,
    NoteKind.CASE_MANAGEMENT: NoteFormat.DAP,
}


class NoteFormatDefault(models.Model):
    """The program's format for each kind of note (admin-editable)."""

    kind = models.CharField(max_length=20, choices=NoteKind.choices, unique=True)
    format = models.CharField(max_length=4, choices=NoteFormat.choices)

    def __str__(self):
        return f"{self.get_kind_display()}: {self.format}"

    @classmethod
    def for_kind(cls, kind: str) -> str:
        chosen = cls.objects.filter(kind=kind).values_list("format", flat=True).first()
        return chosen or DEFAULT_FORMATS[kind]


class Intervention(models.TextChoices):
    """Interventions a note names (payers ask which were used, not only the modality)."""

    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    COGNITIVE_RESTRUCTURING = "cognitive_restructuring", "Cognitive restructuring"
    MOTIVATIONAL_INTERVIEWING = "motivational_interviewing", "Motivational interviewing"
    SKILLS_TRAINING = "skills_training", "Skills training / rehearsal"
    ROLE_PLAY = "role_play", "Role play"
    PROCESS_FACILITATION = "process_facilitation", "Process facilitation"
    RELAPSE_PREVENTION = "relapse_prevention", "Relapse-prevention planning"
    MINDFULNESS = "mindfulness", "Mindfulness / grounding exercise"
    SAFETY_PLANNING = "safety_planning", "Safety planning"
    MEDICATION_REVIEW = "medication_review", "Medication review"
    CASE_COORDINATION = "case_coordination", "Case coordination / referral"
    FAMILY_SYSTEMS = "family_systems", "Family systems work"


_INTERVENTION_LABELS = dict(Intervention.choices)


class Risk(models.TextChoices):
    """The risk screen: blank means not screened yet (a payer rejects that)."""

    NONE = "none", "Denies SI and HI"
    SI = "si", "Suicidal ideation"
    HI = "hi", "Homicidal ideation"
    BOTH = "both", "Suicidal and homicidal ideation"


RISK_PRESENT = {Risk.SI, Risk.HI, Risk.BOTH}


# A group section's structured choices (issue 20): what a clinician clicks instead of
# typing. Each label reads as the end of a sentence ("Participation: active, ...").
# They are meant to repeat from client to client; what is individual is the section's
# own line (``response``), which the copied-text check compares.
class Participation(models.TextChoices):
    ACTIVE = "active", "active, contributed without prompting"
    APPROPRIATE = "appropriate", "appropriate, took part when invited"
    MINIMAL = "minimal", "minimal, present but said little"
    DISRUPTIVE = "disruptive", "disruptive, redirected during the session"


class Affect(models.TextChoices):
    EUTHYMIC = "euthymic", "euthymic / appropriate to content"
    ANXIOUS = "anxious", "anxious"
    DEPRESSED = "depressed", "depressed"
    IRRITABLE = "irritable", "irritable"
    FLAT = "flat", "flat / restricted"
    ELEVATED = "elevated", "elevated"


class InterventionResponse(models.TextChoices):
    RECEPTIVE = "receptive", "receptive and engaged"
    PRACTISING = "practising", "receptive; needs more practice with the skill"
    AMBIVALENT = "ambivalent", "ambivalent"
    RESISTANT = "resistant", "resistant"
    LIMITED = "limited", "limited understanding; needed redirection"


class ProgressRating(models.TextChoices):
    PROGRESSING = "progressing", "progressing"
    MAINTAINING = "maintaining", "maintaining"
    REGRESSING = "regressing", "regressing"
    NOT_ADDRESSED = "not_addressed", "not addressed this session"


class SectionPlan(models.TextChoices):
    CONTINUE = "continue", "continue IOP as planned"
    PRIMARY = "primary", "review with the primary clinician"
    INDIVIDUAL = "individual", "schedule an individual session"
    STEP_DOWN = "step_down", "assess readiness to step down"
    HIGHER = "higher", "assess for a higher level of care"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class CosignStatus(models.TextChoices):
    NOT_REQUIRED = "", "Not required"
    PENDING = "pending", "Waiting for co-signature"
    RETURNED = "returned", "Returned by the supervisor"
    COSIGNED = "cosigned", "Co-signed"


# The columns a signature locks. Everything else on the row is the co-signature's
# (and the bookkeeping of autosave), which may change after signing. The trigger is
# generated from this list, so a new content column is locked by adding it here.
CONTENT_COLUMNS = (
    "kind",
    "format",
    "author_id",
    "client_id",
    "session_id",
    "appointment_id",
    "modality_id",
    "topic_id",
    "interventions",
    "time_in",
    "time_out",
    "risk",
    "safety_plan_note",
    "narrative",
    "body",
    "plan",
    "status",
    "signed_at",
    "signed_by_id",
    "attestation",
    "late_entry",
    "cosign_required",
)
# The co-signature's columns: they change after signing, only along the transitions
# of clinical.notes.services (COSIGN_LOCK_SQL in lock.py states them), and never
# once the note is co-signed.
COSIGN_COLUMNS = (
    "cosign_status",
    "cosigned_at",
    "cosigned_by_id",
    "cosign_attestation",
    "returned_comment",
)


def service_start():
    """A note's date and time of service, in SQL: its session's or appointment's start.
    Lists of notes order by it (a note signed days later stays at its service's place)."""
    return Coalesce(F("session__starts_at"), F("appointment__starts_at"))


class ProgressNote(models.Model):
    """A progress note: of a group session (with a section per attending client) or
    of an appointment (individual, family, medication or case management)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=NoteKind.choices)
    format = models.CharField(max_length=4, choices=NoteFormat.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_notes"
    )
    # An appointment's note is its client's; a group note belongs to its session and
    # each section to one client.
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="progress_notes",
    )
    session = models.OneToOneField(
        "scheduling.GroupSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="group_note",
    )
    appointment = models.OneToOneField(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="note",
    )
    modality = models.ForeignKey(
        Modality, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    topic = models.ForeignKey(
        CurriculumTopic, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    interventions = models.JSONField(default=list, blank=True)
    time_in = models.TimeField(null=True, blank=True)
    time_out = models.TimeField(null=True, blank=True)
    # Individual notes screen the client here; a group note screens each client in
    # their section.
    risk = models.CharField(max_length=4, choices=Risk.choices, blank=True)
    safety_plan_note = models.TextField(blank=True)
    # The group narrative (topic, what the group did); unused by appointment notes.
    narrative = models.TextField(blank=True)
    # The format's sections (FORMAT_SECTIONS), key -> text.
    body = models.JSONField(default=dict, blank=True)
    plan = models.TextField(blank=True)

    status = models.CharField(
        max_length=6, choices=NoteStatus.choices, default=NoteStatus.DRAFT, db_index=True
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    attestation = models.TextField(blank=True)
    # is_late_entry() at signing: signed more than IOP_LATE_ENTRY_HOURS after the
    # session or appointment ended.
    late_entry = models.BooleanField(default=False)
    cosign_required = models.BooleanField(default=False)

    # Co-signature: decided after signing, once (COSIGN_COLUMNS, not CONTENT_COLUMNS).
    cosign_status = models.CharField(
        max_length=8, choices=CosignStatus.choices, blank=True, db_index=True
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cosign_attestation = models.TextField(blank=True)
    returned_comment = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    saved_at = models.DateTimeField(auto_now=True)
    # When the last note.autosave audit row was written (autosaves are audited at
    # most once per AUTOSAVE_AUDIT_MINUTES per note).
    autosave_audited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A group note has a session and no single client; an appointment's note
            # has the appointment and its client.
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="group",
                        session__isnull=False,
                        appointment__isnull=True,
                        client__isnull=True,
                    )
                    | (
                        ~Q(kind="group")
                        & Q(session__isnull=True, appointment__isnull=False, client__isnull=False)
                    )
                ),
                name="note_belongs_to_session_or_appointment",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="signed_note_has_signature",
            ),
            models.CheckConstraint(
                condition=Q(time_in__isnull=True)
                | Q(time_out__isnull=True)
                | Q(time_out__gt=models.F("time_in")),
                name="note_time_out_after_time_in",
            ),
        ]
        indexes = [models.Index(fields=["client", "-signed_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} note ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs):
        # A signed note changes only in its co-signature columns.
        if getattr(self, "_loaded_status", None) == NoteStatus.SIGNED:
            update_fields = kwargs.get("update_fields")
            changed = {
                self._meta.get_field(name).attname
                for name in (update_fields or [f.name for f in self._meta.concrete_fields])
            }
            if changed & set(CONTENT_COLUMNS):
                raise SignedNoteLocked("A signed note cannot change; add an addendum.")
            if (
                getattr(self, "_loaded_cosign_status", None) == CosignStatus.COSIGNED
                and changed & set(COSIGN_COLUMNS)
                and any(getattr(self, c) != self._loaded_cosign[c] for c in COSIGN_COLUMNS)
            ):
                raise SignedNoteLocked("A co-signed note's co-signature cannot change.")
        super().save(*args, **kwargs)
        self._remember_loaded()

    def delete(self, *args, **kwargs):
        if self.status == NoteStatus.SIGNED:
            raise SignedNoteLocked("A signed note cannot be deleted.")
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_loaded()
        return instance

    def _remember_loaded(self) -> None:
        self._loaded_status = self.__dict__.get("status")
        self._loaded_cosign_status = self.__dict__.get("cosign_status")
        self._loaded_cosign = {c: self.__dict__.get(c) for c in COSIGN_COLUMNS}

    @property
    def service_start(self) -> datetime:
        """When the session or appointment the note records began (the date of service,
        shown first wherever the note is listed)."""
        return self.session.starts_at if self.session_id else self.appointment.starts_at

    @property
    def service_end(self) -> datetime:
        return self.session.ends_at if self.session_id else self.appointment.ends_at

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    @property
    def is_group(self) -> bool:
        return self.kind == NoteKind.GROUP

    def body_sections(self) -> list[tuple[str, str, str]]:
        """(key, label, text) of the format's sections, in order."""
        return [(k, label, self.body.get(k, "")) for k, label in FORMAT_SECTIONS[self.format]]

    def narrative_addenda(self) -> list["Addendum"]:
        """The addenda to the note as a whole: an appointment note's, or a group note's
        narrative's (every attending client's chart shows them). A section's addenda are
        shown with the section (``GroupNoteSection.own_addenda``). Read from the addenda
        the page prefetched, so a page filters them once, in its query."""
        return [a for a in self.addenda.all() if a.section_id is None]

    def intervention_labels(self) -> list[str]:
        # The chart shows 20 notes: building the choices (an enum walk) once per note
        # cost more than the rest of the note's rendering.
        return [_INTERVENTION_LABELS.get(code, code) for code in self.interventions]


# The columns the structured choices fill; a section with none of them was written as
# text only (before issue 20) and reads as it did.
STRUCTURED_COLUMNS = (
    "participation_level",
    "affect",
    "intervention_response",
    "objective_plan_id",
    "progress_rating",
    "plan_choice",
)


class GroupNoteSection(models.Model):
    """One attending client's part of a group note. A client's chart shows the group
    narrative and this section only, never another client's (42 CFR 2.13: each
    client's record discloses nothing about the others in the room)."""

    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="sections")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="group_note_sections"
    )
    # Free text. Since issue 20 the form asks only for ``response`` (the client's own
    # words or what they did: the individual content) and the safety-plan note; the
    # other three are what notes written before it hold, kept and still shown.
    participation = models.TextField(blank=True)
    response = models.TextField(blank=True)
    progress = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    risk = models.CharField(max_length=4, choices=Risk.choices, blank=True)
    safety_plan_note = models.TextField(blank=True)
    # The structured choices (blank: not chosen yet, or a note from before them).
    participation_level = models.CharField(max_length=12, choices=Participation.choices, blank=True)
    affect = models.CharField(max_length=12, choices=Affect.choices, blank=True)
    intervention_response = models.CharField(
        max_length=12, choices=InterventionResponse.choices, blank=True
    )
    # Progress toward one objective of the client's treatment plan in force: the plan
    # version (immutable, so the reference stays true after a review) and the
    # objective's place in it (``TreatmentPlanVersion.objectives()``).
    objective_plan = models.ForeignKey(
        "clinical.TreatmentPlanVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    objective_index = models.PositiveSmallIntegerField(null=True, blank=True)
    progress_rating = models.CharField(max_length=14, choices=ProgressRating.choices, blank=True)
    plan_choice = models.CharField(max_length=12, choices=SectionPlan.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["note", "client"], name="one_section_per_client"),
            models.CheckConstraint(
                condition=Q(objective_plan__isnull=True, objective_index__isnull=True)
                | Q(objective_plan__isnull=False, objective_index__isnull=False),
                name="section_objective_plan_and_index",
            ),
        ]
        indexes = [models.Index(fields=["client", "note"])]

    def __str__(self):
        return f"Section of note {self.note_id}"

    def save(self, *args, **kwargs):
        if ProgressNote.objects.filter(pk=self.note_id, status=NoteStatus.SIGNED).exists():
            raise SignedNoteLocked("A signed group note's sections cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if ProgressNote.objects.filter(pk=self.note_id, status=NoteStatus.SIGNED).exists():
            raise SignedNoteLocked("A signed group note's sections cannot change.")
        return super().delete(*args, **kwargs)

    @property
    def is_structured(self) -> bool:
        """Written with the structured choices (issue 20), not only free text."""
        return any(getattr(self, name) for name in STRUCTURED_COLUMNS)

    def objective_text(self) -> str:
        """The chosen objective's words, read from the plan version it belongs to (the
        page loads the version with the section)."""
        if self.objective_plan_id is None or self.objective_index is None:
            return ""
        objectives = self.objective_plan.objectives()
        if self.objective_index >= len(objectives):
            return ""
        return objectives[self.objective_index].get("text", "")

    def statements(self) -> list[tuple[str, str]]:
        """The section as (label, words) sentences, in the order the form asks them:
        each choice as a plain sentence, then the text of a note written before the
        choices. The session's topic and modality come from the note when the page
        shows it (never copied into the section)."""
        lines = []
        if self.participation_level:
            lines.append(("Participation", self.get_participation_level_display()))
        if self.participation:
            lines.append(
                ("Participation" if not lines else "Participation (text)", self.participation)
            )
        if self.affect:
            lines.append(("Affect", self.get_affect_display()))
        if self.intervention_response:
            lines.append((self.intervention_label(), self.get_intervention_response_display()))
        if self.response:
            lines.append(("In the client's words / what they said or did", self.response))
        objective = self.objective_text()
        if objective or self.progress_rating:
            target = f"Progress toward \u201c{objective}\u201d" if objective else "Progress"
            lines.append((target, self.get_progress_rating_display() or "not rated"))
        if self.progress:
            lines.append(("Progress toward goals", self.progress))
        if self.plan_choice:
            lines.append(("Plan", self.get_plan_choice_display()))
        if self.plan:
            lines.append(("Plan" if not self.plan_choice else "Plan (text)", self.plan))
        return lines

    def intervention_label(self) -> str:
        """ "Response to the session's intervention (topic, modality)", from the note."""
        note = self.note
        context = [note.topic.title if note.topic_id else "", str(note.modality or "")]
        named = ", ".join(part for part in context if part)
        return f"Response to the session's intervention{f' ({named})' if named else ''}"

    def own_addenda(self) -> list["Addendum"]:
        """The addenda to this client's section, from the note's prefetched addenda (a
        section loaded through its note has the note cached: no query of its own)."""
        return [a for a in self.note.addenda.all() if a.section_id == self.pk]


class Addendum(models.Model):
    """A correction or late addition to a signed note: written and signed at once,
    never edited (the trigger refuses UPDATE and DELETE).

    A group note's addendum adds to the group narrative (``section`` empty: every
    attending client's chart shows it) or to one client's section (that client's chart
    only, like the section itself: 42 CFR 2.13). An appointment's note has no sections:
    its addenda add to the note."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="addenda")
    # A section of ``note`` (the service checks it; on PostgreSQL a trigger, see
    # clinical/notes/lock.py ADDENDUM_SECTION_SQL).
    section = models.ForeignKey(
        GroupNoteSection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addenda",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    signed_at = models.DateTimeField()
    attestation = models.TextField()

    class Meta:
        ordering = ["signed_at"]
        verbose_name_plural = "addenda"

    def __str__(self):
        return f"Addendum {self.public_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise SignedNoteLocked("An addendum is signed when written and cannot change.")
        if self.section_id is not None and self.section.note_id != self.note_id:
            raise IntegrityError("An addendum's section is a section of its own note.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SignedNoteLocked("An addendum cannot be deleted.")


class SignWarningKind(models.TextChoices):
    """The warnings checked before signing (clinical/notes/checks.py)."""

    COPIED_TEXT = "copied_text", "Same text in several sections"
    COPIED_EARLIER = "copied_earlier", "Text repeats the client's earlier note"
    NAME_HIT = "name_hit", "Another member's name"


class SignWarning(models.Model):
    """A warning its author acknowledged when signing a note (clinical/notes/checks.py):
    written with the signature, in the same transaction, and never changed (on
    PostgreSQL a trigger refuses UPDATE and DELETE, and an insert for a note not
    signed by the acknowledging author). Codes and counts only: never the text, never
    a name, so the documentation report can count notes signed over copied text."""

    note = models.ForeignKey(ProgressNote, on_delete=models.PROTECT, related_name="sign_warnings")
    kind = models.CharField(max_length=20, choices=SignWarningKind.choices)
    # The field warned about (a section's "response", the "narrative"...).
    field = models.CharField(max_length=40)
    # How many sections or places the warning named.
    places = models.PositiveSmallIntegerField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["note", "kind"])]

    def __str__(self):
        return f"{self.kind}:{self.field} on note {self.note_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise SignedNoteLocked("An acknowledged warning is part of the signature.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SignedNoteLocked("An acknowledged warning is part of the signature.")
