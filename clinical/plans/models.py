"""Treatment plans and relapse-prevention plans.

Both are versioned the same way: a version is a whole, immutable snapshot of the
plan (its content as JSON, shaped by ``clinical.plans.services``), numbered per plan,
with exactly one ``is_current`` row per plan (a partial unique constraint). Saving a
review or a new relapse-prevention plan inserts a version and moves the current flag;
it never edits an earlier version, so what the client agreed to on a day stays
readable as it was (the chart is a legal record).

The treatment plan also keeps a working draft on the plan row: the clinician edits the
draft between reviews; only a signed review puts it in force as a new version.
"""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from iop import when

__all__ = [
    "CRISIS_LINE",
    "ClientAgreement",
    "RelapsePreventionPlan",
    "RelapsePreventionVersion",
    "TreatmentPlan",
    "TreatmentPlanVersion",
    "review_days",
]

# Shown on every relapse-prevention plan, on screen and on the client's copy, whatever
# the plan says: the national line is the one number that always answers.
CRISIS_LINE = "988 Suicide & Crisis Lifeline: call or text 988, any time, day or night."


def review_days() -> int:
    """Days between treatment-plan reviews (IOP_PLAN_REVIEW_DAYS, 30 by default)."""
    return int(getattr(settings, "IOP_PLAN_REVIEW_DAYS", 30))


class ClientAgreement(models.TextChoices):
    AGREES = "agrees", "Agrees with the plan"
    PARTLY = "partly", "Agrees in part (see the client's own words)"
    DECLINED = "declined", "Declined to sign"


class VersionImmutable(Exception):
    """A saved plan version was about to be changed or deleted: versions are kept as
    written (a review makes a new one), so the model refuses before the database does."""


class _Version(models.Model):
    """What both kinds of version share: number, current flag, who saved it, when."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Denormalised from the plan: the access path loads a version by its public id and
    # asks whose it is, and the objectives read filters on it without a join.
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    is_current = models.BooleanField(default=True)
    content = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # A version is a record of what was agreed; a change is a new version. The
        # services move ``is_current`` with a queryset update, which does not come here.
        if not self._state.adding:
            raise VersionImmutable("A plan version is never edited: save a new version.")
        super().save(*args, **kwargs)


class TreatmentPlan(models.Model):
    """The treatment plan of one episode of care, with its working draft."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    episode = models.OneToOneField(
        "clients.Episode", on_delete=models.PROTECT, related_name="treatment_plan"
    )
    draft = models.JSONField(default=dict)
    # Bumped on every draft save: a form posted from an older page is noticed, so one
    # tab never silently overwrites another's words.
    draft_revision = models.PositiveIntegerField(default=0)
    draft_updated_at = models.DateTimeField(null=True, blank=True)
    draft_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Treatment plan from {when.day(self.created_at)}"


class TreatmentPlanVersionQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def in_force(self):
        """Current versions of plans whose episode is still open."""
        return self.current().filter(plan__episode__discharged_on__isnull=True)

    def due_for_review(self, *, by: date):
        """In force and due for review on or before ``by`` (overdue included)."""
        return self.in_force().filter(reviewed_on__lte=by - timedelta(days=review_days()))


class TreatmentPlanVersion(_Version):
    """A signed treatment plan: the initial plan (number 1) or a review of it."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    client_agreement = models.CharField(max_length=10, choices=ClientAgreement.choices)
    client_signed_on = models.DateField(null=True, blank=True)
    # The staff signature is the actor's, taken when the version is saved; the review
    # clock starts from the day it was signed.
    reviewed_on = models.DateField()
    review_summary = models.TextField(blank=True)  # staff-only: what changed and why

    objects = TreatmentPlanVersionQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="treatment_version_number"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(is_current=True), name="one_current_treatment_version"
            ),
            models.CheckConstraint(
                condition=Q(client_agreement="declined", client_signed_on__isnull=True)
                | (~Q(client_agreement="declined") & Q(client_signed_on__isnull=False)),
                name="treatment_version_client_signature",
            ),
        ]
        indexes = [models.Index(fields=["client", "is_current"])]

    def __str__(self):
        return f"Treatment plan version {self.number} signed {when.day(self.reviewed_on)}"

    @property
    def review_due_on(self) -> date:
        return self.reviewed_on + timedelta(days=review_days())

    def is_overdue(self, today: date) -> bool:
        return self.review_due_on < today

    def objectives(self) -> list[dict]:
        return [o for p in self.content.get("problems", []) for o in p.get("objectives", [])]


class RelapsePreventionPlan(models.Model):
    """A client's relapse-prevention plan; every saved version is kept."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.OneToOneField(
        "clients.Client", on_delete=models.PROTECT, related_name="relapse_prevention_plan"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Relapse-prevention plan from {when.day(self.created_at)}"


class RelapsePreventionVersion(_Version):
    """One saved relapse-prevention plan. ``content`` is the client's copy; the
    internal note is for staff and never printed."""

    plan = models.ForeignKey(
        RelapsePreventionPlan, on_delete=models.PROTECT, related_name="versions"
    )
    internal_note = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="relapse_version_number"),
            models.UniqueConstraint(
                fields=["plan"], condition=Q(is_current=True), name="one_current_relapse_version"
            ),
        ]
        indexes = [models.Index(fields=["client", "is_current"])]

    def __str__(self):
        return f"Relapse-prevention plan version {self.number}"
