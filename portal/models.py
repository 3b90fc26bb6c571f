"""Client accounts and their sign-in: apart from staff accounts (``accounts.User``).

A client never holds a staff account, a password or a Django auth session: the portal
keeps its own keys in the session (``portal.session``), so no staff page, menu or
permission ever answers a client, and a staff session never opens the portal.

Sign-in is by a one-time link. Only a hash of its token is stored (SHA-256 of 32
random bytes: a copy of the table signs nobody in); a link lives
``SIGN_IN_TOKEN_MINUTES`` and works once.
"""

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

SIGN_IN_TOKEN_MINUTES = 15


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ClientAccountQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(enabled=True)


class ClientAccount(models.Model):
    """A client's portal account: one per client, turned on and off by staff."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.OneToOneField(
        "clients.Client", on_delete=models.PROTECT, related_name="portal_account"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # When access was last given (the account made, or turned on again). A portal
    # session begun before it is refused (``portal.access.load_account``): access
    # taken away and given back does not bring an old session back to life.
    enabled_at = models.DateTimeField(null=True, blank=True)

    objects = ClientAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "client portal account"

    def __str__(self):
        # Never a name or an MRN: this string can reach the admin's lists and logs.
        return f"portal account {self.public_id}"

    @property
    def since(self):
        """Since when the client has had portal access (this time round)."""
        return self.enabled_at or self.created_at


class SignInToken(models.Model):
    """One sign-in link. ``token_hash`` is all that is kept of the secret."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Where the link was asked for: "request" (the sign-in page) or "staff" (portal_link).
    issued_by = models.CharField(max_length=10, default="request")

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self):
        return f"sign-in link {self.public_id}"

    @classmethod
    def lifetime(cls) -> timedelta:
        return timedelta(minutes=SIGN_IN_TOKEN_MINUTES)

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and now < self.expires_at


class ThrottleKind(models.TextChoices):
    LINK_ADDRESS = "link_addr", "Link asked for an address"
    LINK_IP = "link_ip", "Link asked from an address"
    REDEEM_FAILED = "redeem_ip", "Link refused, from an address"
    CODE_FAILED = "code_acct", "Authenticator code refused, for an account"


class SignInAttempt(models.Model):
    """What the sign-in rate limits count. ``key`` is a keyed hash of the address
    typed or the IP address (never the value itself); rows older than a day go."""

    kind = models.CharField(max_length=10, choices=ThrottleKind.choices)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"])]

    def __str__(self):
        return f"{self.kind} at {self.at.isoformat()}"


class ClientAuthenticator(models.Model):
    """An optional authenticator app (TOTP, RFC 6238) on a client account: the code is
    checked by django-otp's TOTP (``django_otp.oath``), as staff's TOTPDevice is, with
    the same step, digits and drift, and a code is never taken twice."""

    account = models.OneToOneField(
        ClientAccount, on_delete=models.CASCADE, related_name="authenticator"
    )
    key = models.CharField(max_length=80)  # hex, as django-otp's TOTPDevice stores it
    confirmed = models.BooleanField(default=False)
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"authenticator of {self.account}"


# --- Attendance letters (portal2) ---------------------------------------------------------


class LetterStatus(models.TextChoices):
    REQUESTED = "requested", "Waiting for the program"
    APPROVED = "approved", "Ready"
    DECLINED = "declined", "Declined"


class AttendanceLetter(models.Model):
    """A letter of attendance the client asked for, for a recipient their signed consent
    names. Approved by staff: its figures are frozen in ``content`` (the PDF and the
    public verification page both show exactly that), it gets a random
    ``verification_code`` and is recorded as a disclosure in the client's accounting."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="attendance_letters"
    )
    consent = models.ForeignKey("clients.Consent", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    include_screens = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=LetterStatus.choices, default=LetterStatus.REQUESTED
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(max_length=300, blank=True)
    verification_code = models.CharField(max_length=20, unique=True, null=True, blank=True)
    content = models.JSONField(default=dict, blank=True)
    disclosure = models.OneToOneField(
        "clients.Disclosure", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="letter_period_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | models.Q(verification_code__isnull=False, disclosure__isnull=False),
                name="letter_approved_has_code_and_disclosure",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"])]

    def __str__(self):
        return f"attendance letter {self.public_id}"
