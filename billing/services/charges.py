"""Charges from what happened (issue 22): one row per service, never two.

What is charged:

- **H0015** (HCPCS Level II, "alcohol and/or drug services; intensive outpatient"), one
  unit per billable day of attendance, under the rule of the payer of the client's
  primary coverage on that day (``scheduling.billing``; the day itself from
  ``scheduling.reports.billable_days``, the billable-days report's own SQL). A day on
  which every session the client attended was attended by telehealth is billed at place
  of service 10 (telehealth in the patient's home: the attendance sheet records no other
  place, and the program's telehealth groups are joined from home) with the payer's
  telehealth modifier (``Payer.telehealth_modifier``: 95, CPT Appendix P synchronous
  telemedicine, or GT, "via interactive audio and video telecommunications systems",
  which some Medicaid programs still ask for); otherwise place 11 (office). The day needs
  a signed group note with the client's section for one of the sessions attended; the
  charge names that note.
- **Appointments** with a signed note, coded from the kind and the minutes documented
  (the note's time in and out; the booked length when the note has none):
  individual psychotherapy 90832 / 90834 / 90837 and family psychotherapy 90847 by the
  CPT time rule (``psychotherapy_code``); medication management 99213 (established
  patient, office visit, low medical decision making: the program's choice for a
  prescriber's follow-up; CPT 2024 E/M guidelines let it be chosen by decision making
  whatever the time). Case management is not billed (no code here).

Nothing is charged without a signed note for the service, nor for a day without a
primary coverage (nothing to bill; once coverage is recorded the next run charges it).
Amounts come from the payer's fee schedule (``Fee``) effective on the date of service
(the fee for the code with the line's modifier, else the code's fee without one); the
authorization of the payer for the code that covers the day and still has units left is
linked (its units used are the sum of its charges' units).

``source_key`` is unique ("h0015:<client>:<date>", "appt:<appointment>"): a second run,
or two at once (serialised by an advisory lock on PostgreSQL, by SQLite's single writer
elsewhere, and the key's unique index in any case), makes nothing new.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from billing.models import Authorization, Charge, Coverage, Fee, Payer, PlaceOfService
from billing.services import bulk
from clinical.notes.models import GroupNoteSection, NoteStatus, ProgressNote
from scheduling.billing import BillingRule, H0015Rule
from scheduling.models import AppointmentKind, AppointmentStatus, clinic_tz
from scheduling.reports import billable_days

log = logging.getLogger(__name__)

H0015 = "H0015"
# Codes a payer authorizes in advance: a line of one of them needs an authorization with
# units left (billing.services.claims). Psychotherapy and E/M visits are billed without.
AUTHORIZED_CODES = frozenset(settings.IOP_BILLING_AUTHORIZED_CODES)
TELEHEALTH_MODIFIERS = ("95", "GT")
# A lock key of our own for pg_advisory_xact_lock ("iop-billing-charges").
_LOCK_KEY = 0x1B111C4A


# --- The codes -------------------------------------------------------------------------

# CPT 2024 Professional Edition, Introduction, "Time": "A unit of time is attained when
# the mid-point is passed" (an hour when 31 minutes have elapsed). The psychotherapy
# codes' guidelines (Psychiatry, Psychotherapy) apply it to their times: 90832 (30 min)
# from 16 minutes, 90834 (45 min) from 38, 90837 (60 min) from 53; under 16 minutes
# psychotherapy is not reported. 90847 (family psychotherapy with the patient present,
# 50 minutes) is reported from 26 minutes.
PSYCHOTHERAPY = ((53, "90837"), (38, "90834"), (16, "90832"))
FAMILY_CODE, FAMILY_MIN = "90847", 26
MEDICATION_CODE = "99213"


def psychotherapy_code(minutes: int) -> str | None:
    """Individual psychotherapy by its time (CPT 2024): 16-37 min 90832, 38-52 90834,
    53 and more 90837; under 16, nothing."""
    for floor, code in PSYCHOTHERAPY:
        if minutes >= floor:
            return code
    return None


def appointment_code(kind: str, minutes: int) -> str | None:
    """The code an appointment of ``kind`` lasting ``minutes`` is billed under, or None
    (too short, or a kind this program does not bill)."""
    if kind == AppointmentKind.INDIVIDUAL:
        return psychotherapy_code(minutes)
    if kind == AppointmentKind.FAMILY:
        return FAMILY_CODE if minutes >= FAMILY_MIN else None
    if kind == AppointmentKind.MEDICATION:
        return MEDICATION_CODE
    return None


def rule_for(payer: Payer) -> BillingRule:
    """The payer's H0015 rule, from its row (blank: the program's default rule)."""
    return BillingRule(
        payer=payer.code,
        label=payer.name,
        min_hours=Decimal(payer.min_hours),
        min_days=int(payer.min_days),
        h0015=H0015Rule(payer.h0015_rule or settings.IOP_H0015_RULE),
    )


def telehealth_modifier(payer: Payer) -> str:
    return getattr(payer, "telehealth_modifier", "") or "95"


# --- Look-ups shared with the claims' checks -------------------------------------------


class Fees:
    """The fee schedules of some payers: the amount in force on a day."""

    def __init__(self, payer_ids):
        self._by = defaultdict(list)
        for fee in Fee.objects.filter(payer_id__in=list(payer_ids)).order_by("-effective_on"):
            self._by[(fee.payer_id, fee.code, fee.modifier)].append(fee)

    def amount(self, payer_id: int, code: str, modifier: str, day: date) -> Decimal | None:
        for key in ((payer_id, code, modifier), (payer_id, code, "")):
            for fee in self._by.get(key, ()):
                if fee.effective_on <= day:
                    return fee.amount
        return None


class Authorizations:
    """Authorizations of some clients, with their units used, handing out units in
    date order: a charge is linked to one only while units are left."""

    def __init__(self, client_ids, *, first: date, last: date):
        self._by = defaultdict(list)
        auths = list(
            Authorization.objects.filter(
                client_id__in=list(client_ids), starts_on__lte=last, ends_on__gte=first
            ).order_by("starts_on", "id")
        )
        used = dict(
            Charge.objects.filter(authorization__in=auths, void=False)
            .values("authorization")
            .annotate(n=Sum("units"))
            .values_list("authorization", "n")
        )
        self.left = {}
        for auth in auths:
            self._by[(auth.client_id, auth.payer_id, auth.service_code)].append(auth)
            self.left[auth.pk] = auth.units_approved - int(used.get(auth.pk) or 0)

    def take(self, client_id, payer_id, code, day, units=1) -> Authorization | None:
        for auth in self._by.get((client_id, payer_id, code), ()):
            if auth.starts_on <= day <= auth.ends_on and self.left[auth.pk] >= units:
                self.left[auth.pk] -= units
                return auth
        return None


class PrimaryCoverages:
    """Each client's primary coverage on a day."""

    def __init__(self, *, first: date, last: date, client_ids=None):
        qs = Coverage.objects.filter(order=1, effective_on__lte=last).exclude(ends_on__lt=first)
        if client_ids is not None:
            qs = qs.filter(client_id__in=list(client_ids))
        self._by = defaultdict(list)
        for coverage in qs.select_related("payer").order_by("effective_on"):
            self._by[coverage.client_id].append(coverage)

    def on(self, client_id, day) -> Coverage | None:
        for coverage in self._by.get(client_id, ()):
            if coverage.effective_on <= day and (
                coverage.ends_on is None or day <= coverage.ends_on
            ):
                return coverage
        return None

    def payers(self) -> dict[int, Payer]:
        return {c.payer_id: c.payer for covs in self._by.values() for c in covs}


# --- Building --------------------------------------------------------------------------


@dataclass
class Built:
    h0015: int = 0
    appointments: int = 0

    @property
    def total(self) -> int:
        return self.h0015 + self.appointments


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _local_bounds(since: date, through: date) -> tuple[datetime, datetime]:
    tz = clinic_tz()
    return (
        datetime.combine(since, datetime.min.time(), tzinfo=tz),
        datetime.combine(through + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    )


def _signed_sections(since: date, through: date) -> dict[tuple[int, date], int]:
    """(client, day) -> a signed group note with the client's section that day."""
    rows = (
        GroupNoteSection.objects.filter(
            note__status=NoteStatus.SIGNED,
            note__session__date__gte=since,
            note__session__date__lte=through,
            note__session__cancelled_at__isnull=True,
        )
        .order_by("note__session__date", "note_id")
        .values_list("client_id", "note__session__date", "note_id")
    )
    found = {}
    for client_id, day, note_id in rows:
        found.setdefault((client_id, day), note_id)
    return found


CHARGE_COLUMNS = (
    "public_id",
    "client_id",
    "service_date",
    "code",
    "modifier1",
    "modifier2",
    "units",
    "minutes",
    "amount",
    "place_of_service",
    "rendering_id",
    "payer_id",
    "coverage_id",
    "authorization_id",
    "appointment_id",
    "note_id",
    "source_key",
    "created_at",
    "void",
)


def _row(*, amount, modifier1="", rendering_id=None, appointment_id=None, **values) -> tuple:
    """A charge as a row of CHARGE_COLUMNS (no fee on the day: 0.00, and the claim is
    held until the schedule has one)."""
    values |= {
        "public_id": uuid.uuid4(),
        "modifier1": modifier1,
        "modifier2": "",
        "units": 1,
        "amount": amount if amount is not None else Decimal("0.00"),
        "rendering_id": rendering_id,
        "appointment_id": appointment_id,
        "created_at": timezone.now(),
        "void": False,
    }
    return tuple(values[c] for c in CHARGE_COLUMNS)


def _h0015(since, through, coverages, fees, auths, existing) -> list[tuple]:
    payers = coverages.payers()
    # One run of the billable-days SQL per distinct rule among the payers.
    rules = {}
    for payer in payers.values():
        rule = rule_for(payer)
        rules.setdefault((rule.h0015, rule.min_hours, rule.min_days), rule)
    days = {key: billable_days(start=since, end=through, rule=rule) for key, rule in rules.items()}
    notes = _signed_sections(since, through)
    charges = []
    for key, rows in days.items():
        for client_id, day, minutes, billable, telehealth in rows:
            if not billable:
                continue
            source_key = f"h0015:{client_id}:{day.isoformat()}"
            if source_key in existing:
                continue
            coverage = coverages.on(client_id, day)
            if coverage is None:
                continue
            payer = coverage.payer
            rule = rule_for(payer)
            if (rule.h0015, rule.min_hours, rule.min_days) != key:
                continue  # this client's payer follows another rule that day
            note_id = notes.get((client_id, day))
            if note_id is None:
                continue  # nothing charged without a signed note
            modifier = telehealth_modifier(payer) if telehealth else ""
            amount = fees.amount(payer.pk, H0015, modifier, day)
            auth = auths.take(client_id, payer.pk, H0015, day)
            existing.add(source_key)
            charges.append(
                _row(
                    client_id=client_id,
                    service_date=day,
                    code=H0015,
                    modifier1=modifier,
                    minutes=minutes,
                    amount=amount,
                    place_of_service=(
                        PlaceOfService.TELEHEALTH_HOME if telehealth else PlaceOfService.OFFICE
                    ),
                    payer_id=payer.pk,
                    coverage_id=coverage.pk,
                    authorization_id=auth.pk if auth else None,
                    note_id=note_id,
                    source_key=source_key,
                )
            )
    return charges


def note_minutes(time_in, time_out, starts_at, ends_at) -> int:
    """The minutes the note documents (time in to time out), else the booked length."""
    if time_in and time_out:
        start = datetime.combine(date.min, time_in)
        end = datetime.combine(date.min, time_out)
        return int((end - start).total_seconds() // 60)
    return int((ends_at - starts_at).total_seconds() // 60)


def _appointments(since, through, coverages, fees, auths, existing) -> list[tuple]:
    first, last = _local_bounds(since, through)
    notes = ProgressNote.objects.filter(
        status=NoteStatus.SIGNED,
        appointment__isnull=False,
        appointment__status=AppointmentStatus.COMPLETED,
        appointment__starts_at__gte=first,
        appointment__starts_at__lt=last,
        appointment__kind__in=(
            AppointmentKind.INDIVIDUAL,
            AppointmentKind.FAMILY,
            AppointmentKind.MEDICATION,
        ),
    ).values_list(
        "id",
        "author_id",
        "time_in",
        "time_out",
        "appointment_id",
        "appointment__kind",
        "appointment__client_id",
        "appointment__starts_at",
        "appointment__ends_at",
    )
    tz = clinic_tz()
    charges = []
    for note_id, author_id, time_in, time_out, appt_id, kind, client_id, starts, ends in notes:
        source_key = f"appt:{appt_id}"
        if source_key in existing:
            continue
        day = starts.astimezone(tz).date()
        coverage = coverages.on(client_id, day)
        if coverage is None:
            continue
        minutes = note_minutes(time_in, time_out, starts, ends)
        code = appointment_code(kind, minutes)
        if code is None:
            continue
        payer = coverage.payer
        amount = fees.amount(payer.pk, code, "", day)
        auth = auths.take(client_id, payer.pk, code, day) if code in AUTHORIZED_CODES else None
        existing.add(source_key)
        charges.append(
            _row(
                client_id=client_id,
                service_date=day,
                code=code,
                minutes=minutes,
                amount=amount,
                place_of_service=PlaceOfService.OFFICE,
                rendering_id=author_id,
                payer_id=payer.pk,
                coverage_id=coverage.pk,
                authorization_id=auth.pk if auth else None,
                appointment_id=appt_id,
                note_id=note_id,
                source_key=source_key,
            )
        )
    return charges


def build_charges(*, since: date, through: date) -> Built:
    """Charge every service from ``since`` through ``through`` (dates of service) not yet
    charged. Idempotent; one transaction."""
    if through < since:
        raise ValueError("through is before since")
    with transaction.atomic():
        _lock()
        existing = set(
            Charge.objects.filter(service_date__gte=since, service_date__lte=through).values_list(
                "source_key", flat=True
            )
        )
        coverages = PrimaryCoverages(first=since, last=through)
        payers = coverages.payers()
        fees = Fees(payers)
        client_ids = set(coverages._by)
        auths = Authorizations(client_ids, first=since, last=through)
        h0015 = _h0015(since, through, coverages, fees, auths, existing)
        appointments = _appointments(since, through, coverages, fees, auths, existing)
        # Under the lock no other build inserts, and what exists was left out: COPY (a
        # key that clashed anyway would fail the build, never charge twice).
        bulk.copy(Charge, CHARGE_COLUMNS, h0015 + appointments)
    built = Built(h0015=len(h0015), appointments=len(appointments))
    log.info("charges built: %s H0015 days, %s appointments", built.h0015, built.appointments)
    return built
