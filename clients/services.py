"""Writes that span rows: each keyword-only, atomic, validating and audited."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from clients.access import permission_id_map
from clients.models import (
    AGE_OF_MAJORITY,
    AWAITING_SIGNATURE,
    DUPLICATE_WINDOW,
    MINOR_SIGNED,
    REDISCLOSURE_NOTICE,
    ROLE_PERMISSIONS,
    TPO_REDISCLOSURE,
    TPO_REFUSAL,
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    ClientUserObjectPermission,
    Consent,
    Disclosure,
    EmergencyAccess,
    Episode,
    RecipientType,
    SignerRelationship,
    SupportContact,
)
from clients.signals import episode_discharged
from iop import when
from iop.accounts.models import Role
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date
from iop.forms import text_problem
from iop.notifications.signals import reminders_withdrawn

MINIMUM_AGE = 12
# Admissions are recorded near the day: a date further ahead is a typing slip.
ADMISSION_MAX_DAYS_AHEAD = 30
# The fields a registration or a demographics edit may set; clinical intake data
# (substances, co-occurring conditions) is written by client_clinical_update only.
DEMOGRAPHIC_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "phone",
    "email",
    "profession",
    "employer",
    "monitoring_program",
    "monitoring_contact",
    "referral_source",
    "reminder_channel",
    "reminder_consent",
    "reminder_may_name_program",
    "quiet_hours_start",
    "quiet_hours_end",
)

# Which staff may hold which care-team role (a facilitator comes from a group roster).
ROLE_STAFF = {
    CareTeamRole.PRIMARY: (Role.CLINICIAN, Role.SUPERVISOR),
    CareTeamRole.COUNSELLOR: (Role.CLINICIAN, Role.SUPERVISOR),
    CareTeamRole.PRESCRIBER: (Role.MEDICAL,),
    CareTeamRole.CASE_MANAGER: (Role.CLINICIAN, Role.SUPERVISOR),
    CareTeamRole.INTAKE: (Role.INTAKE,),
    CareTeamRole.FACILITATOR: (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL),
}
# Roles whose grants include clinical content; nobody gives one of these to themselves.
CLINICAL_ACCESS_ROLES = frozenset(
    role for role, codenames in ROLE_PERMISSIONS.items() if "view_client" in codenames
)
# Break the glass is for clinical emergencies: the people who treat.
EMERGENCY_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL)


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """A phone number in E.164 (+15551234567), or "" for none; refuses what is not one."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.IOP_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {field: "Enter a valid phone number, e.g. (555) 201-4477 or +1 555 201 4477."}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_reminders(client: Client) -> None:
    """A reminder channel needs the client's consent and somewhere valid to send to."""
    channel = client.reminder_channel
    if channel in ("sms", "email") and not client.reminder_consent:
        raise ValidationError(
            {"reminder_consent": "Reminders need the client's consent: tick the box."}
        )
    if channel == "sms" and not client.phone:
        raise ValidationError({"reminder_channel": "Text reminders need a valid phone number."})
    if channel == "email" and not client.email:
        raise ValidationError({"reminder_channel": "Email reminders need an email address."})


def validate_date_of_birth(dob: date, *, today: date | None = None) -> None:
    today = today or timezone.localdate()
    check_date(dob, DateKind.BIRTH, field="date_of_birth", today=today)
    if dob > today:
        raise ValidationError({"date_of_birth": "The date of birth is in the future."})
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    if age < MINIMUM_AGE:
        raise ValidationError(
            {"date_of_birth": f"Clients must be at least {MINIMUM_AGE} years old."}
        )


def possible_duplicates(*, first_name: str, last_name: str, dob: date):
    """Clients with the same legal name and date of birth, whoever can see them.

    Intake must learn that a match exists to avoid a second chart, but not who it
    is: callers show only the count.
    """
    return Client.objects.filter(
        legal_first_name__iexact=first_name.strip(),
        legal_last_name__iexact=last_name.strip(),
        date_of_birth=dob,
    )


def _demographics(fields: dict) -> dict:
    unknown = set(fields) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise TypeError(f"not demographic fields: {sorted(unknown)}")
    if "phone" in fields:
        fields = {**fields, "phone": normalise_phone(fields["phone"])}
    return fields


@transaction.atomic
def client_register(*, actor, audit: AuditContext | None = None, **fields) -> Client:
    """Register a prospect; the registering intake coordinator joins the care team."""
    fields = _demographics(fields)
    validate_date_of_birth(fields["date_of_birth"])
    client = Client(created_by=actor, status=ClientStatus.PROSPECT, **fields)
    _check_reminders(client)
    client.full_clean()
    client.save()
    audit_record(action="client.register", actor=actor, audit=audit, obj=client, client=client)
    if not actor.is_program_admin:
        care_team_add(
            client=client, staff=actor, role=CareTeamRole.INTAKE, actor=actor, audit=audit
        )
    return client


@transaction.atomic
def client_update(*, client: Client, actor, audit: AuditContext | None = None, **fields) -> Client:
    """Change demographics, contact and reminder preferences (not clinical intake data)."""
    fields = _demographics(fields)
    if "date_of_birth" in fields:
        validate_date_of_birth(fields["date_of_birth"])
    changed = sorted(name for name, value in fields.items() if getattr(client, name) != value)
    for name, value in fields.items():
        setattr(client, name, value)
    _check_reminders(client)
    client.full_clean()
    client.save()
    if {"reminder_channel", "reminder_consent"} & set(changed) or (
        "reminder_may_name_program" in changed and not client.reminder_may_name_program
    ):
        # An opt-out (or a new channel) stops what was written for the old one at once;
        # the scheduler writes the new channel's reminders under new keys. A message
        # written naming the program is not sent once the client took that back.
        reminders_withdrawn.send(sender=Client, client=client.public_id, audit=audit)
    audit_record(
        action="client.update",
        actor=actor,
        audit=audit,
        obj=client,
        client=client,
        detail=f"fields={','.join(changed)}",
    )
    return client


@transaction.atomic
def client_clinical_update(
    *,
    client: Client,
    primary_substances: list[str],
    co_occurring_conditions: str,
    actor,
    audit: AuditContext | None = None,
) -> Client:
    """Clinical intake data: only people with the CLINICAL purpose reach the page."""
    client.primary_substances = list(primary_substances)
    client.co_occurring_conditions = co_occurring_conditions.strip()
    client.full_clean()
    client.save(update_fields=["primary_substances", "co_occurring_conditions"])
    audit_record(
        action="client.clinical_update", actor=actor, audit=audit, obj=client, client=client
    )
    return client


@transaction.atomic
def contact_add(*, client: Client, actor, audit: AuditContext | None = None, **fields):
    fields["phone"] = normalise_phone(fields.get("phone", ""))
    if not fields["phone"] and not fields.get("email"):
        raise ValidationError("Give a phone number or an email address.")
    contact = SupportContact(client=client, **fields)
    contact.full_clean()
    contact.save()
    audit_record(action="contact.add", actor=actor, audit=audit, obj=contact, client=client)
    return contact


# --- Care team and the object permissions it drives ------------------------------


@dataclass
class PermissionDiff:
    granted: set = field(default_factory=set)
    revoked: set = field(default_factory=set)

    def __bool__(self):
        return bool(self.granted or self.revoked)


def client_permissions_sync(*, client: Client, on: date | None = None) -> PermissionDiff:
    """Make the client's object permissions equal to what its active care team grants.

    The care team is the source of truth; this is the only code that writes the
    permission table, called by every care-team change and by the rebuild command.
    """
    on = on or timezone.localdate()
    codename_to_id = {c: permission_id_map()[c] for c in _all_codenames()}
    wanted = {
        (member.staff_id, codename_to_id[codename])
        for member in CareTeamMember.objects.active(on).filter(client=client)
        for codename in ROLE_PERMISSIONS[member.role]
    }
    # Every row, not only the codenames roles grant: a row no role explains is stray.
    existing = set(
        ClientUserObjectPermission.objects.filter(content_object=client).values_list(
            "user_id", "permission_id"
        )
    )
    diff = PermissionDiff(granted=wanted - existing, revoked=existing - wanted)
    if diff.granted:
        ClientUserObjectPermission.objects.bulk_create(
            [
                ClientUserObjectPermission(content_object=client, user_id=u, permission_id=p)
                for u, p in diff.granted
            ]
        )
    for user_id, permission_id in diff.revoked:
        ClientUserObjectPermission.objects.filter(
            content_object=client, user_id=user_id, permission_id=permission_id
        ).delete()
    return diff


def client_permissions_sync_bulk(*, clients=None, on: date | None = None) -> PermissionDiff:
    """``client_permissions_sync`` for many clients in two statements: the same rule
    (ROLE_PERMISSIONS over the care team active ``on``, every other row stray), set
    based, for seeding a large dataset and for fixtures. ``clients`` is a Client
    queryset (every client when None). Returns counts only: ``granted`` and
    ``revoked`` hold the number of rows, not the rows. Not audited: callers that change
    real access use the care-team services, which audit each change.

    Plain SQL that PostgreSQL and SQLite both run (``make test`` runs on either): the
    role grants are a UNION ALL of rows, DELETE takes no alias, row values compare.
    """
    on = on or timezone.localdate()
    ids = permission_id_map()
    pairs = [
        (role, ids[codename])
        for role, codenames in ROLE_PERMISSIONS.items()
        for codename in codenames
    ]
    clients = Client.objects.all() if clients is None else clients
    scope_sql, scope_params = clients.values("pk").query.sql_with_params()
    grants = " UNION ALL ".join(["SELECT %s AS role, %s AS permission_id"] * len(pairs))
    role_params = [value for pair in pairs for value in pair]
    day = connection.ops.adapt_datefield_value(on)
    table = ClientUserObjectPermission._meta.db_table
    member = CareTeamMember._meta.db_table
    # Column and table names come from the models; every value is a parameter.
    wanted = f"""
        SELECT DISTINCT ct.client_id, ct.staff_id, grants.permission_id
        FROM {member} ct
        JOIN ({grants}) grants ON grants.role = ct.role
        WHERE ct.started_on <= %s AND (ct.ended_on IS NULL OR ct.ended_on > %s)
          AND ct.client_id IN ({scope_sql})
    """  # noqa: S608
    wanted_params = [*role_params, day, day, *scope_params]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table}
            WHERE content_object_id IN ({scope_sql})
              AND (content_object_id, user_id, permission_id) NOT IN ({wanted})
            """,  # noqa: S608
            [*scope_params, *wanted_params],
        )
        revoked = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {table} (content_object_id, user_id, permission_id)
            SELECT w.client_id, w.staff_id, w.permission_id FROM ({wanted}) w
            WHERE NOT EXISTS (
                SELECT 1 FROM {table} p WHERE p.content_object_id = w.client_id
                  AND p.user_id = w.staff_id AND p.permission_id = w.permission_id
            )
            """,  # noqa: S608
            wanted_params,
        )
        granted = cursor.rowcount
    return PermissionDiff(granted=granted, revoked=revoked)


def _all_codenames() -> tuple[str, ...]:
    return tuple(sorted({c for codes in ROLE_PERMISSIONS.values() for c in codes}))


@transaction.atomic
def care_team_add(
    *,
    client: Client,
    staff,
    role: str,
    actor,
    started_on: date | None = None,
    source: str = "",
    audit: AuditContext | None = None,
) -> CareTeamMember:
    client = Client.objects.lock(client)
    started_on = started_on or timezone.localdate()
    check_date(started_on, DateKind.SCHEDULE, field="started_on")
    if not staff.is_active:
        raise ValidationError({"staff": "This account is deactivated."})
    if not staff.has_role(*ROLE_STAFF[role]):
        raise ValidationError(
            {"staff": f"{staff} does not hold a role that can be {CareTeamRole(role).label}."}
        )
    # Intake assigns clinicians; it does not become one. Nobody gives themselves a
    # role that opens clinical content: that takes a second person (or an admin).
    if staff.pk == actor.pk and role in CLINICAL_ACCESS_ROLES and not source:
        raise ValidationError(
            {
                "staff": "You cannot add yourself in a clinical role: ask the primary clinician "
                "or a program admin."
            }
        )
    episode = client.episodes.open().first()
    if episode is not None and started_on < episode.admitted_on:
        raise ValidationError(
            {"started_on": f"The start is before the admission ({when.day(episode.admitted_on)})."}
        )
    existing = CareTeamMember.objects.filter(
        client=client, staff=staff, role=role, source=source, ended_on__isnull=True
    ).first()
    if existing:
        if source:  # a roster sync may ask twice; adding is idempotent for it
            return existing
        raise ValidationError({"staff": f"{staff} is already on the care team in this role."})
    member = CareTeamMember(
        client=client, staff=staff, role=role, started_on=started_on, source=source
    )
    member.full_clean()
    member.save()
    client_permissions_sync(client=client)
    audit_record(
        action="careteam.add",
        actor=actor,
        audit=audit,
        obj=member,
        client=client,
        detail=f"role={role}; staff={staff.get_username()}",
    )
    return member


@transaction.atomic
def care_team_end(
    *,
    member: CareTeamMember,
    actor,
    ended_on: date | None = None,
    audit: AuditContext | None = None,
) -> CareTeamMember:
    client = Client.objects.lock(member.client)
    member = CareTeamMember.objects.select_for_update().get(pk=member.pk)
    ended_on = ended_on or timezone.localdate()
    if member.ended_on is not None:
        return member
    if ended_on < member.started_on:
        raise ValidationError({"ended_on": "The end is before the start of this membership."})
    if (
        member.role == CareTeamRole.PRIMARY
        and client.status == ClientStatus.ACTIVE
        and not CareTeamMember.objects.filter(
            client=client, role=CareTeamRole.PRIMARY, ended_on__isnull=True
        )
        .exclude(pk=member.pk)
        .exists()
    ):
        raise ValidationError(
            "An active client needs a primary clinician: assign the new one before "
            "removing the last."
        )
    member.ended_on = ended_on
    member.save(update_fields=["ended_on"])
    client_permissions_sync(client=client)
    audit_record(
        action="careteam.end",
        actor=actor,
        audit=audit,
        obj=member,
        client=client,
        detail=f"role={member.role}; staff={member.staff.get_username()}",
    )
    return member


@transaction.atomic
def care_team_end_source(*, client: Client, source: str, actor, ended_on=None) -> int:
    """End every membership a roster brought (a client leaving a group)."""
    ended = 0
    for member in CareTeamMember.objects.filter(
        client=client, source=source, ended_on__isnull=True
    ):
        care_team_end(member=member, actor=actor, ended_on=ended_on)
        ended += 1
    return ended


def permissions_sync_due(*, on: date | None = None, audit: AuditContext | None = None) -> int:
    """Apply memberships that start or end on ``on`` (a care team planned ahead).

    Run hourly by beat; idempotent, and cheap: only clients with such a date. Each
    change of access is on the audit trail under the task's system context.
    """
    on = on or timezone.localdate()
    audit = audit or AuditContext.system("careteam-sync")
    due = (
        Client.objects.filter(Q(care_team__started_on=on) | Q(care_team__ended_on=on))
        .distinct()
        .only("pk", "public_id")
    )
    changed = 0
    for client in due:
        with transaction.atomic():
            diff = client_permissions_sync(client=client, on=on)
            if diff:
                changed += 1
                _audit_permission_diff(client=client, diff=diff, audit=audit)
    return changed


def _audit_permission_diff(*, client: Client, diff: PermissionDiff, audit: AuditContext) -> None:
    audit_record(
        action="careteam.permissions_sync",
        audit=audit,
        object_type="clients.client",
        object_id=str(client.public_id),
        client=client,
        detail=f"granted={len(diff.granted)}; revoked={len(diff.revoked)}",
    )


def permissions_rebuild(
    *, apply: bool = True, audit: AuditContext | None = None
) -> dict[int, PermissionDiff]:
    """Recompute every client's object permissions from the care team."""
    audit = audit or AuditContext.system("rebuild_client_permissions")
    differences = {}
    for client in Client.objects.only("pk", "public_id").iterator(chunk_size=500):
        with transaction.atomic():
            diff = client_permissions_sync(client=client)
            if diff:
                differences[client.pk] = diff
            if not apply:
                transaction.set_rollback(True)
            elif diff:
                _audit_permission_diff(client=client, diff=diff, audit=audit)
    return differences


# --- Episodes ---------------------------------------------------------------------


@transaction.atomic
def episode_admit(*, client: Client, actor, audit: AuditContext | None = None, **fields) -> Episode:
    client = Client.objects.lock(client)
    if client.episodes.open().exists():
        raise ValidationError("This client already has an open episode: discharge it first.")
    admitted_on = fields.get("admitted_on")
    check_date(admitted_on, DateKind.RECORD, field="admitted_on")
    if admitted_on and admitted_on > timezone.localdate() + timedelta(
        days=ADMISSION_MAX_DAYS_AHEAD
    ):
        raise ValidationError(
            {
                "admitted_on": f"Admission more than {ADMISSION_MAX_DAYS_AHEAD} days ahead: "
                "record it nearer the day."
            }
        )
    episode = Episode(client=client, admitted_by=actor, **fields)
    episode.full_clean()
    episode.save()
    client.status = ClientStatus.ACTIVE
    client.save(update_fields=["status"])
    audit_record(action="episode.admit", actor=actor, audit=audit, obj=episode, client=client)
    return episode


@transaction.atomic
def episode_discharge(
    *,
    episode: Episode,
    discharged_on: date,
    reason: str,
    summary: str,
    continuing_care: str,
    actor,
    audit: AuditContext | None = None,
) -> Episode:
    client = Client.objects.lock(episode.client)
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.discharged_on is not None:
        raise ValidationError("This episode is already discharged.")
    if discharged_on < episode.admitted_on:
        raise ValidationError(
            {
                "discharged_on": "Discharge cannot be before admission "
                f"({when.day(episode.admitted_on)})."
            }
        )
    if discharged_on > timezone.localdate():
        raise ValidationError({"discharged_on": "The discharge date is in the future."})
    episode.discharged_on = discharged_on
    episode.discharge_reason = reason
    episode.discharge_summary = summary
    episode.continuing_care = continuing_care
    episode.full_clean()
    episode.save()
    client.status = ClientStatus.DISCHARGED
    client.save(update_fields=["status"])
    # Scheduling closes enrollments and removes the client from future sessions,
    # inside this same transaction.
    episode_discharged.send(sender=Episode, episode=episode, actor=actor)
    audit_record(
        action="episode.discharge",
        actor=actor,
        audit=audit,
        obj=episode,
        client=client,
        detail=f"reason={reason}",
    )
    return episode


# --- Part 2 consents and disclosures ------------------------------------------------


def discharge_dates(client: Client) -> list[date]:
    """When the client's treatment ended, for consents that expire at "end of treatment"."""
    return list(
        client.episodes.filter(discharged_on__isnull=False).values_list("discharged_on", flat=True)
    )


@transaction.atomic
def consent_record(
    *, client: Client, actor, audit: AuditContext | None = None, **fields
) -> Consent:
    consent = Consent(client=client, recorded_by=actor, **fields)
    if consent.recipient_type == RecipientType.TPO:
        consent.recipient_name = ""
        # 42 CFR 2.31(a)(4)(iii) and (a)(10)(i)-(ii) (2024 rule): a TPO consent states
        # redisclosure (with the proceedings exception) and the consequences of refusing.
        consent.tpo_redisclosure_statement = TPO_REDISCLOSURE
        consent.tpo_refusal_statement = TPO_REFUSAL
    if consent.signed_on and consent.signed_on > timezone.localdate():
        raise ValidationError({"signed_on": "The signature date is in the future."})
    if consent.expires_on and consent.signed_on and consent.expires_on < consent.signed_on:
        raise ValidationError({"expires_on": "The consent would expire before it was signed."})
    if not consent.expires_on and not consent.expiry_event.strip():
        raise ValidationError({"expires_on": "Give an expiry date or an expiry event."})
    if not consent.information_categories:
        raise ValidationError({"information_categories": "Choose what may be disclosed."})
    check_date(consent.signed_on, DateKind.RECORD, field="signed_on")
    check_date(consent.expires_on, DateKind.EXPIRY, field="expires_on")
    check_signer_basis(client, consent.signer_relationship, consent.signed_on)
    consent.full_clean()
    Client.objects.lock(client)  # serialises two submissions of the same form
    earlier = _same_submission(
        Consent.objects.filter(client=client, recorded_by=actor),
        consent,
        (
            "recipient_type",
            "recipient_name",
            "purpose",
            "information_categories",
            "signed_on",
            "expires_on",
            "expiry_event",
            "signed_by_name",
            "signer_relationship",
        ),
        at="recorded_at",
    )
    if earlier is not None:
        return earlier
    consent.save()
    audit_record(action="consent.record", actor=actor, audit=audit, obj=consent, client=client)
    return consent


@transaction.atomic
def consent_prepare(
    *, client: Client, actor, audit: AuditContext | None = None, **fields
) -> Consent:
    """A consent with every 42 CFR 2.31 element but the signature, for the client to read
    and sign in the portal. It is ``awaiting_signature`` and counts as no consent
    (``Consent.objects.signed()``) until then."""
    for name in ("signed_on", "signed_by_name", "signer_relationship"):
        fields.pop(name, None)
    consent = Consent(
        client=client, recorded_by=actor, awaiting_signature=True, signed_on=None, **fields
    )
    if consent.recipient_type == RecipientType.TPO:
        consent.recipient_name = ""
        consent.tpo_redisclosure_statement = TPO_REDISCLOSURE
        consent.tpo_refusal_statement = TPO_REFUSAL
    if consent.expires_on and consent.expires_on < timezone.localdate():
        raise ValidationError({"expires_on": "The consent would expire before it is signed."})
    if not consent.expires_on and not consent.expiry_event.strip():
        raise ValidationError({"expires_on": "Give an expiry date or an expiry event."})
    if not consent.information_categories:
        raise ValidationError({"information_categories": "Choose what may be disclosed."})
    check_date(consent.expires_on, DateKind.EXPIRY, field="expires_on")
    consent.full_clean(exclude=["signed_by_name", "signed_on"])
    Client.objects.lock(client)
    earlier = _same_submission(
        Consent.objects.filter(client=client, recorded_by=actor, awaiting_signature=True),
        consent,
        (
            "recipient_type",
            "recipient_name",
            "purpose",
            "information_categories",
            "expires_on",
            "expiry_event",
        ),
        at="recorded_at",
    )
    if earlier is not None:
        return earlier
    consent.save()
    audit_record(action="consent.prepare", actor=actor, audit=audit, obj=consent, client=client)
    return consent


def portal_signer_basis(client: Client, on: date) -> str | None:
    """The basis on which the client alone may sign in the portal on ``on`` (42 CFR
    2.31(a)(8), 2.14, 2024 rule): an adult for themself, a minor whom the program's state
    lets consent alone (``IOP_MINORS_CONSENT_ALONE``) alone; None for a minor who needs a
    parent's or guardian's signature too, which is taken at the program, not here."""
    age = client.age_on(on)
    if age >= AGE_OF_MAJORITY:
        return SignerRelationship.SELF
    alone_from = settings.IOP_MINORS_CONSENT_ALONE
    if alone_from is not None and age >= alone_from:
        return SignerRelationship.MINOR_ALONE
    return None


def consent_text_digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def consent_sign_by_client(
    *,
    consent: Consent,
    typed_name: str,
    attested: bool,
    text: str,
    text_digest: str,
    ip_address: str | None,
    audit: AuditContext,
) -> Consent:
    """The client signs a prepared consent in the portal: the typed name must be their
    legal name and the attestation ticked; the record keeps ``text`` (the consent as the
    page rendered it, which the client read: ``text_digest`` is what the page showed),
    the moment and the address. A second submission returns the first signature."""
    consent = Consent.objects.select_for_update().select_related("client").get(pk=consent.pk)
    client = consent.client
    if not consent.awaiting_signature:
        if consent.signed_in_portal and consent.signed_at >= timezone.now() - DUPLICATE_WINDOW:
            consent.repeated = True
            return consent
        raise ValidationError("This consent is not waiting for a signature.")
    problem = text_problem(typed_name or "", 160)
    if problem:
        raise ValidationError({"typed_name": problem})
    if " ".join(typed_name.casefold().split()) != " ".join(client.legal_name.casefold().split()):
        raise ValidationError(
            {"typed_name": "Type your full legal name exactly as the program has it."}
        )
    if not attested:
        raise ValidationError({"attest": "Tick the box to say you read and agree to it."})
    if consent_text_digest(text) != (text_digest or ""):
        raise ValidationError("The consent changed since the page opened: read it again.")
    today = timezone.localdate()
    basis = portal_signer_basis(client, today)
    if basis is None:
        raise ValidationError(
            "Your state's law needs a parent or guardian to sign this consent with you: "
            "sign it with them at the program."
        )
    if consent.expires_on and consent.expires_on < today:
        raise ValidationError(
            "This consent's expiry date has passed: ask the program for a new one."
        )
    consent.awaiting_signature = False
    consent.signed_on = today
    consent.signed_by_name = " ".join(typed_name.split())
    consent.signer_relationship = basis
    consent.signed_in_portal = True
    consent.signed_at = timezone.now()
    consent.signed_ip = ip_address or None
    consent.signed_text = text
    consent.save(
        update_fields=[
            "awaiting_signature",
            "signed_on",
            "signed_by_name",
            "signer_relationship",
            "signed_in_portal",
            "signed_at",
            "signed_ip",
            "signed_text",
        ]
    )
    audit_record(
        action="consent.sign",
        audit=audit,
        obj=consent,
        client=client,
        detail=f"by=client; basis={basis}",
    )
    return consent


REVOCATION_LIMIT = 2000


@transaction.atomic
def consent_revoke_by_client(*, consent: Consent, reason: str, audit: AuditContext) -> Consent:
    """The client revokes a signed consent in writing in the portal (42 CFR 2.31(a)(6)):
    dated today, their words kept, audited as a revocation (``consent.revoke``)."""
    consent = Consent.objects.select_for_update().select_related("client").get(pk=consent.pk)
    if consent.awaiting_signature:
        raise ValidationError("This consent was never signed: there is nothing to revoke.")
    if consent.revoked_on:
        if consent.revoked_in_portal:
            consent.repeated = True
            return consent
        raise ValidationError("This consent is already revoked.")
    problem = text_problem(reason or "", REVOCATION_LIMIT)
    if problem:
        raise ValidationError({"reason": problem})
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(
            {"reason": "Write that you revoke this consent (a sentence is enough)."}
        )
    consent.revoked_on = timezone.localdate()
    consent.revocation_note = "Revoked in writing by the client in the portal"
    consent.revocation_text = reason
    consent.revoked_in_portal = True
    consent.save(
        update_fields=["revoked_on", "revocation_note", "revocation_text", "revoked_in_portal"]
    )
    audit_record(
        action="consent.revoke",
        audit=audit,
        obj=consent,
        client=consent.client,
        detail="by=client",
    )
    return consent


def check_signer_basis(client: Client, basis: str, signed_on: date) -> None:
    """Refuse a signer basis that does not fit the client's age on the day signed.

    42 CFR 2.31(a)(8) and 2.14 (2024 rule): an adult signs for themself (or a personal
    representative signs, 2.15); a minor who may obtain treatment alone under state law
    (``IOP_MINORS_CONSENT_ALONE``: the age from which the program's state allows it)
    gives consent alone, so a parent's or guardian's signature alone is refused (2.14(b));
    otherwise the minor signs with a parent or guardian (2.14(c)), or a guardian alone
    where the minor cannot.
    """
    if not signed_on or not basis:
        return
    age = client.age_on(signed_on)
    on_day = f"{age} on {when.day(signed_on)}"
    if age >= AGE_OF_MAJORITY:
        if basis in (*MINOR_SIGNED, SignerRelationship.GUARDIAN):
            raise ValidationError(
                {
                    "signer_relationship": f"The client was an adult ({on_day}): the client "
                    "signs, or a personal representative."
                }
            )
        return
    alone_from = settings.IOP_MINORS_CONSENT_ALONE
    if alone_from is not None and age >= alone_from:
        if basis != SignerRelationship.MINOR_ALONE:
            raise ValidationError(
                {
                    "signer_relationship": f"The client was a minor ({on_day}) who may "
                    f"consent alone from {alone_from} under this program's state law: "
                    "42 CFR 2.14(b) requires the minor's own signature, and only theirs. "
                    "Choose 'the client, a minor consenting alone'."
                }
            )
        return
    if basis in (SignerRelationship.SELF, SignerRelationship.MINOR_ALONE):
        raise ValidationError(
            {
                "signer_relationship": f"The client was a minor ({on_day}) and this "
                "program's state law requires a parent's consent: the minor and a parent "
                "or guardian sign (42 CFR 2.14(c))."
            }
        )


def _same_submission(queryset, candidate, fields, *, at: str):
    """The identical record this actor saved moments ago, if any (a double submission).

    Returned with ``repeated = True`` so the page can say it was already recorded;
    the caller holds the client's row lock, so two concurrent posts serialise here.
    """
    recent = queryset.filter(**{f"{at}__gte": timezone.now() - DUPLICATE_WINDOW})
    for row in recent.order_by("-id")[:20]:
        if all(getattr(row, name) == getattr(candidate, name) for name in fields):
            row.repeated = True
            return row
    return None


@transaction.atomic
def consent_revoke(
    *, consent: Consent, revoked_on: date, note: str, actor, audit: AuditContext | None = None
) -> Consent:
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.awaiting_signature:
        raise ValidationError("This consent was never signed: there is nothing to revoke.")
    if consent.revoked_on:
        raise ValidationError("This consent is already revoked.")
    check_date(revoked_on, DateKind.RECORD, field="revoked_on")
    if revoked_on < consent.signed_on:
        raise ValidationError({"revoked_on": "Revocation cannot precede the signature."})
    if revoked_on > timezone.localdate():
        raise ValidationError({"revoked_on": "The revocation date is in the future."})
    consent.revoked_on = revoked_on
    consent.revocation_note = note
    consent.revoked_by = actor
    consent.save(update_fields=["revoked_on", "revocation_note", "revoked_by"])
    audit_record(
        action="consent.revoke", actor=actor, audit=audit, obj=consent, client=consent.client
    )
    return consent


@transaction.atomic
def disclosure_record(
    *,
    client: Client,
    consent: Consent,
    recipient_name: str,
    information_categories: list[str],
    description: str,
    method: str,
    disclosed_on: date,
    actor,
    purpose: str = "",
    recipient_address: str = "",
    tpo_recipient: str = "",
    audit: AuditContext | None = None,
) -> Disclosure:
    """Record a disclosure; refused unless a valid consent covers recipient and information."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.client_id != client.pk:
        raise ValidationError({"consent": "That consent belongs to another client."})
    if consent.awaiting_signature or consent.signed_on is None:
        # A consent prepared for the portal is no consent until the client signs it.
        raise ValidationError({"consent": f"The consent is {AWAITING_SIGNATURE}."})
    check_date(disclosed_on, DateKind.RECORD, field="disclosed_on")
    if disclosed_on > timezone.localdate():
        raise ValidationError({"disclosed_on": "The disclosure date is in the future."})
    state = consent.state_on(disclosed_on, discharges=discharge_dates(client))
    if state != "active":
        raise ValidationError({"consent": f"The consent is {state} on {when.day(disclosed_on)}."})
    if not consent.covers_recipient(recipient_name=recipient_name, tpo_recipient=tpo_recipient):
        named = consent.recipient_display
        raise ValidationError(
            {"recipient_name": f"The consent does not name this recipient (it names {named})."}
        )
    if not information_categories:
        raise ValidationError({"information_categories": "Say what was disclosed."})
    if not purpose.strip():
        # 45 CFR 164.528(b)(2)(iv), applied by 42 CFR 2.25(a) (2024 rule).
        raise ValidationError({"purpose": "Say briefly why it was disclosed."})
    if not consent.covers_categories(information_categories):
        raise ValidationError(
            {"information_categories": "The consent does not cover all of this information."}
        )
    disclosure = Disclosure(
        client=client,
        consent=consent,
        recipient_name=recipient_name.strip(),
        recipient_address=recipient_address.strip(),
        purpose=purpose.strip(),
        tpo_recipient=tpo_recipient if consent.is_tpo else "",
        information_categories=list(information_categories),
        description=description,
        method=method,
        disclosed_on=disclosed_on,
        disclosed_by=actor,
        redisclosure_notice=REDISCLOSURE_NOTICE,
        consent_scope=consent.scope_statement(),
    )
    disclosure.full_clean()
    Client.objects.lock(client)  # serialises two submissions of the same form
    earlier = _same_submission(
        Disclosure.objects.filter(client=client, disclosed_by=actor, consent=consent),
        disclosure,
        (
            "recipient_name",
            "recipient_address",
            "purpose",
            "tpo_recipient",
            "information_categories",
            "description",
            "method",
            "disclosed_on",
        ),
        at="recorded_at",
    )
    if earlier is not None:
        return earlier
    disclosure.save()
    audit_record(
        action="disclosure.record", actor=actor, audit=audit, obj=disclosure, client=client
    )
    return disclosure


# --- Break the glass ----------------------------------------------------------------

MINIMUM_REASON_LENGTH = 15
MAXIMUM_REASON_LENGTH = 1000  # the form's limit
_WORD = re.compile(r"[^\W\d_]{2,}")


def emergency_reason_problem(reason: str) -> str | None:
    """Why a stated emergency is not an account of one, or None.

    The reason is what the admin reviews: it must be words ("client collapsed,
    paramedics ask about medications"), not a run of one letter or a keyboard mash.
    """
    reason = " ".join((reason or "").split())
    problem = text_problem(reason, MAXIMUM_REASON_LENGTH)
    if problem:
        return problem
    words = _WORD.findall(reason)
    if (
        len(reason) < MINIMUM_REASON_LENGTH
        or len(words) < 3
        or len({w.casefold() for w in words}) < 3
        or len(set(reason.casefold()) - {" "}) < 6
    ):
        return (
            f"State the emergency in words: at least three words and "
            f"{MINIMUM_REASON_LENGTH} characters."
        )
    return None


@transaction.atomic
def emergency_access_open(
    *, client: Client, actor, reason: str, audit: AuditContext | None = None
) -> EmergencyAccess:
    if not actor.has_role(*EMERGENCY_ROLES):
        raise ValidationError("Your role does not open records in an emergency.")
    problem = emergency_reason_problem(reason)
    if problem:
        raise ValidationError({"reason": problem})
    now = timezone.now()
    access = EmergencyAccess.objects.create(
        client=client,
        staff=actor,
        reason=" ".join(reason.split()),
        started_at=now,
        expires_at=now + timedelta(minutes=EmergencyAccess.DURATION_MINUTES),
    )
    audit_record(
        action="client.emergency_access",
        actor=actor,
        audit=audit,
        obj=access,
        client=client,
        detail=f"break the glass; {EmergencyAccess.DURATION_MINUTES} minutes",
    )
    return access


@transaction.atomic
def emergency_access_review(
    *, access: EmergencyAccess, actor, note: str, audit: AuditContext | None = None
):
    access = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
    if access.reviewed_at:
        raise ValidationError("Already reviewed.")
    access.reviewed_by = actor
    access.reviewed_at = timezone.now()
    access.review_note = note[:200]
    access.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        action="client.emergency_review",
        actor=actor,
        audit=audit,
        obj=access,
        client=access.client,
    )
    return access
