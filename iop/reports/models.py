import uuid

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReportRun(models.Model):
    """A report run in the background: its progress for the page's bar, and the CSV
    and the page's result it wrote to private storage (``STORAGES["reports"]``) for its
    owner only.
    ``filters`` holds codes and ids, never a name."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.CharField(max_length=40)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_runs"
    )
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    # The page's result (tables, totals, charts) as JSON beside the CSV, for the run's
    # page: the same storage, the same owner, the same 24 hours.
    page_file_name = models.CharField(max_length=200, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=60, blank=True)  # a code, never client data
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_run_progress_percent"
            )
        ]

    def __str__(self):
        return f"{self.report} run {self.public_id}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)
