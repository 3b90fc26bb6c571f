"""Random selection: one run a day, one stored selection per client drawn."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from iop import when

__all__ = ["RandomSelection", "SelectionRun", "SelectionStatus"]


class SelectionRun(models.Model):
    """The day's draw. The unique date makes the daily task idempotent: a second run
    (beat firing twice, a retry, a second worker) finds the row and draws nothing."""

    date = models.DateField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    considered = models.PositiveIntegerField(default=0)
    selected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"Random selection of {when.day(self.date)}"


class SelectionStatus(models.TextChoices):
    PENDING = "pending", "Due today"
    COLLECTED = "collected", "Collected"
    MISSED = "missed", "Missed (no-show)"
    REFUSED = "refused", "Refused"
    VOIDED = "voided", "Voided"


class RandomSelection(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="random_selections"
    )
    date = models.DateField()
    run = models.ForeignKey(
        SelectionRun, on_delete=models.PROTECT, null=True, blank=True, related_name="selections"
    )
    track = models.ForeignKey("scheduling.Track", on_delete=models.PROTECT, related_name="+")
    # The chance drawn against, kept so the rate can be checked against the policy.
    probability = models.DecimalField(max_digits=5, decimal_places=4)
    status = models.CharField(
        max_length=10, choices=SelectionStatus.choices, default=SelectionStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The reminders issue (11) sends the neutral notice and sets this; until then the
    # collection list and the chart show the notice as pending.
    notified_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "date"], name="one_selection_per_day"),
            models.CheckConstraint(
                condition=~Q(status="voided") | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="voided_selection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["date", "status"])]

    def __str__(self):
        return f"Random test {when.day(self.date)}"

    @property
    def notice_pending(self) -> bool:
        return self.status == SelectionStatus.PENDING and self.notified_at is None
