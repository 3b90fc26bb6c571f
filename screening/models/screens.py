"""Urine screens with per-analyte results, breath-alcohol tests, and the follow-up
items an unexpected result opens for the primary clinician.

Every row belongs to one client and is loaded in views only through
``clients.access.owned_view`` by its ``public_id``. The overall ``outcome`` is stored
(for lists and statistics) and always written by ``screening.services`` from the
rules in ``screening.rules``.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from iop import when
from screening import rules
from screening.rules import AnalyteOutcome, Confirmation, Outcome, Validity

__all__ = ["AnalyteResult", "BreathTest", "FollowUpReason", "OrderKind", "ScreenFollowUp",
           "UrineScreen", "UrineStatus"]  # fmt: skip


class OrderKind(models.TextChoices):
    RANDOM = "random", "Random"
    SCHEDULED = "scheduled", "Scheduled"
    FOR_CAUSE = "for_cause", "For cause"


class UrineStatus(models.TextChoices):
    COLLECTED = "collected", "Collected"
    NO_SHOW = "no_show", "No-show"
    REFUSED = "refused", "Refused"


OUTCOME_CHOICES = Outcome.CHOICES


class UrineScreenQuerySet(models.QuerySet):
    def for_history(self):
        return self.select_related("collector", "panel").prefetch_related("results__analyte")


class UrineScreen(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="urine_screens"
    )
    order_kind = models.CharField(max_length=10, choices=OrderKind.choices)
    cause = models.CharField("reason for cause", max_length=200, blank=True)
    selection = models.OneToOneField(
        "screening.RandomSelection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="screen",
    )
    status = models.CharField(max_length=10, choices=UrineStatus.choices)
    # When the specimen was collected (or, for a no-show or refusal, when it was due).
    collected_at = models.DateTimeField()
    # Nobody collects a no-show closed by the daily task.
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    observed = models.BooleanField("observed collection", default=False)
    temperature_c = models.DecimalField(
        "temperature, °C", max_digits=3, decimal_places=1, null=True, blank=True
    )
    temperature_read_in_time = models.BooleanField("read within 4 minutes", default=True)
    tampering_suspected = models.BooleanField(default=False)
    # The chain-of-custody form number, printed on the specimen's label.
    specimen_id = models.CharField("specimen / chain-of-custody id", max_length=40, blank=True)
    panel = models.ForeignKey(
        "screening.Panel", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    creatinine_mg_dl = models.DecimalField(
        "creatinine, mg/dL", max_digits=6, decimal_places=1, null=True, blank=True
    )
    specific_gravity = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    # The other validity tests a lab or a point-of-care cup reports (HHS 2017 s. 3.8;
    # 49 CFR 40.87): optional, blank where not tested.
    ph = models.DecimalField("pH", max_digits=4, decimal_places=2, null=True, blank=True)
    nitrite_ug_ml = models.DecimalField(
        "nitrite, µg/mL", max_digits=8, decimal_places=1, null=True, blank=True
    )
    oxidant = models.BooleanField("oxidant detected", null=True, blank=True)
    invalid_reason = models.CharField(
        "lab's invalid reason",
        max_length=30,
        choices=rules.InvalidReason.CHOICES,
        blank=True,
        default="",
    )
    validity = models.CharField(max_length=12, default=Validity.NOT_TESTED)
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, default=Outcome.PENDING)
    results_at = models.DateTimeField(null=True, blank=True)
    results_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UrineScreenQuerySet.as_manager()

    class Meta:
        ordering = ["-collected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["specimen_id"], condition=~Q(specimen_id=""), name="one_specimen_id"
            ),
            models.CheckConstraint(
                condition=~Q(status="collected")
                | (Q(panel__isnull=False, collector__isnull=False) & ~Q(specimen_id="")),
                name="collected_screen_has_panel_and_specimen",
            ),
            models.CheckConstraint(
                condition=Q(temperature_c__isnull=True)
                | Q(
                    temperature_c__gte=rules.TEMPERATURE_PHYSICAL[0],
                    temperature_c__lte=rules.TEMPERATURE_PHYSICAL[1],
                ),
                name="urine_temperature_physical",
            ),
            models.CheckConstraint(
                condition=~Q(order_kind="for_cause") | ~Q(cause=""),
                name="for_cause_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["client", "collected_at"])]

    def __str__(self):
        return f"Urine screen {when.moment(self.collected_at)}"

    @property
    def outcome_label(self) -> str:
        return Outcome.LABELS.get(self.outcome, self.outcome)

    @property
    def temperature_f(self):
        """The stored °C reading in °F, for a clinic that reads in °F."""
        return None if self.temperature_c is None else rules.to_fahrenheit(self.temperature_c)

    @property
    def temperature_ok(self) -> bool:
        return rules.temperature_in_range(self.temperature_c, self.temperature_read_in_time)

    def assessment(self) -> rules.SpecimenAssessment:
        return rules.assess_specimen(
            self.creatinine_mg_dl,
            self.specific_gravity,
            ph=self.ph,
            nitrite=self.nitrite_ug_ml,
            oxidant=self.oxidant,
            invalid_reason=self.invalid_reason,
        )

    @property
    def validity_label(self) -> str:
        return Validity.LABELS.get(self.validity, self.validity)

    @property
    def validity_findings(self) -> str:
        return "; ".join(self.assessment().reasons)

    @property
    def needs_observed_next(self) -> bool:
        """This collection makes the client's next one observed (an invalid analyte
        too, beside a positive: 49 CFR 40.67(a)(1)). For one screen's page."""
        return self.status == UrineStatus.COLLECTED and (
            not self.temperature_ok
            or self.tampering_suspected
            or self.validity in Validity.OBSERVE_NEXT
            or self.outcome in (Outcome.INVALID, Outcome.ADULTERATED)
            or self.results.filter(outcome=AnalyteOutcome.INVALID).exists()
        )


class AnalyteResult(models.Model):
    screen = models.ForeignKey(UrineScreen, on_delete=models.PROTECT, related_name="results")
    analyte = models.ForeignKey("screening.Analyte", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=AnalyteOutcome.CHOICES)
    value = models.DecimalField(
        "measured, ng/mL", max_digits=10, decimal_places=1, null=True, blank=True
    )
    # The cutoffs in force when the result was recorded (the panel may change later).
    cutoff = models.DecimalField(max_digits=8, decimal_places=1)
    confirm_cutoff = models.DecimalField(max_digits=8, decimal_places=1, null=True, blank=True)
    # The per-analyte confirmatory cutoffs in force (``Analyte.confirm_cutoffs``), and
    # the analyte of the group the lab confirmed (codeine or morphine).
    confirm_cutoffs = models.JSONField(default=dict, blank=True)
    confirmed_analyte = models.CharField(max_length=40, blank=True)
    # An active medication of the client made this analyte expected on the day.
    expected = models.BooleanField(default=False)
    alcohol_marker = models.BooleanField(default=False)
    confirmation = models.CharField(
        max_length=20, choices=Confirmation.CHOICES, blank=True, default=Confirmation.NONE
    )
    confirmed_value = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    confirmation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["analyte__order", "analyte__name"]
        constraints = [
            models.UniqueConstraint(fields=["screen", "analyte"], name="one_result_per_analyte"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="result_value_positive"
            ),
            models.CheckConstraint(
                condition=Q(confirmation="") | Q(outcome="positive"),
                name="only_positives_are_confirmed",
            ),
        ]

    def __str__(self):
        return f"{self.analyte}: {self.get_outcome_display()}"

    def reading(self) -> rules.AnalyteReading:
        return rules.AnalyteReading(
            code=self.analyte.code,
            outcome=self.outcome,
            expected=self.expected,
            alcohol_marker=self.alcohol_marker,
            confirmation=self.confirmation,
        )

    @property
    def is_positive(self) -> bool:
        return rules.reading_is_positive(self.reading())

    @property
    def unexpected(self) -> bool:
        return self.is_positive and not self.expected


class BreathTest(models.Model):
    """A breath-alcohol screen and, at 0.020 or more, its confirmation test."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="breath_tests"
    )
    tested_at = models.DateTimeField()
    bac = models.DecimalField("BAC, g/210 L", max_digits=4, decimal_places=3)
    device = models.CharField(max_length=80)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirm_at = models.DateTimeField(null=True, blank=True)
    confirm_bac = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    confirm_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=OUTCOME_CHOICES, default=Outcome.NEGATIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bac__gte=rules.BAC_RANGE[0], bac__lte=rules.BAC_RANGE[1]),
                name="breath_bac_range",
            ),
            models.CheckConstraint(
                condition=Q(confirm_bac__isnull=True)
                | Q(confirm_bac__gte=rules.BAC_RANGE[0], confirm_bac__lte=rules.BAC_RANGE[1]),
                name="breath_confirm_bac_range",
            ),
            # 49 CFR 40.251: the confirmation follows the screen by 15 minutes at least.
            models.CheckConstraint(
                condition=Q(confirm_at__isnull=True)
                | Q(
                    confirm_at__gte=F("tested_at") + timedelta(minutes=15),
                    confirm_at__lte=F("tested_at") + timedelta(minutes=30),
                ),
                name="breath_confirmation_window",
            ),
            models.CheckConstraint(
                condition=Q(confirm_at__isnull=True, confirm_bac__isnull=True)
                | Q(confirm_at__isnull=False, confirm_bac__isnull=False),
                name="breath_confirmation_complete",
            ),
        ]
        indexes = [models.Index(fields=["client", "tested_at"])]

    def __str__(self):
        return f"Breath test {when.moment(self.tested_at)}"

    @property
    def outcome_label(self) -> str:
        return Outcome.LABELS.get(self.outcome, self.outcome)

    @property
    def needs_confirmation(self) -> bool:
        return self.bac >= rules.BAC_POSITIVE and self.confirm_bac is None

    @property
    def confirm_window(self):
        low, high = rules.CONFIRM_AFTER_MINUTES
        return self.tested_at + timedelta(minutes=low), self.tested_at + timedelta(minutes=high)


class FollowUpReason(models.TextChoices):
    UNEXPECTED_POSITIVE = "unexpected_positive", "Unexpected positive"
    NEEDS_REVIEW = "needs_review", "EtG/EtS alone: clinical review"
    DILUTE = "dilute", "Dilute specimen"
    SUBSTITUTED = "substituted", "Substituted specimen"
    ADULTERATED = "adulterated", "Adulterated specimen"
    INVALID = "invalid", "Invalid specimen or result"
    TEMPERATURE = "temperature", "Temperature out of range: observed recollection"
    MAT_ABSENT = "mat_absent", "MAT medication not detected"
    MAT_NO_METABOLITE = "mat_no_metabolite", "MAT parent drug without its metabolite"
    MISSED_RANDOM = "missed_random", "Missed random test"
    REFUSED = "refused", "Refused a test"


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(acknowledged_at__isnull=True)


class ScreenFollowUp(models.Model):
    """Something the primary clinician must see and answer with a note.

    One per (source, reason): the unique constraints make creating it idempotent, so a
    result recorded twice or a task run twice opens one item.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="screen_follow_ups"
    )
    reason = models.CharField(max_length=24, choices=FollowUpReason.choices)
    urine_screen = models.ForeignKey(
        UrineScreen, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    breath_test = models.ForeignKey(
        BreathTest, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    # The day the result or the missed test happened (for lists and order).
    occurred_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["urine_screen", "reason"],
                condition=Q(urine_screen__isnull=False),
                name="one_follow_up_per_screen_reason",
            ),
            models.UniqueConstraint(
                fields=["breath_test", "reason"],
                condition=Q(breath_test__isnull=False),
                name="one_follow_up_per_breath_reason",
            ),
            models.CheckConstraint(
                condition=Q(urine_screen__isnull=False) | Q(breath_test__isnull=False),
                name="follow_up_has_a_source",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(note=""),
                name="follow_up_acknowledged_with_note",
            ),
        ]
        indexes = [
            models.Index(
                fields=["client"],
                condition=Q(acknowledged_at__isnull=True),
                name="follow_up_open_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_reason_display()} of {when.day(self.occurred_on)}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def kind_label(self) -> str:
        """What the follow-up is about, said without a result: shown to whoever sees
        the follow-up at all."""
        if self.reason == FollowUpReason.MISSED_RANDOM:
            return "Missed random test"
        if self.reason == FollowUpReason.REFUSED:
            return "Refused test"
        return "Urine screen" if self.urine_screen_id else "Breath test"

    def findings(self) -> str:
        """The result behind it, for pages behind CLINICAL only: a urine screen's
        unexpected positives (or every positive, for an EtG/EtS review) with their
        values, a breath test's BAC (the confirmation governs). Reads the screen's
        results: prefetch ``urine_screen__results__analyte`` for a list."""
        if self.reason in (FollowUpReason.MISSED_RANDOM, FollowUpReason.REFUSED):
            return ""
        if self.breath_test_id:
            test = self.breath_test
            if test.confirm_bac is not None:
                return f"BAC {test.confirm_bac} on confirmation"
            return f"BAC {test.bac}"
        screen = self.urine_screen
        if self.reason in (FollowUpReason.MAT_ABSENT, FollowUpReason.MAT_NO_METABOLITE):
            # The MAT medications are the ones the results were recorded as expected.
            results = list(screen.results.all())
            agents = {
                agent
                for agent, pair in rules.MAT_PAIRS.items()
                if any(r.expected and r.analyte.code in pair for r in results)
            }
            readings = [r.reading() for r in results]
            return "; ".join(
                words for kind, words in rules.mat_findings(agents, readings) if kind == self.reason
            )
        if self.reason == FollowUpReason.TEMPERATURE:
            if screen.temperature_c is None or not screen.temperature_read_in_time:
                return "temperature not read within 4 minutes"
            return f"{screen.temperature_c} °C ({screen.temperature_f} °F)"
        if self.reason in (
            FollowUpReason.DILUTE,
            FollowUpReason.SUBSTITUTED,
            FollowUpReason.ADULTERATED,
            FollowUpReason.INVALID,
        ):
            shown = list(screen.assessment().reasons)
            if self.reason == FollowUpReason.INVALID:
                shown += [
                    f"{r.analyte.name} invalid"
                    for r in screen.results.all()
                    if r.outcome == AnalyteOutcome.INVALID
                ]
            return "; ".join(shown)
        shown = []
        for result in screen.results.all():
            wanted = (
                result.unexpected
                if self.reason == FollowUpReason.UNEXPECTED_POSITIVE
                else (result.is_positive and result.alcohol_marker)
            )
            if wanted:
                value = (
                    result.confirmed_value if result.confirmed_value is not None else result.value
                )
                shown.append(
                    f"{result.analyte.name} {value} ng/mL"
                    if value is not None
                    else result.analyte.name
                )
        return ", ".join(sorted(shown))
