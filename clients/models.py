import re
import secrets
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from iop import when


class Profession(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    PHARMACIST = "pharmacist", "Pharmacist"
    ATTORNEY = "attorney", "Attorney"
    PILOT = "pilot", "Pilot"
    EXECUTIVE = "executive", "Executive"
    FIRST_RESPONDER = "first_responder", "First responder"
    OTHER = "other", "Other"


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"


class ReminderChannel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    NONE = "none", "No reminders"


class Substance(models.TextChoices):
    ALCOHOL = "alcohol", "Alcohol"
    OPIOIDS = "opioids", "Opioids"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    STIMULANTS = "stimulants", "Stimulants (cocaine, methamphetamine)"
    CANNABIS = "cannabis", "Cannabis"
    PRESCRIPTION = "prescription", "Prescription misuse (other)"
    NICOTINE = "nicotine", "Nicotine"
    OTHER = "other", "Other"


# A second identical record for the same client within this window (a consent, a
# disclosure, a breath test, a measure) is the same submission: a double click or a
# resent form, not a new record.
DUPLICATE_WINDOW = timedelta(minutes=10)


class ClientQuerySet(models.QuerySet):
    def lock(self, client: "Client | int") -> "Client":
        """The client's row (a client or its pk), locked until the transaction ends.

        Taken before a write that reads and then writes several rows of one client
        (the last primary clinician, a second identical submission, two tabs saving
        one plan): a second request for the same client waits here and then sees the
        first one's rows. Call it inside ``transaction.atomic``."""
        return self.select_for_update().get(pk=getattr(client, "pk", client))

    def search(self, text: str) -> "ClientQuerySet":
        text = (text or "").strip()
        if not text:
            return self
        terms = Q()
        for word in text.split()[:4]:
            terms &= (
                Q(legal_first_name__icontains=word)
                | Q(legal_last_name__icontains=word)
                | Q(preferred_name__icontains=word)
                | Q(mrn__iexact=word)
            )
        return self.filter(terms)


def _new_mrn() -> str:
    # Random, not sequential: the MRN is shown on paper and must not reveal census size.
    return f"{secrets.randbelow(9_000_000) + 1_000_000}"


# Every MRN format the app issues, defined once, here beside the issuer: seven digits
# (``_new_mrn``), "D" and four digits for the demo's clients (clients/demo.py issues
# D1000-D1039), "S" and seven digits for seed_scale's (tooling/scale.py). A form that
# takes an MRN typed by a person (break the glass) checks it with ``normalize_mrn``.
MRN_FORMAT = re.compile(r"[0-9]{7}|D[0-9]{4}|S[0-9]{7}")
MRN_FORMAT_MESSAGE = (
    "Enter the MRN as it is printed on the chart: seven digits (1234567), "
    "or a letter and digits (D1003)."
)


def normalize_mrn(text) -> str | None:
    """The MRN as the app issues it (trimmed, upper case), or None when ``text`` is not
    in one of the formats in ``MRN_FORMAT``."""
    mrn = (text if isinstance(text, str) else "").strip().upper()
    return mrn if MRN_FORMAT.fullmatch(mrn) else None


class Client(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mrn = models.CharField("MRN", max_length=12, unique=True, default=_new_mrn, editable=False)
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    pronouns = models.CharField(max_length=30, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    profession = models.CharField(max_length=20, choices=Profession.choices)
    employer = models.CharField(max_length=120, blank=True)
    monitoring_program = models.CharField(
        "monitoring or licensing program",
        max_length=120,
        blank=True,
        help_text="e.g. state physician health program, nursing board monitoring, HIMS.",
    )
    monitoring_contact = models.CharField(
        "case manager contact", max_length=200, blank=True, help_text="Name, phone, email."
    )
    referral_source = models.CharField(max_length=120, blank=True)
    primary_substances = models.JSONField(default=list, blank=True)
    co_occurring_conditions = models.TextField("co-occurring conditions", blank=True)
    status = models.CharField(
        max_length=12, choices=ClientStatus.choices, default=ClientStatus.PROSPECT, db_index=True
    )
    reminder_channel = models.CharField(
        max_length=8, choices=ReminderChannel.choices, default=ReminderChannel.NONE
    )
    reminder_consent = models.BooleanField("consents to reminders", default=False)
    reminder_may_name_program = models.BooleanField(
        "reminders may name the program",
        default=False,
        help_text="Off: reminders say only time and place, never the program or a clinical word.",
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # set by the service from the actor, never typed in a form
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        permissions = [
            ("intake_client", "Register, consent, admit and assign the care team"),
            ("attend_client", "Take attendance and chart the client's group-note section"),
        ]
        indexes = [models.Index(fields=["legal_last_name", "legal_first_name", "date_of_birth"])]

    def __str__(self):
        # Used in forms and pages that already passed the access check; never in logs.
        return f"{self.display_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    def substance_labels(self) -> list[str]:
        labels = dict(Substance.choices)
        return [labels.get(value, value) for value in self.primary_substances]

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    def age_on(self, day: date) -> int:
        """Whole years of age on ``day`` (a 29 Feb birthday comes of age on 1 Mar)."""
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ClientUserObjectPermission(UserObjectPermissionBase):
    """guardian's direct foreign-key table for Client (an integer key, indexed).

    The access subqueries look rows up by (user, permission, client): guardian's
    unique constraint on exactly those columns is the index they use. A second
    index on the same columns only doubled the cost of every grant and revoke."""

    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class ClientGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Client, on_delete=models.CASCADE)


class SupportContact(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=120)
    relationship = models.CharField(max_length=60)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    is_emergency = models.BooleanField("emergency contact", default=False)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-is_emergency", "name"]

    def __str__(self):
        return f"{self.name} ({self.relationship})"


class AsamEdition(models.IntegerChoices):
    """The edition of The ASAM Criteria an assessment was made under. The program
    chooses the one new admissions use (IOP_ASAM_EDITION); each episode keeps its own,
    so an assessment made under the 3rd edition shows the 3rd edition's names."""

    THIRD = 3, "ASAM Criteria, 3rd edition (2013)"
    FOURTH = 4, "ASAM Criteria, 4th edition (2023)"


def program_asam_edition() -> int:
    return int(settings.IOP_ASAM_EDITION)


class AsamLevel(models.TextChoices):
    """The levels of care, by code; their names are the edition's (ASAM_LEVEL_NAMES)."""

    L1 = "1", "1 Outpatient"
    L2_1 = "2.1", "2.1 Intensive outpatient"
    L2_5 = "2.5", "2.5 Partial hospitalisation"
    L3 = "3", "3.x Residential"


# The 4th edition (2023) names level 2.1 "Intensive Outpatient Treatment" and 2.5, the
# former partial hospitalisation, "High-Intensity Outpatient Treatment".
ASAM_LEVEL_NAMES = {
    AsamEdition.THIRD: dict(AsamLevel.choices),
    AsamEdition.FOURTH: {
        AsamLevel.L1: "1 Outpatient treatment",
        AsamLevel.L2_1: "2.1 Intensive outpatient treatment",
        AsamLevel.L2_5: "2.5 High-intensity outpatient treatment",
        AsamLevel.L3: "3.x Residential treatment",
    },
}


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", "Completed"
    AMA = "ama", "Left against advice"
    ADMINISTRATIVE = "administrative", "Administrative"
    TRANSFERRED = "transferred", "Transferred"
    HIGHER_LEVEL = "higher_level", "Referred to a higher level of care"
    INCARCERATED = "incarcerated", "Incarcerated"
    DIED = "died", "Died"
    OTHER = "other", "Other"


class ContinuingCare(models.TextChoices):
    OUTPATIENT = "outpatient", "Standard outpatient"
    ALUMNI = "alumni", "Alumni group"
    SOBER_LIVING = "sober_living", "Sober living"
    THERAPIST = "therapist", "Therapist referral"
    NONE = "none", "None"


# The six dimensions of each edition, under the same keys (d1-d6 are positions, not
# meanings: the 4th edition drops "readiness to change" as a dimension and adds
# "person-centered considerations" as the sixth).
ASAM_DIMENSIONS_BY_EDITION = {
    AsamEdition.THIRD: [
        ("d1", "1. Acute intoxication and withdrawal"),
        ("d2", "2. Biomedical conditions"),
        ("d3", "3. Emotional, behavioural, cognitive conditions"),
        ("d4", "4. Readiness to change"),
        ("d5", "5. Relapse, continued use potential"),
        ("d6", "6. Recovery environment"),
    ],
    AsamEdition.FOURTH: [
        ("d1", "1. Intoxication, withdrawal, and addiction medications"),
        ("d2", "2. Biomedical conditions"),
        ("d3", "3. Psychiatric and cognitive conditions"),
        ("d4", "4. Substance use-related risks"),
        ("d5", "5. Recovery environment interactions"),
        ("d6", "6. Person-centered considerations"),
    ],
}
# The keys every edition shares (labels: asam_dimensions(edition)).
ASAM_DIMENSIONS = ASAM_DIMENSIONS_BY_EDITION[AsamEdition.THIRD]


def asam_dimensions(edition: int | None = None) -> list[tuple[str, str]]:
    """The dimensions' (key, name) of an edition, the program's when none is given."""
    return ASAM_DIMENSIONS_BY_EDITION[AsamEdition(edition or program_asam_edition())]


def asam_level_name(level: str, edition: int | None = None) -> str:
    return ASAM_LEVEL_NAMES[AsamEdition(edition or program_asam_edition())].get(level, level)


ASAM_DIMENSIONS = [
    ("d1", "1. Acute intoxication and withdrawal"),
    ("d2", "2. Biomedical conditions"),
    ("d3", "3. Emotional, behavioural, cognitive conditions"),
    ("d4", "4. Readiness to change"),
    ("d5", "5. Relapse, continued use potential"),
    ("d6", "6. Recovery environment"),
]
# Each dimension's full name as The ASAM Criteria, 3rd edition (2013), gives it: the
# words a form uses where a field needs its own label (the admission's six notes).
ASAM_DIMENSION_NAMES = {
    "d1": "Acute intoxication and/or withdrawal potential",
    "d2": "Biomedical conditions and complications",
    "d3": "Emotional, behavioral, or cognitive conditions and complications",
    "d4": "Readiness to change",
    "d5": "Relapse, continued use, or continued problem potential",
    "d6": "Recovery/living environment",
}


class EpisodeQuerySet(models.QuerySet):
    def open(self):
        return self.filter(discharged_on__isnull=True)


class Episode(models.Model):
    """One admission to discharge. A readmission is a new episode."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    admitted_on = models.DateField()
    asam_level = models.CharField("ASAM level at admission", max_length=4, choices=AsamLevel)
    # The edition the level and the dimension ratings were assessed under: the program's
    # at admission (IOP_ASAM_EDITION), kept when the program changes edition later. A row
    # written outside the ORM (bulk loads) is the 3rd edition's, as every row before it.
    asam_edition = models.PositiveSmallIntegerField(
        "ASAM Criteria edition",
        choices=AsamEdition,
        default=program_asam_edition,
        db_default=AsamEdition.THIRD,
        editable=False,
    )
    # ASAM dimension ratings, 0 (no risk) to 4 (severe), each with a short note.
    dimension_ratings = models.JSONField(default=dict)
    dimension_notes = models.JSONField(default=dict, blank=True)
    planned_length_days = models.PositiveSmallIntegerField("planned length (days)", default=60)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=16, choices=DischargeReason, blank=True)
    discharge_summary = models.TextField(blank=True)
    continuing_care = models.CharField(max_length=16, choices=ContinuingCare, blank=True)
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # set by the service from the actor, never typed in a form
    )

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-admitted_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on")),
                name="episode_discharge_after_admission",
            ),
            # At most one open episode per client.
            models.UniqueConstraint(
                fields=["client"], condition=Q(discharged_on__isnull=True), name="one_open_episode"
            ),
        ]

    def __str__(self):
        return f"Episode from {when.day(self.admitted_on)}"

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None

    @property
    def asam_level_name(self) -> str:
        return asam_level_name(self.asam_level, self.asam_edition)

    def ratings(self) -> list[tuple[str, int | None, str]]:
        return [
            (label, self.dimension_ratings.get(key), self.dimension_notes.get(key, ""))
            for key, label in asam_dimensions(self.asam_edition)
        ]


class CareTeamRole(models.TextChoices):
    PRIMARY = "primary", "Primary clinician"
    COUNSELLOR = "counsellor", "Counsellor"
    PRESCRIBER = "prescriber", "Prescriber"
    CASE_MANAGER = "case_manager", "Case manager"
    INTAKE = "intake", "Intake coordinator"
    FACILITATOR = "facilitator", "Group facilitator"


# What each care-team role is granted on the client (guardian codenames); which purpose
# each codename serves is clients/access.py's to say. intake_client is admission,
# discharge and the care team (Purpose.MANAGE): the primary clinician and intake only.
# The intake coordinator keeps intake pages only; a facilitator only attendance and
# their own group-note section (README, Clients and confidentiality).
ROLE_PERMISSIONS = {
    CareTeamRole.PRIMARY: ("view_client", "change_client", "intake_client", "attend_client"),
    CareTeamRole.COUNSELLOR: ("view_client", "change_client", "attend_client"),
    CareTeamRole.PRESCRIBER: ("view_client", "change_client", "attend_client"),
    CareTeamRole.CASE_MANAGER: ("view_client", "change_client"),
    CareTeamRole.INTAKE: ("intake_client",),
    CareTeamRole.FACILITATOR: ("attend_client",),
}

# Roles a person chooses on the care-team page; facilitators come from group rosters.
ASSIGNABLE_ROLES = [
    (role.value, role.label) for role in CareTeamRole if role != CareTeamRole.FACILITATOR
]


class CareTeamQuerySet(models.QuerySet):
    def active(self, on: date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on), started_on__lte=on)


class CareTeamMember(models.Model):
    """Source of truth for who may see a client. Changed only by clients.services."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_memberships"
    )
    role = models.CharField(max_length=16, choices=CareTeamRole.choices)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    # What brought the membership: "group:<uuid>" for a facilitator, empty otherwise.
    source = models.CharField(max_length=64, blank=True)

    objects = CareTeamQuerySet.as_manager()

    class Meta:
        ordering = ["role", "started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="care_team_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["client", "staff", "role", "source"],
                condition=Q(ended_on__isnull=True),
                name="one_open_membership_per_role",
            ),
        ]
        indexes = [models.Index(fields=["staff", "client"])]

    def __str__(self):
        return f"{self.staff} as {self.get_role_display()}"


class EmergencyAccessQuerySet(models.QuerySet):
    def active(self):
        return self.filter(expires_at__gt=timezone.now())

    def awaiting_review(self):
        return self.filter(reviewed_at__isnull=True)


class EmergencyAccess(models.Model):
    """Break the glass: a stated reason opens a chart for 60 minutes, audited as such
    and listed for the admin's review until reviewed."""

    DURATION_MINUTES = 60

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="emergency_accesses")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["staff", "client", "expires_at"])]

    def __str__(self):
        return f"Emergency access by {self.staff} at {when.moment(self.started_at)}"


class InformationCategory(models.TextChoices):
    ATTENDANCE = "attendance", "Attendance and participation"
    SCREENS = "screens", "Toxicology (urine and breath) results"
    DIAGNOSIS = "diagnosis", "Diagnosis and assessment"
    TREATMENT_PLAN = "treatment_plan", "Treatment plan and progress"
    MEDICATIONS = "medications", "Medications (including MAT)"
    DISCHARGE = "discharge", "Discharge summary and continuing care"
    ALL = "all", "All Part 2 records of this program"


class RecipientType(models.TextChoices):
    PERSON = "person", "A named person"
    ORGANISATION = "organisation", "A named organisation"
    TPO = "tpo", "My treating providers, health plans, third-party payers and program operations"


class TpoRecipient(models.TextChoices):
    """The class a single TPO consent names (42 CFR 2.31(a)(4)(i), 2024 rule)."""

    TREATING_PROVIDER = "treating_provider", "Treating provider"
    HEALTH_PLAN = "health_plan", "Health plan"
    PAYER = "payer", "Third-party payer"
    OPERATIONS = "operations", "Person helping to operate this program"


class SignerRelationship(models.TextChoices):
    """Who signed, and on what basis (42 CFR 2.31(a)(8), 2.14 and 2.15; 2024 rule).

    A minor signs alone where state law lets a minor obtain treatment alone (2.14(b));
    where it requires a parent's consent, the minor and the parent both sign (2.14(c)).
    """

    SELF = "self", "The client (an adult)"
    MINOR_ALONE = "minor_alone", "The client, a minor consenting alone under state law"
    MINOR_AND_GUARDIAN = "minor_guardian", "The client (a minor) and a parent or guardian"
    GUARDIAN = "guardian", "A parent or legal guardian alone"
    AUTHORISED = "authorised", "A personal representative (authorised under state law)"


# Bases on which a minor's own signature is on the consent (42 CFR 2.14(b), 2024 rule).
MINOR_SIGNED = (SignerRelationship.MINOR_ALONE, SignerRelationship.MINOR_AND_GUARDIAN)
AGE_OF_MAJORITY = 18


END_OF_TREATMENT = "end of treatment"

DEFAULT_REVOCATION = (
    "You may revoke this consent at any time, in writing, by giving or sending a signed "
    "request to the program's privacy officer, except to the extent the program has "
    "already acted on it."
)
# The single TPO consent's redisclosure statement. 42 CFR 2.31(a)(4)(iii) (as amended by the
# final rule of 16 Feb 2024, 89 FR 12472) requires, word for word, "the statement that the
# patient's record (or information contained in the record) may be redisclosed in accordance
# with the permissions contained in the HIPAA regulations, except for uses and disclosures
# for civil, criminal, administrative, and legislative proceedings against the patient";
# 2.31(a)(10)(i) adds that records so disclosed may no longer be protected by Part 2.
# Each consent stores the statement it was signed with (``tpo_redisclosure_statement``):
# changing this text never changes a signed consent.
TPO_REDISCLOSURE = (
    "The patient's record (or information contained in the record) disclosed under this "
    "consent for treatment, payment, or health care operations to a HIPAA covered entity "
    "or business associate may be redisclosed in accordance with the permissions contained "
    "in the HIPAA regulations, except for uses and disclosures for civil, criminal, "
    "administrative, and legislative proceedings against the patient. Once redisclosed, "
    "it may no longer be protected by 42 CFR Part 2."
)
# The statement TPO consents carried until issue 21 (no proceedings exception). Kept so
# the consent page can say a consent was signed with it; never given to a new consent.
TPO_REDISCLOSURE_V1 = (
    "Records disclosed under this consent for treatment, payment or health care "
    "operations may be redisclosed by a recipient that is a HIPAA covered entity or "
    "business associate as HIPAA permits, and may then no longer be protected by 42 CFR Part 2."
)
PROCEEDINGS_EXCEPTION = (
    "except for uses and disclosures for civil, criminal, administrative, and legislative "
    "proceedings against the patient"
)
TPO_REFUSAL = (
    "The program will not deny treatment because you refuse to sign, but it may be "
    "unable to bill your health plan for services without it."
)
REDISCLOSURE_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records."  # 42 CFR 2.32
)


class ConsentQuerySet(models.QuerySet):
    def signed(self) -> "ConsentQuerySet":
        """Consents that are consents: signed. A consent staff prepared for the client to
        sign in the portal counts for nothing (no disclosure, no intake step) until then."""
        return self.filter(awaiting_signature=False, signed_on__isnull=False)


AWAITING_SIGNATURE = "awaiting the client's signature"


class Consent(models.Model):
    """A written consent to disclose, with every element of 42 CFR 2.31 (2024 rule).

    Staff record a consent signed on paper, or prepare one (``awaiting_signature``) the
    client reads and signs in the portal; the portal keeps the exact text signed
    (``signed_text``), the moment and the device's address.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    discloser = models.CharField(
        "who may disclose", max_length=200, help_text="The program (or named part of it)."
    )
    information_categories = models.JSONField(default=list)
    information_description = models.TextField(
        "specific description of the information",
        help_text="How much and what kind, e.g. 'attendance and screen results since admission'.",
    )
    recipient_type = models.CharField(max_length=16, choices=RecipientType.choices)
    recipient_name = models.CharField(
        max_length=200, blank=True, help_text="The person or organisation (not for TPO)."
    )
    purpose = models.CharField(max_length=300)
    revocation_statement = models.TextField(default=DEFAULT_REVOCATION)
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=120, blank=True, help_text=f"e.g. '{END_OF_TREATMENT}'"
    )
    tpo_redisclosure_statement = models.TextField(blank=True)
    tpo_refusal_statement = models.TextField(blank=True)
    signed_by_name = models.CharField("signed by", max_length=160)
    signer_relationship = models.CharField(
        "signed on the basis of",
        max_length=16,
        choices=SignerRelationship.choices,
        default=SignerRelationship.SELF,
    )
    # Empty only while the consent awaits the client's signature in the portal.
    signed_on = models.DateField("date signed", null=True, blank=True)
    awaiting_signature = models.BooleanField(default=False)
    # Signed in the portal: when, from which address, and the words the client read.
    signed_in_portal = models.BooleanField(default=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_text = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # set by the service from the actor, never typed in a form
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_on = models.DateField(null=True, blank=True)
    revocation_note = models.CharField(max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Revoked by the client in writing in the portal (``revocation_note`` their words).
    revoked_in_portal = models.BooleanField(default=False)
    revocation_text = models.TextField(blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(awaiting_signature=True, signed_on__isnull=True)
                | Q(awaiting_signature=False, signed_on__isnull=False),
                name="consent_signed_or_awaiting",
            ),
            models.CheckConstraint(
                condition=Q(signed_in_portal=False)
                | (Q(signed_at__isnull=False) & ~Q(signed_text="")),
                name="consent_portal_signature_kept",
            ),
            models.CheckConstraint(
                condition=~Q(expires_on__isnull=True, expiry_event=""),
                name="consent_has_expiry",
            ),
            models.CheckConstraint(
                condition=Q(recipient_type="tpo") | ~Q(recipient_name=""),
                name="consent_names_recipient",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=models.F("signed_on")),
                name="consent_revoked_after_signed",
            ),
        ]

    def __str__(self):
        if self.awaiting_signature:
            return f"Consent to {self.recipient_display}, {AWAITING_SIGNATURE}"
        return f"Consent to {self.recipient_display} signed {when.day(self.signed_on)}"

    @property
    def is_tpo(self) -> bool:
        return self.recipient_type == RecipientType.TPO

    @property
    def lacks_proceedings_exception(self) -> bool:
        """A TPO consent signed with a statement without 2.31(a)(4)(iii)'s exception."""
        return self.is_tpo and PROCEEDINGS_EXCEPTION not in self.tpo_redisclosure_statement

    @property
    def signed_by_minor(self) -> bool:
        return self.signer_relationship in MINOR_SIGNED

    @property
    def recipient_display(self) -> str:
        return RecipientType.TPO.label if self.is_tpo else self.recipient_name

    @property
    def expiry_display(self) -> str:
        parts = []
        if self.expires_on:
            parts.append(when.day(self.expires_on))
        if self.expiry_event:
            parts.append(self.expiry_event)
        return " or ".join(parts) + (", whichever comes first" if len(parts) == 2 else "")

    def category_labels(self) -> list[str]:
        labels = dict(InformationCategory.choices)
        return [labels.get(c, c) for c in self.information_categories]

    def state_on(self, day: date, *, discharges) -> str:
        """'active', 'revoked', 'expired' or 'not yet signed' on a day.

        ``discharges`` are the dates the client's episodes ended. The first one on or
        after the signature is the "end of treatment" event: the consent holds through
        that day (as through an expiry date) and stays expired after a readmission,
        which needs a new consent (42 CFR 2.31(a)(7), 2024 rule: an expiration event).
        """
        if self.awaiting_signature or self.signed_on is None:
            return AWAITING_SIGNATURE
        if self.revoked_on and self.revoked_on <= day:
            return "revoked"
        if self.signed_on > day:
            return "not yet signed"
        if self.expires_on and self.expires_on < day:
            return "expired"
        if self.expiry_event.strip().lower() == END_OF_TREATMENT and any(
            self.signed_on <= ended < day for ended in discharges
        ):
            return "expired"
        return "active"

    def covers_categories(self, categories) -> bool:
        return InformationCategory.ALL in self.information_categories or set(categories) <= set(
            self.information_categories
        )

    def covers_recipient(self, *, recipient_name: str, tpo_recipient: str = "") -> bool:
        if self.is_tpo:
            return tpo_recipient in TpoRecipient.values
        return _normalise(recipient_name) == _normalise(self.recipient_name)

    def scope_statement(self) -> str:
        return (
            f"Disclosed under the consent signed {when.day(self.signed_on)} by "
            f"{self.signed_by_name}: information: {', '.join(self.category_labels())} "
            f"({self.information_description}); to: {self.recipient_display}; "
            f"purpose: {self.purpose}; expires: {self.expiry_display}."
        )


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())


class DisclosureMethod(models.TextChoices):
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    SECURE_EMAIL = "secure_email", "Secure email"
    PORTAL = "portal", "Recipient's portal"
    PHONE = "phone", "Phone (verbal)"
    IN_PERSON = "in_person", "In person"
    # An attendance letter given to the client to hand over, checked by its recipient on
    # the public verification page (portal/letters.py).
    CLIENT_LETTER = "client_letter", "Letter given to the client, verifiable online"
    # A claim sent as an X12 837P transaction (issue 22: billing.services.claims).
    ELECTRONIC = "electronic", "Electronic claim (X12 837P)"


ACCOUNTING_YEARS = 3


def accounting_floor(today: date) -> date:
    """The first day an accounting requested on ``today`` must cover.

    42 CFR 2.25(a) (2024 rule): "all disclosures made with consent under § 2.31 in the
    3 years prior to the date of the request (or a shorter time period chosen by the
    patient)"; 2.25(b)(2) gives the same 3 years for treatment, payment and health care
    operations disclosures. Every disclosure this app records is made under a 2.31
    consent, so 3 years applies to all of them (HIPAA's six years, 45 CFR
    164.528(b)(1), is for disclosures outside Part 2 consent, which are not kept here).
    A request on 29 Feb reaches back to 28 Feb.
    """
    year = today.year - ACCOUNTING_YEARS
    return (
        today.replace(year=year, day=28)
        if (today.month, today.day) == (2, 29)
        else (today.replace(year=year))
    )


class DisclosureQuerySet(models.QuerySet):
    def for_accounting(self, client, *, today: date | None = None, since: date | None = None):
        """42 CFR 2.25(a) (2024 rule): the disclosures from ``since`` (a shorter period the
        client chose) or else from 3 years before the request, through the request's day."""
        today = today or timezone.localdate()
        since = max(since or accounting_floor(today), accounting_floor(today))
        return (
            self.filter(client=client, disclosed_on__gte=since, disclosed_on__lte=today)
            .select_related("consent", "disclosed_by")
            .order_by("-disclosed_on", "-id")
        )


class Disclosure(models.Model):
    """What was sent, to whom, when, by whom, under which consent. Never edited."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="disclosures")
    recipient_name = models.CharField(max_length=200)
    # 45 CFR 164.528(b)(2)(ii), which 42 CFR 2.25(a) (2024 rule) applies: the recipient's
    # name "and, if known, the address"; (b)(2)(iv): "a brief statement of the purpose".
    recipient_address = models.CharField(
        max_length=300, blank=True, help_text="If known: postal, fax or email address."
    )
    tpo_recipient = models.CharField(max_length=20, choices=TpoRecipient.choices, blank=True)
    information_categories = models.JSONField(default=list)
    description = models.TextField("what was sent")
    purpose = models.CharField(
        max_length=300,
        help_text="A brief statement of why it was sent, e.g. 'monthly monitoring report'.",
    )
    method = models.CharField(max_length=16, choices=DisclosureMethod.choices)
    disclosed_on = models.DateField()
    # None: the program itself, by a command (a claims export run by manage.py).
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    redisclosure_notice = models.TextField(default=REDISCLOSURE_NOTICE)
    consent_scope = models.TextField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-disclosed_on", "-id"]
        indexes = [models.Index(fields=["client", "-disclosed_on"])]

    def __str__(self):
        return f"Disclosure to {self.recipient_name} on {when.day(self.disclosed_on)}"

    def category_labels(self) -> list[str]:
        labels = dict(InformationCategory.choices)
        return [labels.get(c, c) for c in self.information_categories]
