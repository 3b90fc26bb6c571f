"""Analytes with their cutoffs, panels, and the program's testing policies.

Configuration, edited by program admins in the admin site; a result copies the
cutoffs in force when it is recorded, so a later edit never rewrites an old result.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from screening import rules

__all__ = ["Analyte", "Panel", "ProgramPolicy", "TestingPolicy"]


class Analyte(models.Model):
    """One substance or metabolite a lab reports. ``code`` matches the codes of
    ``clinical.meds.models.Analyte`` where a medication can make it expected."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80)
    initial_cutoff = models.DecimalField(
        "initial (immunoassay) cutoff, ng/mL",
        max_digits=8,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    confirm_cutoff = models.DecimalField(
        "confirmatory cutoff, ng/mL",
        max_digits=8,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text="Blank where the lab sets it. For a group (codeine/morphine) the lowest "
        "of the per-analyte cutoffs below.",
    )
    # Where the reference gives a confirmatory cutoff per analyte of a group (the 2025
    # HHS urine panel: codeine 2,000 and morphine 4,000 ng/mL under one codeine/morphine
    # immunoassay): {"codeine": "2000", "morphine": "4000"}, ng/mL.
    confirm_cutoffs = models.JSONField(
        "confirmatory cutoffs per analyte, ng/mL",
        default=dict,
        blank=True,
        help_text='e.g. {"codeine": 2000, "morphine": 4000}; empty where one value serves.',
    )
    reference = models.CharField(
        "source and edition",
        max_length=160,
        blank=True,
        help_text="Where these cutoffs come from, e.g. HHS urine panel, 90 FR 4662 (2025).",
    )
    # EtG and EtS: alone they call for clinical review, never an automatic violation.
    alcohol_marker = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_cutoff__gt=0), name="analyte_cutoff_positive"
            ),
            models.CheckConstraint(
                condition=Q(confirm_cutoff__isnull=True) | Q(confirm_cutoff__gt=0),
                name="analyte_confirm_cutoff_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        problem = confirm_cutoffs_problem(self.confirm_cutoffs)
        if problem:
            raise ValidationError({"confirm_cutoffs": problem})

    def confirm_cutoff_for(self, name: str = ""):
        """The confirmatory cutoff of one analyte of the group, or the group's."""
        if name and name in (self.confirm_cutoffs or {}):
            return Decimal(str(self.confirm_cutoffs[name]))
        return self.confirm_cutoff

    @property
    def confirm_cutoffs_display(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in (self.confirm_cutoffs or {}).items())


def confirm_cutoffs_problem(value) -> str | None:
    """The message for per-analyte cutoffs that are not {name: a positive number}."""
    if not isinstance(value, dict):
        return 'Give the cutoffs as {"analyte": ng/mL, ...}.'
    for name, cutoff in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 40:
            return "Name each analyte (up to 40 characters)."
        try:
            number = Decimal(str(cutoff))
        except (ArithmeticError, ValueError):
            return f"The cutoff for {name[:40]} is not a number."
        if not number.is_finite() or number <= 0 or number > 1_000_000:
            return f"The cutoff for {name[:40]} must be above 0 ng/mL."
    return None


class Panel(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80)
    analytes = models.ManyToManyField(Analyte, related_name="panels")
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Preselected on the form.")
    edition = models.CharField(
        "reference and edition",
        max_length=200,
        blank=True,
        help_text="The published panel its cutoffs follow, e.g. HHS urine panel, 90 FR 4662 "
        "(2025).",
    )

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_panel"
            )
        ]

    def __str__(self):
        return self.name


class TestingPolicy(models.Model):
    """How often a track's clients are drawn for a random screen (e.g. IOP 6: twice a
    week, IOP 3: once a week) and how many days must pass between two tests."""

    __test__ = False  # a clinic policy, not a pytest test class

    track = models.OneToOneField(
        "scheduling.Track", on_delete=models.PROTECT, related_name="testing_policy"
    )
    tests_per_week = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("7"))],
    )
    min_gap_days = models.PositiveSmallIntegerField(
        "minimum days between tests",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(14)],
        help_text="1 allows consecutive days; 2 means never two days running.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "testing policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(tests_per_week__gte=0, tests_per_week__lte=7),
                name="testing_policy_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(min_gap_days__gte=1, min_gap_days__lte=14),
                name="testing_policy_gap_range",
            ),
        ]

    def __str__(self):
        return f"{self.track}: {self.tests_per_week} a week, {self.min_gap_days} days apart"

    def clean(self):
        if self.tests_per_week is not None and self.min_gap_days is not None:
            problem = rules.policy_problem(self.tests_per_week, self.min_gap_days)
            if problem:
                raise ValidationError(problem)

    @property
    def daily_probability(self) -> float:
        return rules.daily_probability(self.tests_per_week, self.min_gap_days)


class ProgramPolicy(models.Model):
    """Program-wide screening rules: one row (pk 1), seeded by the migration."""

    missed_counts_positive = models.BooleanField(
        "a no-show or refusal counts as positive",
        default=True,
        help_text="Most programs (and monitoring boards) count a missed random test as positive.",
    )

    class Meta:
        verbose_name = "screening program policy"
        verbose_name_plural = "screening program policy"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="one_program_policy")]

    def __str__(self):
        return "Screening program policy"

    @classmethod
    def current(cls) -> "ProgramPolicy":
        return cls.objects.get_or_create(pk=1)[0]
