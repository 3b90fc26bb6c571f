import hashlib
import hmac
import json

from django.conf import settings
from django.db import models

from iop import when

GENESIS_HASH = "0" * 64


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"


class AuditEventQuerySet(models.QuerySet):
    def for_listing(self):
        return self.select_related("actor").order_by("-id")


class AuditEvent(models.Model):
    """One access or change, append-only.

    Each row carries a keyed hash (HMAC, key outside the database) of its own content
    and the previous row's hash, so a row changed, removed or re-hashed afterwards
    breaks the chain, and checkpoints of the head written outside the database show a
    cut tail (``verify_audit``). On PostgreSQL a trigger refuses UPDATE and DELETE
    outright (migration 0002).
    Written only through ``iop.audit.services.audit_record``.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # Staff are deactivated, never deleted: the trail must keep naming them.
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # The client's opaque public id; no foreign key, the platform knows no clients.
    client_id = models.UUIDField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.ALLOWED)
    detail = models.CharField(max_length=255, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["actor", "-id"]),
            models.Index(fields=["client_id", "-id"]),
            # The per-account sign-in limit counts recent failures by username.
            models.Index(fields=["actor_username", "action", "at"]),
        ]

    def __str__(self):
        at = when.moment(self.at, seconds=True)
        return f"{at} {self.actor_username or '-'} {self.action} {self.outcome}"

    def content(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_username": self.actor_username,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "client_id": str(self.client_id) if self.client_id else None,
            "ip_address": self.ip_address,
            "outcome": self.outcome,
            "detail": self.detail,
        }

    def compute_hash(self) -> str:
        """HMAC-SHA-256, keyed with IOP_AUDIT_KEY from the environment: someone who can
        write the table but not read the key cannot re-hash a rewritten chain."""
        payload = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        message = f"{self.prev_hash}|{payload}".encode()
        return hmac.new(settings.IOP_AUDIT_KEY.encode(), message, hashlib.sha256).hexdigest()
