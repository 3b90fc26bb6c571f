import uuid

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    IN_APP = "in_app", "In-app"


# The codes the app writes when it cancels a message that is no longer needed: a task
# whose item is done, a reminder of a cancelled session, a message after an opt-out.
APP_CANCELS = frozenset({"resolved", "subject-cancelled", "opt-out"})


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Audience(models.TextChoices):
    CLIENT = "client", "Client"
    STAFF = "staff", "Staff"


OPEN_TASK_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT)


class OutboxQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=OutboxStatus.PENDING, scheduled_for__lte=now)

    def unread_for(self, user):
        return self.filter(
            staff=user, channel=Channel.IN_APP, status=OutboxStatus.SENT, read_at__isnull=True
        )

    def open_tasks(self):
        """Staff tasks not yet marked done: in-app rows written (pending, being shown or
        shown), neither cancelled nor failed."""
        return self.filter(
            audience=Audience.STAFF,
            channel=Channel.IN_APP,
            status__in=OPEN_TASK_STATUSES,
            read_at__isnull=True,
        )

    def open_tasks_for(self, user):
        return self.open_tasks().filter(staff=user)


class OutboxMessage(models.Model):
    """One message, written once and sent at most once.

    ``idempotency_key`` is unique: the scheduler may run twice (beat overlap, a
    retried task, two workers) and still writes each message once. Delivery claims a
    row (``SELECT ... FOR UPDATE SKIP LOCKED`` then a conditional UPDATE) before it
    sends, so two sweepers never send it twice; a row left in ``sending`` by a worker
    that died is never resent blindly (see ``outbox_recover_stuck``).

    The row names what it is about by ids only (``refs``: public ids and codes, never
    words typed about a client); ``subject``/``body`` are rendered from ``template``
    when the row is written, so the admin sees exactly what left.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.STAFF)
    # The client's opaque public id; no foreign key, the platform knows no clients.
    client = models.UUIDField(null=True, blank=True, db_index=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Email address or E.164 phone number; empty for in-app messages.
    recipient = models.CharField(max_length=254, blank=True)
    template = models.CharField(max_length=60, default="plain")
    # What the message is about, for cancelling and for the admin: "session:<uuid>".
    ref = models.CharField(max_length=120, blank=True, db_index=True)
    refs = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it may go: the reminder's moment, moved later by quiet hours and retries.
    scheduled_for = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=120, blank=True)
    # An error code (exception class or provider status), never a provider's words.
    last_error = models.CharField(max_length=200, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="outbox_due"),
            # The outbox page's status x channel counts read this index alone (an
            # index-only scan), not every row of the table.
            models.Index(fields=["status", "channel"], name="outbox_status_channel"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(audience="staff") | models.Q(client__isnull=False),
                name="outbox_client_message_names_client",
            ),
        ]

    def __str__(self):
        return f"{self.channel} message {self.pk} ({self.status})"

    @property
    def retryable(self) -> bool:
        """Failed, or cancelled by a person; not cancelled by the app because it is no
        longer needed (see ``APP_CANCELS``)."""
        if self.status == OutboxStatus.FAILED:
            return True
        return self.status == OutboxStatus.CANCELLED and self.last_error not in APP_CANCELS
