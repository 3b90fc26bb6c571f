"""Claims from charges (issue 22): one per client, payer and calendar month, checked
before it may go, and recorded as a disclosure when it goes.

A claim is **held** with its reasons (``hold_reasons``: a code and a plain message that
names what to fix) until every check passes, then **ready**:

- ``coverage``: the client has a coverage with the claim's payer active on each date
  of service;
- ``authorization``: each line of a code the payer authorizes in advance
  (``charges.AUTHORIZED_CODES``, H0015) is linked to an authorization of that payer and
  code covering its day with units left (lines without one are linked again on every
  check, so an authorization recorded later releases the claim);
- ``diagnosis``: the episode of care of the claim's period has a current principal
  diagnosis (its ICD-10-CM codes are copied onto the claim, principal first, at most 12:
  837P HI);
- ``npi``: the rendering provider of each professional line (a psychotherapy or E/M
  code) has an NPI on their staff account; an H0015 line is the program's, so the
  billing provider needs one;
- ``note``: each line's service has a signed note (the charge names it);
- ``fee``: the payer's fee schedule has an amount for each line's code on its day;
- ``consent``: 42 CFR 2.31 and 2.33(b) (2024 rule): a claim discloses Part 2 records
  (diagnoses, dates and codes of service) to the payer, so a written consent must allow
  it on the claim's date (the day it is checked or submitted, when the disclosure is
  made): the client's single TPO consent (``recipient_type`` tpo, 2.31(a)(4)(i)) or a
  consent naming the payer, neither revoked nor expired that day (``Consent.state_on``),
  covering the categories a claim carries (``CLAIM_CATEGORIES``).

Every build checks again each held and ready claim (a revoked consent holds a ready
one); the held-claims queue's "Check again" checks one. ``mark_submitted`` records each
submitted claim in the client's accounting of disclosures (42 CFR 2.25(a), 2024 rule)
with the 42 CFR 2.32 notice.
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from billing.models import (
    BillingProvider,
    Charge,
    Claim,
    ClaimLine,
    ClaimStatus,
    Coverage,
    Diagnosis,
    LineStatus,
    Payer,
    number_for,
)
from billing.services import bulk
from billing.services.charges import AUTHORIZED_CODES, H0015, Authorizations, Fees
from clients.models import (
    REDISCLOSURE_NOTICE,
    Consent,
    Disclosure,
    DisclosureMethod,
    Episode,
    InformationCategory,
    TpoRecipient,
)
from clinical.notes.models import NoteStatus, ProgressNote
from iop import when
from iop.audit.services import AuditContext, audit_record, audit_record_per_client

log = logging.getLogger(__name__)

OPEN = (ClaimStatus.HELD, ClaimStatus.READY)
# What a professional claim carries: diagnoses, and the dates and codes of service.
CLAIM_CATEGORIES = (InformationCategory.DIAGNOSIS, InformationCategory.ATTENDANCE)
MAX_DIAGNOSES = 12  # 837P loop 2300 HI: one principal and up to 11 more
PURPOSE = "payment"
_LOCK_KEY = 0x1B111C4B  # pg_advisory_xact_lock: one claims build at a time


class Hold:
    COVERAGE = "coverage"
    AUTHORIZATION = "authorization"
    DIAGNOSIS = "diagnosis"
    NPI = "npi"
    NOTE = "note"
    FEE = "fee"
    CONSENT = "consent"

    LABELS = {
        COVERAGE: "Coverage",
        AUTHORIZATION: "Authorization",
        DIAGNOSIS: "Diagnosis",
        NPI: "NPI",
        NOTE: "Signed note",
        FEE: "Fee",
        CONSENT: "Part 2 consent",
    }


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


@dataclass
class BuildResult:
    created: int = 0
    lines: int = 0
    ready: int = 0
    held: int = 0
    claims: list = field(default_factory=list, repr=False)


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _days(days) -> str:
    days = sorted(set(days))
    shown = ", ".join(when.day_short(d) for d in days[:3])
    return shown + (f" and {len(days) - 3} more" if len(days) > 3 else "")


# --- Consent ---------------------------------------------------------------------------


def consent_allows(consent: Consent, payer: Payer, day: date, discharges) -> bool:
    return (
        consent.state_on(day, discharges=discharges) == "active"
        and consent.covers_recipient(recipient_name=payer.name, tpo_recipient=TpoRecipient.PAYER)
        and consent.covers_categories(CLAIM_CATEGORIES)
    )


class Consents:
    """The consents of some clients, and the dates their episodes ended (a consent
    expiring at the end of treatment ends there: ``Consent.state_on``)."""

    def __init__(self, client_ids):
        self._by = defaultdict(list)
        for consent in (
            Consent.objects.signed()
            .filter(client_id__in=list(client_ids))
            .order_by("-signed_on", "-id")
        ):
            self._by[consent.client_id].append(consent)
        self._discharges = defaultdict(list)
        for client_id, ended in Episode.objects.filter(
            client_id__in=list(client_ids), discharged_on__isnull=False
        ).values_list("client_id", "discharged_on"):
            self._discharges[client_id].append(ended)

    def allowing(self, client_id, payer: Payer, day: date) -> Consent | None:
        discharges = self._discharges.get(client_id, [])
        # The TPO consent first: it is the one the program asks every client for.
        for consent in sorted(self._by.get(client_id, ()), key=lambda c: not c.is_tpo):
            if consent_allows(consent, payer, day, discharges):
                return consent
        return None

    def why_not(self, client_id, payer: Payer, day: date) -> str:
        discharges = self._discharges.get(client_id, [])
        for consent in self._by.get(client_id, ()):
            if consent.covers_recipient(
                recipient_name=payer.name, tpo_recipient=TpoRecipient.PAYER
            ):
                name = "TPO consent" if consent.is_tpo else f"consent to {consent.recipient_name}"
                signed = f"The {name} signed {when.day(consent.signed_on)}"
                state = consent.state_on(day, discharges=discharges)
                if state != "active":
                    return f"{signed} is {state} on {when.day(day)}"
                if not consent.covers_categories(CLAIM_CATEGORIES):
                    return f"{signed} does not cover diagnoses and attendance"
        return f"No consent on file lets the program disclose to {payer.name}"


# --- Checks ----------------------------------------------------------------------------


class Line:
    """A claim line with what the checks read of its charge (a tuple's worth: a month
    at 5,000 clients is 35,000 of them)."""

    __slots__ = (
        "id",
        "claim_id",
        "service_date",
        "code",
        "modifier1",
        "units",
        "amount",
        "charge_id",
        "client_id",
        "payer_id",
        "authorization_id",
        "rendering_id",
        "note_id",
    )
    FIELDS = (
        "id",
        "claim_id",
        "service_date",
        "code",
        "modifier1",
        "units",
        "amount",
        "charge_id",
        "charge__client_id",
        "charge__payer_id",
        "charge__authorization_id",
        "charge__rendering_id",
        "charge__note_id",
    )

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


CHECKED = (
    "id",
    "status",
    "hold_reasons",
    "coverage_id",
    "principal_diagnosis",
    "diagnoses",
    "total",
    "period_end",
    "updated_at",
)


def _check(claims: list[Claim], *, today: date) -> None:
    """Check ``claims`` (held or ready) and save their status, reasons, coverage,
    diagnoses and total. A fixed number of queries whatever their number."""
    if not claims:
        return
    by_id = {claim.pk: claim for claim in claims}
    client_ids = {claim.client_id for claim in claims}
    payer_ids = {claim.payer_id for claim in claims}
    payers = Payer.objects.in_bulk(payer_ids)
    lines = [
        Line(*row)
        for row in ClaimLine.objects.filter(claim_id__in=by_id)
        .order_by("claim_id", "line_number")
        .values_list(*Line.FIELDS)
    ]
    first = min((line.service_date for line in lines), default=today)
    last = max((line.service_date for line in lines), default=today)

    coverages = defaultdict(list)
    for coverage in Coverage.objects.filter(
        client_id__in=client_ids, payer_id__in=payer_ids, effective_on__lte=last
    ).exclude(ends_on__lt=first):
        coverages[(coverage.client_id, coverage.payer_id)].append(coverage)

    # Lines still without an authorization take one now, if one has units left.
    auths = Authorizations(client_ids, first=first, last=last)
    fees = Fees(payer_ids)
    relinked, repriced = [], []
    for line in lines:
        if line.code in AUTHORIZED_CODES and line.authorization_id is None:
            auth = auths.take(line.client_id, line.payer_id, line.code, line.service_date)
            if auth is not None:
                line.authorization_id = auth.pk
                relinked.append((line.charge_id, auth.pk))
        if not line.amount:
            amount = fees.amount(line.payer_id, line.code, line.modifier1, line.service_date)
            if amount:
                line.amount = amount * line.units
                repriced.append(line)
    bulk.update(Charge, ("id", "authorization_id"), relinked)
    bulk.update(Charge, ("id", "amount"), [(line.charge_id, line.amount) for line in repriced])
    bulk.update(ClaimLine, ("id", "amount"), [(line.id, line.amount) for line in repriced])
    overdrawn = {pk for pk, left in auths.left.items() if left < 0}

    # The episode of each claim's period, and its current diagnoses.
    episodes = defaultdict(list)
    for episode in Episode.objects.filter(client_id__in=client_ids).order_by("-admitted_on"):
        episodes[episode.client_id].append(episode)
    diagnoses = defaultdict(list)
    for dx in Diagnosis.objects.filter(
        episode__client_id__in=client_ids, removed_on__isnull=True
    ).order_by("-principal", "added_on", "id"):
        diagnoses[dx.episode_id].append(dx)

    npis = dict(
        get_user_model()
        .objects.filter(pk__in={line.rendering_id for line in lines} - {None})
        .values_list("pk", "npi")
    )
    names = {
        user.pk: user.get_full_name() or user.get_username()
        for user in get_user_model().objects.filter(pk__in=npis)
    }
    provider = BillingProvider.objects.first()
    signed = set(
        ProgressNote.objects.filter(
            pk__in={line.note_id for line in lines} - {None}, status=NoteStatus.SIGNED
        ).values_list("pk", flat=True)
    )
    consents = Consents(client_ids)

    lines_of = defaultdict(list)
    for line in lines:
        lines_of[line.claim_id].append(line)

    for claim in claims:
        payer = payers[claim.payer_id]
        reasons = []
        mine = lines_of.get(claim.pk, [])

        covs = coverages.get((claim.client_id, claim.payer_id), [])

        def covered(day, covs=covs):
            return next((c for c in covs if c.active_on(day)), None)

        uncovered = [line.service_date for line in mine if covered(line.service_date) is None]
        if uncovered:
            reasons.append(
                {
                    "code": Hold.COVERAGE,
                    "message": f"No {payer.name} coverage is active on {_days(uncovered)}: "
                    "record the coverage or correct its dates.",
                }
            )
        found = next((c for c in (covered(line.service_date) for line in mine) if c), None)
        if found is not None:
            claim.coverage_id = found.pk

        no_auth = defaultdict(list)
        for line in mine:
            if line.code in AUTHORIZED_CODES and (
                line.authorization_id is None or line.authorization_id in overdrawn
            ):
                no_auth[line.code].append(line.service_date)
        for code, days in no_auth.items():
            reasons.append(
                {
                    "code": Hold.AUTHORIZATION,
                    "message": f"No {payer.name} authorization for {code} with units left "
                    f"covers {_days(days)}: record the payer's authorization (or its "
                    "extension).",
                }
            )

        period_episode = next(
            (
                e
                for e in episodes.get(claim.client_id, [])
                if e.admitted_on <= claim.period_end
                and (e.discharged_on is None or e.discharged_on >= claim.period_start)
            ),
            None,
        )
        current = diagnoses.get(period_episode.pk, []) if period_episode else []
        principal = next((dx for dx in current if dx.principal), None)
        if principal is None:
            reasons.append(
                {
                    "code": Hold.DIAGNOSIS,
                    "message": "The episode of care has no principal diagnosis: add its "
                    "ICD-10-CM code on the client's billing page.",
                }
            )
            claim.principal_diagnosis = ""
            claim.diagnoses = [dx.code for dx in current][:MAX_DIAGNOSES]
        else:
            claim.principal_diagnosis = principal.code
            claim.diagnoses = [dx.code for dx in current][:MAX_DIAGNOSES]

        missing_npi = sorted(
            {
                names.get(line.rendering_id, "The rendering provider")
                for line in mine
                if line.code != H0015 and not npis.get(line.rendering_id)
            }
        )
        for name in missing_npi:
            reasons.append(
                {
                    "code": Hold.NPI,
                    "message": f"{name} has no NPI on their staff account: add it before "
                    "billing their sessions.",
                }
            )
        if any(line.code == H0015 for line in mine) and not (provider and provider.npi):
            reasons.append(
                {
                    "code": Hold.NPI,
                    "message": "The billing provider (the program) has no NPI: set it on "
                    "the billing provider page.",
                }
            )

        unsigned = [line.service_date for line in mine if line.note_id not in signed]
        if unsigned:
            reasons.append(
                {
                    "code": Hold.NOTE,
                    "message": f"No signed note documents {_days(unsigned)}: "
                    "the service's note must be signed.",
                }
            )

        unpriced = [line for line in mine if not line.amount]
        for code in sorted({line.code for line in unpriced}):
            days = [line.service_date for line in unpriced if line.code == code]
            reasons.append(
                {
                    "code": Hold.FEE,
                    "message": f"{payer.name}'s fee schedule has no fee for {code} on "
                    f"{_days(days)}: add it.",
                }
            )

        if consents.allowing(claim.client_id, payer, today) is None:
            reasons.append(
                {
                    "code": Hold.CONSENT,
                    "message": f"{consents.why_not(claim.client_id, payer, today)}: record "
                    f"the client's TPO consent or a consent naming {payer.name} (42 CFR "
                    "2.31) before the claim may go.",
                }
            )

        claim.hold_reasons = reasons
        claim.status = ClaimStatus.HELD if reasons else ClaimStatus.READY
        claim.total = sum((line.amount for line in mine), Decimal("0.00"))
    now = timezone.now()
    bulk.update(
        Claim,
        CHECKED,
        [
            (
                c.pk,
                c.status,
                c.hold_reasons,
                c.coverage_id,
                c.principal_diagnosis,
                c.diagnoses,
                c.total,
                c.period_end,
                now,
            )
            for c in claims
        ],
    )


# --- Building --------------------------------------------------------------------------


NEW_CLAIM = (
    "public_id",
    "client_id",
    "payer_id",
    "coverage_id",
    "period_start",
    "period_end",
    "status",
    "hold_reasons",
    "principal_diagnosis",
    "diagnoses",
    "total",
    "created_at",
    "updated_at",
)
LINE_COLUMNS = (
    "claim_id",
    "charge_id",
    "line_number",
    "service_date",
    "code",
    "modifier1",
    "modifier2",
    "units",
    "amount",
    "paid",
    "adjusted",
    "patient_responsibility",
    "status",
)
ZERO = Decimal("0.00")


def build_claims(*, through: date, payer: Payer | None = None) -> BuildResult:
    """Put every charge not yet on a claim, with a date of service on or before
    ``through``, on the open claim of its client, payer and month (made when there is
    none), then check every held and ready claim. Idempotent; one transaction."""
    today = timezone.localdate()
    result = BuildResult()
    with transaction.atomic():
        _lock()
        charges = Charge.objects.filter(
            void=False, claim_line__isnull=True, payer__isnull=False, service_date__lte=through
        )
        open_claims = Claim.objects.filter(status__in=OPEN)
        if payer is not None:
            charges = charges.filter(payer=payer)
            open_claims = open_claims.filter(payer=payer)
        charges = list(
            charges.order_by("client_id", "service_date", "id").values_list(
                "id",
                "client_id",
                "payer_id",
                "coverage_id",
                "service_date",
                "code",
                "modifier1",
                "modifier2",
                "units",
                "amount",
            )
        )
        claims = {(c.client_id, c.payer_id, c.period_start): c for c in open_claims}
        grouped = defaultdict(list)
        for row in charges:
            grouped[(row[1], row[2], month_bounds(row[4])[0])].append(row)
        new = []
        for key, rows in grouped.items():
            if key not in claims:
                first, last = month_bounds(key[2])
                claim = Claim(
                    client_id=key[0],
                    payer_id=key[1],
                    coverage_id=rows[0][3],
                    period_start=first,
                    period_end=min(last, max(through, first)),
                    status=ClaimStatus.HELD,
                )
                new.append(claim)
                claims[key] = claim
        if new:
            now = timezone.now()
            ids = bulk.insert(
                Claim,
                NEW_CLAIM,
                [
                    (
                        uuid.uuid4(),
                        c.client_id,
                        c.payer_id,
                        c.coverage_id,
                        c.period_start,
                        c.period_end,
                        c.status,
                        [],
                        "",
                        [],
                        Decimal("0.00"),
                        now,
                        now,
                    )
                    for c in new
                ],
            )
            for claim, pk in zip(new, ids, strict=True):
                claim.pk = pk
                claim.number = number_for(pk)
            bulk.update(Claim, ("id", "number"), [(c.pk, c.number) for c in new])
        result.created = len(new)
        open_lines = ClaimLine.objects.filter(claim__status__in=OPEN)
        if payer is not None:
            open_lines = open_lines.filter(claim__payer=payer)
        next_line = dict(
            open_lines.values("claim").annotate(n=Max("line_number")).values_list("claim", "n")
        )
        lines = []
        for key, rows in grouped.items():
            claim = claims[key]
            n = next_line.get(claim.pk, 0)
            last = month_bounds(key[2])[1]
            claim.period_end = max(claim.period_end, min(last, through))
            for charge_id, _c, _p, _cov, day, code, mod1, mod2, units, amount in rows:
                n += 1
                lines.append(
                    (claim.pk, charge_id, n, day, code, mod1, mod2, units, amount)
                    + (ZERO, ZERO, ZERO, LineStatus.OPEN)
                )
        bulk.copy(ClaimLine, LINE_COLUMNS, lines)
        result.lines = len(lines)
        to_check = list(claims.values())
        _check(to_check, today=today)
        result.ready = sum(1 for c in to_check if c.status == ClaimStatus.READY)
        result.held = len(to_check) - result.ready
        result.claims = to_check
    log.info(
        "claims built: %s new, %s lines, %s ready, %s held",
        result.created,
        result.lines,
        result.ready,
        result.held,
    )
    return result


def check_again(*, claim: Claim, actor, context: AuditContext | None) -> Claim:
    """The held-claims queue's "Check again": the checks of one claim, now."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status not in OPEN:
            raise ValidationError(
                f"Claim {claim.number} is {claim.get_status_display().lower()}: nothing to check."
            )
        _check([claim], today=timezone.localdate())
        audit_record(
            action="claim.check",
            actor=actor,
            audit=context,
            obj=claim,
            client=claim.client.public_id,
            detail=f"status={claim.status}",
        )
    return claim


DISCLOSURE_COLUMNS = (
    "public_id",
    "client_id",
    "consent_id",
    "recipient_name",
    "recipient_address",
    "tpo_recipient",
    "information_categories",
    "description",
    "purpose",
    "method",
    "disclosed_on",
    "disclosed_by_id",
    "redisclosure_notice",
    "consent_scope",
    "recorded_at",
)


def mark_submitted(*, claims, batch, actor, context: AuditContext | None) -> list[Disclosure]:
    """Mark ready ``claims`` submitted in ``batch`` and record each as a disclosure to
    its payer in the client's accounting of disclosures (42 CFR 2.25(a), 2024 rule:
    recipient, date, a description of what was sent and the purpose, here "payment"),
    under the consent that allows it today, with the 42 CFR 2.32 notice that must go
    with a disclosure made with consent. One transaction: all or none."""
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        ids = [c.pk for c in claims]
        locked = list(
            Claim.objects.select_for_update()
            .filter(pk__in=ids)
            .select_related("payer", "client")
            .order_by("pk")
        )
        if len(locked) != len(set(ids)):
            raise ValidationError("A claim to submit no longer exists.")
        not_ready = [c.number for c in locked if c.status != ClaimStatus.READY]
        if not_ready:
            raise ValidationError(
                f"Only ready claims are submitted; not ready: {', '.join(not_ready)}."
            )
        consents = Consents({c.client_id for c in locked})
        codes = defaultdict(set)
        dates = defaultdict(list)
        for claim_id, code, day in ClaimLine.objects.filter(claim__in=locked).values_list(
            "claim_id", "code", "service_date"
        ):
            codes[claim_id].add(code)
            dates[claim_id].append(day)
        disclosures = []
        for claim in locked:
            payer = claim.payer
            consent = consents.allowing(claim.client_id, payer, today)
            if consent is None:
                raise ValidationError(
                    f"Claim {claim.number}: {consents.why_not(claim.client_id, payer, today)}"
                    " today: check it again."
                )
            first, last = min(dates[claim.pk]), max(dates[claim.pk])
            batch_ref = f"interchange {batch.isa_control:09d}" if batch is not None else ""
            description = (
                f"Claim {claim.number} (X12 837P{', ' + batch_ref if batch_ref else ''}): "
                f"dates of service {when.day(first)} to {when.day(last)}; service codes "
                f"{', '.join(sorted(codes[claim.pk]))}; diagnoses "
                f"{', '.join(claim.diagnoses) or claim.principal_diagnosis}; total "
                f"{claim.total}."
            )
            address = ", ".join(
                part
                for part in (payer.address_line1, payer.city, f"{payer.state} {payer.postal_code}")
                if part.strip()
            )
            disclosures.append(
                (
                    uuid.uuid4(),
                    claim.client_id,
                    consent.pk,
                    payer.name,
                    address[:300],
                    TpoRecipient.PAYER if consent.is_tpo else "",
                    [str(c) for c in CLAIM_CATEGORIES],
                    description,
                    PURPOSE,
                    DisclosureMethod.ELECTRONIC,
                    today,
                    actor.pk if actor is not None else None,
                    REDISCLOSURE_NOTICE,
                    consent.scope_statement(),
                    now,
                )
            )
        ids = bulk.insert(Disclosure, DISCLOSURE_COLUMNS, disclosures)
        bulk.update(
            Claim,
            ("id", "status", "batch_id", "submitted_at", "disclosure_id", "updated_at"),
            [
                (
                    claim.pk,
                    ClaimStatus.SUBMITTED,
                    batch.pk if batch is not None else None,
                    now,
                    pk,
                    now,
                )
                for claim, pk in zip(locked, ids, strict=True)
            ],
        )
        for claim in locked:
            claim.status = ClaimStatus.SUBMITTED
        clients = [claim.client.public_id for claim in locked]
        detail = f"batch={batch.isa_control}" if batch is not None else ""
        audit_record_per_client(
            clients=clients, action="claim.submit", actor=actor, audit=context, detail=detail
        )
        audit_record_per_client(
            clients=clients,
            action="disclosure.record",
            actor=actor,
            audit=context,
            detail="claim; purpose=payment",
        )
    return list(Disclosure.objects.filter(pk__in=ids).order_by("pk"))


def open_claims_q() -> Q:
    return Q(status__in=OPEN)
