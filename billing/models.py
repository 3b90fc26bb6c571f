"""The revenue cycle's data (issue 22): payers and their fees, the billing provider,
coverages, diagnoses, authorizations, charges, claims and their lines, 837P batches,
835 remittances with their line payments and adjustments.

Names and fields are shared by the three billing parts (docs/billing_spec: billcore,
claims, x12); invariants of one row live here as constraints, the rest in services.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clients.models import Client, Disclosure, Episode
from iop import when
from scheduling.billing import H0015Rule

ZERO = Decimal("0.00")
MONEY = {"max_digits": 9, "decimal_places": 2}
TOTAL = {"max_digits": 12, "decimal_places": 2}

hcpcs_code = RegexValidator(
    r"^[A-Z0-9][0-9]{3}[A-Z0-9]$", "A HCPCS or CPT code is five letters or digits, e.g. H0015."
)
modifier_code = RegexValidator(r"^[A-Z0-9]{2}$", "A modifier is two letters or digits, e.g. GT.")
state_code = RegexValidator(r"^[A-Z]{2}$", "A state is its two-letter code, e.g. OR.")
postal = RegexValidator(
    r"^[0-9]{5}([0-9]{4})?$", "A ZIP code is 5 digits, or 9 (ZIP+4) without a dash."
)


class FilingIndicator(models.TextChoices):
    """X12 005010X222A1 loop 2000B SBR09, claim filing indicator code."""

    OTHER_NON_FEDERAL = "11", "Other non-federal programs"
    PPO = "12", "Preferred provider organization (PPO)"
    POS = "13", "Point of service (POS)"
    EPO = "14", "Exclusive provider organization (EPO)"
    INDEMNITY = "15", "Indemnity insurance"
    HMO_MEDICARE_RISK = "16", "HMO Medicare risk"
    BCBS = "BL", "Blue Cross/Blue Shield"
    CHAMPUS = "CH", "CHAMPUS (TRICARE)"
    COMMERCIAL = "CI", "Commercial insurance"
    FEDERAL_EMPLOYEES = "FI", "Federal Employees Program"
    HMO = "HM", "Health maintenance organization (HMO)"
    MEDICARE_B = "MB", "Medicare Part B"
    MEDICAID = "MC", "Medicaid"
    OTHER_FEDERAL = "OF", "Other federal program"
    TITLE_V = "TV", "Title V"
    VA = "VA", "Veterans Affairs plan"
    WORKERS_COMP = "WC", "Workers' compensation"
    MUTUALLY_DEFINED = "ZZ", "Mutually defined"


class Payer(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]*$", "Capital letters, digits and dashes.")],
        help_text="The program's short name for the payer, e.g. DEMO-COMM.",
    )
    name = models.CharField(max_length=60)  # NM103 allows 60
    payer_id = models.CharField(
        "payer id",
        max_length=80,
        validators=[RegexValidator(r"^[A-Za-z0-9]+$", "Letters and digits only.")],
        help_text="The payer's electronic id (837P loop 2010BB NM109).",
    )
    filing_indicator = models.CharField(
        "claim filing indicator", max_length=2, choices=FilingIndicator.choices
    )
    h0015_rule = models.CharField(
        "H0015 rule",
        max_length=20,
        choices=H0015Rule.choices,
        blank=True,
        help_text="Blank: the program's default rule.",
    )
    min_hours = models.DecimalField(
        "minimum hours a day",
        max_digits=4,
        decimal_places=2,
        default=Decimal("3"),
        validators=[MinValueValidator(Decimal("0.5"))],
    )
    min_days = models.PositiveSmallIntegerField(
        "minimum days a week", default=3, validators=[MinValueValidator(1)]
    )
    address_line1 = models.CharField("address", max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[state_code])
    postal_code = models.CharField("ZIP code", max_length=9, blank=True, validators=[postal])
    active = models.BooleanField(default=True)
    # Added by the claims part (migration 0003_claims_telehealth_modifier): the modifier
    # of a telehealth line (billing.services.charges).
    telehealth_modifier = models.CharField(
        "telehealth modifier",
        max_length=2,
        choices=[
            ("95", "95: synchronous telemedicine (CPT Appendix P)"),
            ("GT", "GT: via interactive audio and video telecommunications"),
        ],
        default="95",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(min_days__lte=7), name="payer_min_days_week"),
            models.CheckConstraint(condition=Q(min_hours__lte=24), name="payer_min_hours_day"),
        ]

    def __str__(self):
        return self.name


class Fee(models.Model):
    """What the program charges a payer for a code (and modifier) from a day on."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="fees")
    code = models.CharField(max_length=5, validators=[hcpcs_code])
    modifier = models.CharField(max_length=2, blank=True, validators=[modifier_code])
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    effective_on = models.DateField()

    class Meta:
        ordering = ["payer", "code", "modifier", "-effective_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "code", "modifier", "effective_on"], name="fee_unique_per_day"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_amount_not_negative"),
        ]

    def __str__(self):
        mod = f"-{self.modifier}" if self.modifier else ""
        return f"{self.code}{mod} {self.amount} from {when.day(self.effective_on)}"


class BillingProvider(models.Model):
    """The program as the billing provider of its claims (837P loop 2010AA). One row."""

    key = models.CharField(max_length=10, default="program", unique=True, editable=False)
    name = models.CharField("organization name", max_length=60)
    npi = models.CharField("NPI", max_length=10)
    tax_id = models.CharField(
        "tax id (EIN)",
        max_length=9,
        validators=[RegexValidator(r"^[0-9]{9}$", "An EIN is 9 digits, without the dash.")],
    )
    taxonomy = models.CharField(
        "taxonomy code",
        max_length=10,
        validators=[RegexValidator(r"^[0-9]{3}[0-9A-Z]{6}X$", "A taxonomy code, e.g. 261QR0405X.")],
    )
    address_line1 = models.CharField("address", max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2, validators=[state_code])
    postal_code = models.CharField(
        "ZIP+4",
        max_length=9,
        validators=[RegexValidator(r"^[0-9]{9}$", "The 837P needs the 9-digit ZIP+4, no dash.")],
    )
    phone = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{10}$", "Ten digits, no spaces.")],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return self.name


class CoverageOrder(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class Relationship(models.TextChoices):
    """X12 individual relationship code (837P SBR02 / PAT01)."""

    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other relationship"


class VerifiedHow(models.TextChoices):
    PORTAL = "portal", "Payer portal"
    PHONE = "phone", "Phone call"
    CARD = "card", "Card seen"
    FILE = "file", "Eligibility file"


class Coverage(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    order = models.PositiveSmallIntegerField(
        choices=CoverageOrder.choices, default=CoverageOrder.PRIMARY
    )
    member_id = models.CharField("member id", max_length=80)
    group_number = models.CharField("group number", max_length=50, blank=True)
    relationship = models.CharField(
        "client's relationship to the subscriber",
        max_length=2,
        choices=Relationship.choices,
        default=Relationship.SELF,
    )
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_dob = models.DateField("subscriber's date of birth", null=True, blank=True)
    # The client's postal address as the payer has it: the 837P sends it for the patient
    # (loop 2010BA N3/N4 when the client is the subscriber, 2010CA otherwise). x12 part.
    address_line1 = models.CharField("client's address", max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[state_code])
    postal_code = models.CharField("ZIP code", max_length=9, blank=True, validators=[postal])
    effective_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    verified_on = models.DateField(null=True, blank=True)
    verified_how = models.CharField(max_length=10, choices=VerifiedHow.choices, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "-effective_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("effective_on")),
                name="coverage_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(relationship="18")
                | (
                    Q(subscriber_dob__isnull=False)
                    & ~Q(subscriber_first_name="")
                    & ~Q(subscriber_last_name="")
                ),
                name="coverage_subscriber_unless_self",
            ),
        ]
        indexes = [models.Index(fields=["client", "order", "effective_on"])]

    def __str__(self):
        return f"{self.get_order_display()}: {self.payer}"

    def active_on(self, day) -> bool:
        return self.effective_on <= day and (self.ends_on is None or day <= self.ends_on)


class Diagnosis(models.Model):
    """An ICD-10-CM code on an episode of care, as the code set describes it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="diagnoses")
    code = models.CharField(max_length=8)  # with the dot: F10.20
    description = models.CharField(max_length=300)
    principal = models.BooleanField(default=False)
    added_on = models.DateField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_on = models.DateField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-principal", "code"]
        verbose_name_plural = "diagnoses"
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=Q(principal=True, removed_on__isnull=True),
                name="diagnosis_one_principal",
            ),
            models.UniqueConstraint(
                fields=["episode", "code"],
                condition=Q(removed_on__isnull=True),
                name="diagnosis_code_once",
            ),
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True) | Q(removed_on__gte=F("added_on")),
                name="diagnosis_removed_after_added",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description}"

    @property
    def current(self) -> bool:
        return self.removed_on is None


class AuthorizationQuerySet(models.QuerySet):
    def with_usage(self):
        """Each authorization with ``used_units``: the units of its live charges, summed
        in the query that lists them (one subquery, whatever the number of charges)."""
        used = (
            Charge.objects.filter(authorization=OuterRef("pk"), void=False)
            .order_by()
            .values("authorization")
            .annotate(total=Sum("units"))
            .values("total")
        )
        return self.annotate(
            used_units=Coalesce(Subquery(used, output_field=models.IntegerField()), Value(0))
        )

    def covering(self, day):
        return self.filter(starts_on__lte=day, ends_on__gte=day)


class Authorization(models.Model):
    """Units of a service a payer approved for a client over a date range (REF*G1)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="authorizations")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="authorizations")
    service_code = models.CharField(max_length=5, validators=[hcpcs_code])
    units_approved = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference = models.CharField(
        "authorization number",
        max_length=50,
        validators=[RegexValidator(r"^[A-Za-z0-9-]+$", "Letters, digits and dashes only.")],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuthorizationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "service_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(units_approved__gt=0), name="authorization_units_positive"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="authorization_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["client", "payer", "service_code", "starts_on"])]

    def __str__(self):
        return f"{self.service_code} x{self.units_approved} ({self.reference})"

    def units_used(self) -> int:
        total = self.charges.filter(void=False).aggregate(total=Sum("units"))["total"]
        return total or 0

    @property
    def units_left(self) -> int:
        return max(self.units_approved - self.used, 0)

    @property
    def used(self) -> int:
        """``used_units`` as annotated by ``with_usage()``, else counted (one query)."""
        annotated = self.__dict__.get("used_units")
        return annotated if annotated is not None else self.units_used()


class PlaceOfService(models.TextChoices):
    OFFICE = "11", "Office"
    TELEHEALTH = "02", "Telehealth (not in the client's home)"
    TELEHEALTH_HOME = "10", "Telehealth in the client's home"


class Charge(models.Model):
    """One service, charged once: ``source_key`` names what it came from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="charges")
    service_date = models.DateField()
    code = models.CharField(max_length=5, validators=[hcpcs_code])
    modifier1 = models.CharField(max_length=2, blank=True, validators=[modifier_code])
    modifier2 = models.CharField(max_length=2, blank=True, validators=[modifier_code])
    units = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    place_of_service = models.CharField(
        max_length=2, choices=PlaceOfService.choices, default=PlaceOfService.OFFICE
    )
    rendering = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    coverage = models.ForeignKey(
        Coverage, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
    )
    note = models.ForeignKey(
        "clinical.ProgressNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        help_text="The signed note documenting the service (for a day: one of them).",
    )
    source_key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    void = models.BooleanField(default=False)

    class Meta:
        ordering = ["service_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gte=1), name="charge_units_positive"),
        ]
        indexes = [
            models.Index(fields=["client", "service_date"]),
            models.Index(
                fields=["authorization"], condition=Q(void=False), name="charge_auth_live"
            ),
        ]

    def __str__(self):
        return f"{self.code} on {when.day(self.service_date)}"


class ClaimStatus(models.TextChoices):
    HELD = "held", "Held"
    READY = "ready", "Ready"
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    PARTIAL = "partial", "Partly paid"
    DENIED = "denied", "Denied"
    CLOSED = "closed", "Closed"


class Batch(models.Model):
    """One 837P interchange as written, kept verbatim for a resend."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="batches")
    through = models.DateField()
    isa_control = models.PositiveIntegerField(unique=True)
    gs_control = models.PositiveIntegerField()
    st_control = models.PositiveIntegerField()
    content = models.TextField()
    claim_count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(**TOTAL, default=ZERO)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(isa_control__gte=1, isa_control__lte=999999999),
                name="batch_isa_nine_digits",
            )
        ]

    def __str__(self):
        return f"Batch {self.isa_control:09d}"


class Claim(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # CLM01, the patient control number: opaque ("C" + zero-padded id), never an MRN or name.
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="claims")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        Coverage, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.HELD)
    hold_reasons = models.JSONField(default=list, blank=True)  # [{"code", "message"}]
    principal_diagnosis = models.CharField(max_length=8, blank=True)
    diagnoses = models.JSONField(default=list, blank=True)
    total = models.DecimalField(**TOTAL, default=ZERO)
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="claim_period_in_order"
            )
        ]
        indexes = [
            models.Index(fields=["status", "payer"]),
            models.Index(fields=["client", "period_start"]),
        ]

    def __str__(self):
        return f"Claim {self.number or '(new)'}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.number:
            self.number = number_for(self.pk)
            type(self).objects.filter(pk=self.pk).update(number=self.number)


def number_for(pk: int) -> str:
    return f"C{pk:09d}"


class LineStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    PARTIAL = "partial", "Partly paid"
    DENIED = "denied", "Denied"


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    charge = models.OneToOneField(Charge, on_delete=models.PROTECT, related_name="claim_line")
    line_number = models.PositiveSmallIntegerField()
    service_date = models.DateField()
    code = models.CharField(max_length=5)
    modifier1 = models.CharField(max_length=2, blank=True)
    modifier2 = models.CharField(max_length=2, blank=True)
    units = models.PositiveSmallIntegerField(default=1)
    amount = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY, default=ZERO)
    adjusted = models.DecimalField(**MONEY, default=ZERO)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.OPEN)

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="claimline_number_once")
        ]

    def __str__(self):
        return f"Line {self.line_number}: {self.code}"


class Remittance(models.Model):
    """One imported 835. Importing the same file again changes nothing (its hash)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="remittances")
    file_sha256 = models.CharField(max_length=64, unique=True)
    trace_number = models.CharField(max_length=50)
    paid_on = models.DateField(null=True, blank=True)
    total_paid = models.DecimalField(**TOTAL, default=ZERO)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content = models.TextField()

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self):
        return f"Remittance {self.trace_number}"


class LinePayment(models.Model):
    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="payments")
    claim_line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="payments")
    paid = models.DecimalField(**MONEY, default=ZERO)
    allowed = models.DecimalField(**MONEY, null=True, blank=True)
    status = models.CharField(max_length=10, choices=LineStatus.choices)

    class Meta:
        ordering = ["remittance", "id"]

    def __str__(self):
        return f"Payment {self.paid} ({self.get_status_display()})"


class AdjustmentGroup(models.TextChoices):
    """X12 CAS01 claim adjustment group codes."""

    CO = "CO", "Contractual obligation"
    PR = "PR", "Patient responsibility"
    OA = "OA", "Other adjustment"
    PI = "PI", "Payer initiated reduction"
    CR = "CR", "Correction and reversal"


class Adjustment(models.Model):
    """A CAS adjustment of a paid line (or, with no line, of the claim as a whole)."""

    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    line_payment = models.ForeignKey(
        LinePayment, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    group_code = models.CharField(max_length=2, choices=AdjustmentGroup.choices)
    carc = models.CharField("reason code (CARC)", max_length=5)
    rarc = models.CharField("remark codes (RARC)", max_length=200, blank=True)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(line_payment__isnull=False) | Q(claim__isnull=False),
                name="adjustment_of_line_or_claim",
            )
        ]

    def __str__(self):
        return f"{self.group_code}-{self.carc} {self.amount}"


class SelfPay(models.Model):
    """Intake's answer "no insurance: the client pays for themselves", so the coverage
    step of the intake journey is done without a coverage. A coverage added later
    stands over it."""

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="self_pay")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return "Self-pay"
