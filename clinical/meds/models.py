"""Medication records (not prescribing) and outcome measures (PHQ-9, GAD-7, BAM).

A medication says which screen analytes it makes expected, so that a positive for a
prescribed medication (buprenorphine for a MAT client) reads as expected, not as a
violation; ``clinical.meds.selectors.expected_analytes`` answers that for the screening
app. A measure keeps its item answers and the scores computed from them by
``clinical.meds.measures`` when it was recorded.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from iop import when

__all__ = [
    "Analyte",
    "MAT_ANALYTES",
    "MatAgent",
    "Measure",
    "MeasureQuerySet",
    "Medication",
    "MedicationQuerySet",
    "Instrument",
    "FollowUp",
]


class MatAgent(models.TextChoices):
    """Medications for addiction treatment (MAT) the program records."""

    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    METHADONE = "methadone", "Methadone"
    NALTREXONE = "naltrexone", "Naltrexone"
    ACAMPROSATE = "acamprosate", "Acamprosate"


class Analyte(models.TextChoices):
    """Screen analyte codes a prescription can make expected (shared with screening)."""

    BUPRENORPHINE = "buprenorphine", "Buprenorphine"
    NORBUPRENORPHINE = "norbuprenorphine", "Norbuprenorphine"
    METHADONE = "methadone", "Methadone"
    EDDP = "eddp", "EDDP (methadone metabolite)"
    OPIATES = "opiates", "Opiates"
    OXYCODONE = "oxycodone", "Oxycodone"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    AMPHETAMINES = "amphetamines", "Amphetamines"
    BARBITURATES = "barbiturates", "Barbiturates"
    GABAPENTIN = "gabapentin", "Gabapentin"


# What each MAT agent makes expected on a urine screen: buprenorphine and its
# metabolite; methadone and its metabolite EDDP; naltrexone and acamprosate are not
# on a standard panel and make nothing expected.
MAT_ANALYTES: dict[str, tuple[str, ...]] = {
    MatAgent.BUPRENORPHINE: (Analyte.BUPRENORPHINE, Analyte.NORBUPRENORPHINE),
    MatAgent.METHADONE: (Analyte.METHADONE, Analyte.EDDP),
    MatAgent.NALTREXONE: (),
    MatAgent.ACAMPROSATE: (),
}


class MedicationQuerySet(models.QuerySet):
    def active_on(self, day) -> "MedicationQuerySet":
        """Taken on ``day``: started by then and not ended before it (the end day counts)."""
        return self.filter(started_on__lte=day).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=day)
        )


class Medication(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="medications"
    )
    name = models.CharField("medication", max_length=120)
    dose = models.CharField(max_length=60, help_text="e.g. 8 mg/2 mg film")
    schedule = models.CharField(max_length=80, help_text="e.g. once daily, sublingual")
    mat_agent = models.CharField(
        "MAT medication", max_length=20, choices=MatAgent.choices, blank=True
    )
    is_mat = models.BooleanField("MAT", default=False)
    # Screen analyte codes (Analyte values) this medication makes expected.
    expected_analytes = models.JSONField(default=list, blank=True)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Medical staff of the program.",
    )
    outside_prescriber = models.CharField(
        max_length=120, blank=True, help_text="A prescriber outside the program."
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = MedicationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="medication_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(prescriber__isnull=False) | ~Q(outside_prescriber=""),
                name="medication_has_prescriber",
            ),
        ]
        indexes = [models.Index(fields=["client", "started_on"])]

    def __str__(self):
        return f"{self.name} {self.dose}"

    @property
    def prescriber_display(self) -> str:
        return str(self.prescriber) if self.prescriber_id else self.outside_prescriber

    def expected_analyte_labels(self) -> list[str]:
        labels = dict(Analyte.choices)
        return [labels.get(code, code) for code in self.expected_analytes]


class Instrument(models.TextChoices):
    PHQ9 = "phq9", "PHQ-9"
    GAD7 = "gad7", "GAD-7"
    BAM = "bam", "BAM"


class FollowUp(models.TextChoices):
    """What the clinician did about a safety flag (a code, never words about the client)."""

    ASSESSED = "assessed", "Risk assessed: no imminent risk"
    SAFETY_PLAN = "safety_plan", "Safety plan reviewed with the client"
    REFERRED = "referred", "Referred to a higher level of care or crisis service"
    EMERGENCY = "emergency", "Emergency services contacted"


class MeasureQuerySet(models.QuerySet):
    def flags_open(self) -> "MeasureQuerySet":
        return self.filter(safety_flag=True, flag_acknowledged_at__isnull=True)


class Measure(models.Model):
    """One administration of an outcome measure, entered item by item."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="measures")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    administered_on = models.DateField()
    # Item code -> answer (0-3 for PHQ-9 and GAD-7, 0-4 for the BAM).
    items = models.JSONField()
    # PHQ-9 and GAD-7 total; None for the BAM, which has no total score.
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    # BAM: {"use": n, "risk": n, "protective": n}; empty for the others.
    subscores = models.JSONField(default=dict, blank=True)
    band = models.CharField(max_length=30)
    # PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0.
    safety_flag = models.BooleanField(default=False)
    flag_acknowledged_at = models.DateTimeField(null=True, blank=True)
    flag_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flag_follow_up = models.CharField(max_length=20, choices=FollowUp.choices, blank=True)
    # The staff member who entered it; empty when the client answered it in the portal
    # (``by_client``), answering the ``assignment`` a clinician made.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    by_client = models.BooleanField(default=False)
    assignment = models.ForeignKey(
        "clinical.MeasureAssignment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["administered_on", "id"]
        indexes = [
            models.Index(fields=["client", "instrument", "administered_on"]),
            models.Index(
                fields=["client"],
                condition=Q(safety_flag=True, flag_acknowledged_at__isnull=True),
                name="measure_open_flag_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(by_client=True, recorded_by__isnull=True)
                | Q(by_client=False, recorded_by__isnull=False),
                name="measure_recorded_by_staff_or_client",
            ),
        ]

    def __str__(self):
        return f"{self.get_instrument_display()} {when.day(self.administered_on)}"

    @property
    def flag_open(self) -> bool:
        return self.safety_flag and self.flag_acknowledged_at is None


class MeasureAssignmentQuerySet(models.QuerySet):
    def active(self) -> "MeasureAssignmentQuerySet":
        return self.filter(ended_at__isnull=True)


class MeasureAssignment(models.Model):
    """A measure a clinician asks the client to answer in the portal: once, or every
    ``every_days`` days (the portal shows it due from ``next_due_on``)."""

    ONCE = None
    REPEAT_DAYS = 14

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="measure_assignments"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    every_days = models.PositiveSmallIntegerField(null=True, blank=True)
    next_due_on = models.DateField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    # Ended by the clinician, or (a one-off) answered.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = MeasureAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["next_due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "instrument"],
                condition=Q(ended_at__isnull=True),
                name="measure_assignment_one_active",
            ),
            models.CheckConstraint(
                condition=Q(every_days__isnull=True) | Q(every_days__gte=1),
                name="measure_assignment_every_positive",
            ),
        ]

    def __str__(self):
        return f"{self.get_instrument_display()} assigned"

    @property
    def schedule_label(self) -> str:
        return f"every {self.every_days} days" if self.every_days else "once"
