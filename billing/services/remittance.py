"""835 import: post a payer's payments, adjustments and denials to our claim lines.

One transaction per file: either every claim in it is posted or nothing is saved (a
file we cannot read, a payer we do not bill, a claim number we do not know or did not
send to that payer). Importing the same file again changes nothing (its SHA-256 is
unique), and a claim already posted under the same payer trace number is not posted
twice (the same payment re-sent in another envelope).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch

from billing.models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimStatus,
    LinePayment,
    LineStatus,
    Payer,
    Remittance,
)
from billing.services.export import line_control
from billing.x12 import p835
from iop.audit.services import AuditContext, audit_record, audit_record_per_client

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
MAX_BYTES = 5 * 1024 * 1024
POSTED = (ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.PARTIAL, ClaimStatus.DENIED)


class RemittanceImportError(ValidationError):
    """Nothing was saved; the message says why, in words."""


@dataclass
class Imported:
    remittance: Remittance | None
    duplicate: bool = False
    claims: int = 0
    paid_lines: int = 0
    partial_lines: int = 0
    denied_lines: int = 0
    skipped_claims: list[str] = field(default_factory=list)
    provider_adjustments: Decimal = ZERO

    @property
    def message(self) -> str:
        if self.duplicate:
            return (
                f"This file was already imported (trace {self.remittance.trace_number}): "
                "nothing changed."
            )
        text = (
            f"Remittance {self.remittance.trace_number} from {self.remittance.payer.name}: "
            f"{self.claims} claims posted, {self.remittance.total_paid} paid; lines paid "
            f"{self.paid_lines}, partly paid {self.partial_lines}, denied {self.denied_lines}."
        )
        if self.skipped_claims:
            text += (
                f" Already posted under this trace number, left as they were: "
                f"{', '.join(self.skipped_claims)}."
            )
        if self.provider_adjustments:
            text += f" Provider-level adjustments (PLB): {self.provider_adjustments}."
        return text


def _decode(content: bytes | str) -> tuple[str, bytes]:
    raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if not raw.strip():
        raise RemittanceImportError("The file is empty.")
    if len(raw) > MAX_BYTES:
        raise RemittanceImportError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if b"\x00" in raw:
        raise RemittanceImportError("This is not an X12 file: it holds binary data.")
    try:
        return raw.decode("utf-8-sig"), raw
    except UnicodeDecodeError:
        raise RemittanceImportError("This is not an X12 file: it is not text.") from None


def _payer(remittance: p835.Remittance, expected: Payer | None) -> Payer:
    ids = {payment.payer_id for payment in remittance.payments}
    if not remittance.payments:
        raise RemittanceImportError("The file holds no payment (no 835 transaction).")
    if len(ids) != 1:
        raise RemittanceImportError(
            "The file holds payments from several payers: import one per file."
        )
    payer_id = ids.pop()
    payer = Payer.objects.filter(payer_id=payer_id).first()
    if payer is None:
        raise RemittanceImportError(
            f"The file is from payer id {payer_id[:20]}, which is none of our payers: "
            "nothing was saved."
        )
    if expected is not None and payer.pk != expected.pk:
        raise RemittanceImportError(
            f"The file is from {payer.name}, not {expected.name}: nothing was saved."
        )
    return payer


def _line_status(line: ClaimLine) -> str:
    if line.paid <= ZERO and line.patient_responsibility <= ZERO:
        return LineStatus.DENIED
    balance = line.amount - line.paid - line.adjusted - line.patient_responsibility
    return LineStatus.PAID if balance <= ZERO else LineStatus.PARTIAL


def _claim_status(statuses: list[str]) -> str:
    if all(s == LineStatus.DENIED for s in statuses):
        return ClaimStatus.DENIED
    if all(s == LineStatus.PAID for s in statuses):
        return ClaimStatus.PAID
    return ClaimStatus.PARTIAL


def _match(claim: Claim, lines: list[ClaimLine], svc: p835.ServiceLine, used: set) -> ClaimLine:
    by_control = {line_control(line): line for line in lines}
    line = by_control.get(svc.control_number)
    if line is None:
        mods = tuple(m for m in svc.modifiers)
        for candidate in lines:
            if candidate.pk in used:
                continue
            candidate_mods = tuple(m for m in (candidate.modifier1, candidate.modifier2) if m)
            if (
                candidate.code == svc.code
                and (svc.service_date is None or candidate.service_date == svc.service_date)
                and (not mods or mods == candidate_mods)
            ):
                line = candidate
                break
    if line is None or line.pk in used:
        day = f" on {svc.service_date.isoformat()}" if svc.service_date else ""
        raise RemittanceImportError(
            f"Claim {claim.number}: a paid service ({svc.code}{day}) matches none of the "
            "claim's lines: nothing was saved."
        )
    used.add(line.pk)
    return line


def import_remittance(
    *, content: bytes | str, actor, context: AuditContext | None, payer: Payer | None = None
) -> Imported:
    text, raw = _decode(content)
    digest = hashlib.sha256(raw).hexdigest()
    existing = Remittance.objects.select_related("payer").filter(file_sha256=digest).first()
    if existing is not None:
        return Imported(remittance=existing, duplicate=True)
    try:
        parsed = p835.parse(text)
    except p835.RemittanceError as exc:
        raise RemittanceImportError(f"{exc} Nothing was saved.") from None
    the_payer = _payer(parsed, payer)
    claim_payments = [cp for payment in parsed.payments for cp in payment.claims]
    numbers = [cp.number for cp in claim_payments]
    first = parsed.payments[0]
    with transaction.atomic():
        existing = Remittance.objects.filter(file_sha256=digest).first()
        if existing is not None:  # imported meanwhile
            return Imported(remittance=existing, duplicate=True)
        claims = {
            c.number: c
            for c in Claim.objects.select_for_update(of=("self",))
            .filter(number__in=numbers)
            .select_related("client", "payer")
            .prefetch_related(Prefetch("lines", queryset=ClaimLine.objects.order_by("line_number")))
        }
        unknown = [n for n in numbers if n not in claims]
        if unknown:
            raise RemittanceImportError(
                f"Claim number {', '.join(sorted(set(unknown))[:5])[:80]} is not one of ours: "
                "nothing was saved."
            )
        for claim in claims.values():
            if claim.payer_id != the_payer.pk:
                raise RemittanceImportError(
                    f"Claim {claim.number} was billed to {claim.payer.name}, not to "
                    f"{the_payer.name}: nothing was saved."
                )
            if claim.status not in POSTED:
                raise RemittanceImportError(
                    f"Claim {claim.number} has not been submitted: nothing was saved."
                )
        trace_numbers = {payment.trace_number for payment in parsed.payments}
        already = set(
            LinePayment.objects.filter(
                remittance__payer=the_payer,
                remittance__trace_number__in=trace_numbers,
                claim_line__claim__in=claims.values(),
            ).values_list("claim_line__claim__number", flat=True)
        )
        if claim_payments and all(cp.number in already for cp in claim_payments):
            earlier = (
                Remittance.objects.select_related("payer")
                .filter(payer=the_payer, trace_number__in=trace_numbers)
                .first()
            )
            return Imported(remittance=earlier, duplicate=True)
        remittance = Remittance.objects.create(
            payer=the_payer,
            file_sha256=digest,
            trace_number=first.trace_number[:50],
            paid_on=first.paid_on,
            total_paid=sum(
                (p.total_paid if p.credit_debit != "D" else -p.total_paid for p in parsed.payments),
                ZERO,
            ),
            imported_by=actor if actor is not None and actor.pk else None,
            content=text,
        )
        result = Imported(remittance=remittance)
        result.provider_adjustments = sum(
            (a.amount for p in parsed.payments for a in p.provider_adjustments), ZERO
        )
        payments, adjustments, touched_lines, touched_claims = [], [], {}, {}
        seen = set()
        for cp in claim_payments:
            claim = claims[cp.number]
            if claim.number in already or claim.number in seen:
                result.skipped_claims.append(claim.number)
                continue
            seen.add(claim.number)
            lines = list(claim.lines.all())
            remarks = ",".join(cp.remarks)[:200]
            for adj in cp.adjustments:
                adjustments.append(
                    (
                        None,
                        Adjustment(
                            remittance=remittance,
                            claim=claim,
                            group_code=adj.group,
                            carc=adj.reason[:5],
                            rarc=remarks,
                            amount=adj.amount,
                        ),
                    )
                )
            used: set = set()
            if cp.lines:
                matched = [(_match(claim, lines, svc, used), svc) for svc in cp.lines]
            else:
                # A claim answered at claim level only (a whole-claim denial): every line
                # takes the claim's outcome, the claim's adjustments say why.
                matched = [(line, None) for line in lines]
            for line, svc in matched:
                paid = svc.paid if svc else ZERO
                pr = svc.patient_responsibility if svc else ZERO
                if svc is None and not cp.denied:
                    paid = cp.paid if len(lines) == 1 else ZERO
                other = (
                    sum((a.amount for a in svc.adjustments if a.group != "PR"), ZERO)
                    if svc
                    else (line.amount if cp.denied else ZERO)
                )
                line.paid += paid
                line.patient_responsibility += pr
                line.adjusted += other
                line.status = _line_status(line)
                touched_lines[line.pk] = line
                payment = LinePayment(
                    remittance=remittance,
                    claim_line=line,
                    paid=paid,
                    allowed=svc.allowed if svc else None,
                    status=line.status,
                )
                payments.append(payment)
                if svc:
                    line_remarks = ",".join(svc.remarks)[:200]
                    for adj in svc.adjustments:
                        adjustments.append(
                            (
                                payment,
                                Adjustment(
                                    remittance=remittance,
                                    claim=claim,
                                    group_code=adj.group,
                                    carc=adj.reason[:5],
                                    rarc=line_remarks,
                                    amount=adj.amount,
                                ),
                            )
                        )
                counts = {
                    LineStatus.PAID: "paid_lines",
                    LineStatus.PARTIAL: "partial_lines",
                    LineStatus.DENIED: "denied_lines",
                }
                attr = counts.get(line.status)
                if attr:
                    setattr(result, attr, getattr(result, attr) + 1)
            touched_claims[claim.pk] = claim
            result.claims += 1
        LinePayment.objects.bulk_create(payments, batch_size=1000)
        rows = []
        for payment, adjustment in adjustments:
            if payment is not None:
                adjustment.line_payment = payment
            rows.append(adjustment)
        Adjustment.objects.bulk_create(rows, batch_size=1000)
        ClaimLine.objects.bulk_update(
            touched_lines.values(),
            ["paid", "adjusted", "patient_responsibility", "status"],
            batch_size=1000,
        )
        statuses = defaultdict(list)
        for line in ClaimLine.objects.filter(claim__in=touched_claims.values()).only(
            "claim_id", "status"
        ):
            statuses[line.claim_id].append(line.status)
        for claim in touched_claims.values():
            claim.status = _claim_status(statuses[claim.pk])
        Claim.objects.bulk_update(touched_claims.values(), ["status"], batch_size=1000)
        audit_record(
            action="billing.remittance_import",
            actor=actor,
            audit=context,
            obj=remittance,
            detail=f"claims={result.claims}; skipped={len(result.skipped_claims)}",
        )
        audit_record_per_client(
            clients={c.client.public_id for c in touched_claims.values()},
            action="claim.remittance",
            actor=actor,
            audit=context,
            object_type="billing.remittance",
            object_id=str(remittance.public_id),
        )
    log.info("835 posted: %s claims", result.claims)
    return result
