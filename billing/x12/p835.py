"""An X12 835 Health Care Claim Payment/Advice, version 005010X221A1.

`parse(text)` is a pure reader: the interchange's text in, dataclasses out, or a
`RemittanceError` whose message says in words what is wrong (not an X12 file, not an
835, another version, broken control numbers or segment counts). It reads the parts
the clinic posts: ISA sender and receiver, BPR payment amount and date, TRN trace
number, the payer (N1*PR with REF*2U payer id), each claim (CLP, CLP01 being our claim
number), claim and line adjustments (CAS group code with up to six reason/amount
triplets), the service lines (SVC, matched back by REF*6R line item control number or
by code and date, DTM*472), remark codes (LQ*HE) and provider-level adjustments (PLB).

`render(...)` writes an 835 from the same dataclasses: the tests and the demo payer use it
to answer a submitted batch; it is not a clearinghouse.

Layout: ASC X12N 835 Health Care Claim Payment/Advice implementation guide, 005010X221A1
(April 2006, with the June 2010 addenda).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .p837 import _composite, _segment, amount, text

VERSION = "005010X221A1"

# CLP02 claim status codes (835 implementation guide, CLP02).
CLAIM_STATUS = {
    "1": "Processed as primary",
    "2": "Processed as secondary",
    "3": "Processed as tertiary",
    "4": "Denied",
    "19": "Processed as primary, forwarded to additional payer(s)",
    "20": "Processed as secondary, forwarded to additional payer(s)",
    "21": "Processed as tertiary, forwarded to additional payer(s)",
    "22": "Reversal of previous payment",
    "23": "Not our claim, forwarded to additional payer(s)",
    "25": "Predetermination pricing only, no payment",
}
GROUP_CODES = ("CO", "CR", "OA", "PI", "PR")


class RemittanceError(ValueError):
    """The file is not an 835 this app can read; the message says why, in words."""


@dataclass(frozen=True)
class Adjustment:
    group: str  # CO, CR, OA, PI, PR
    reason: str  # CARC
    amount: Decimal
    quantity: Decimal | None = None


@dataclass
class ServiceLine:
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None = None
    service_date: date | None = None
    control_number: str = ""  # REF*6R, our line item control number
    allowed: Decimal | None = None  # AMT*B6
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE

    @property
    def patient_responsibility(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group == "PR"), Decimal("0"))


@dataclass
class ClaimPayment:
    number: str  # CLP01: our claim number
    status: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str = ""
    payer_claim_number: str = ""  # CLP07
    patient_last_name: str = ""  # NM1*QC (read for display only; never matched on)
    patient_first_name: str = ""
    member_id: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    remarks: list[str] = field(default_factory=list)  # MOA remark codes
    lines: list[ServiceLine] = field(default_factory=list)

    @property
    def denied(self) -> bool:
        return self.status == "4"

    @property
    def status_text(self) -> str:
        return CLAIM_STATUS.get(self.status, f"Status {self.status}")


@dataclass(frozen=True)
class ProviderAdjustment:
    provider_id: str
    fiscal_period: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass
class Payment:
    """One 835 transaction (ST..SE): one payment from one payer."""

    control_number: str
    handling: str  # BPR01: I (payment and remittance), H (notification only)...
    total_paid: Decimal  # BPR02
    credit_debit: str  # BPR03
    method: str  # BPR04: ACH, CHK, NON, BOP, FWT
    paid_on: date | None  # BPR16
    trace_number: str  # TRN02
    originator: str  # TRN03
    payer_name: str
    payer_id: str  # REF*2U, else TRN03
    payee_name: str = ""
    payee_id: str = ""
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)


@dataclass
class Remittance:
    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    isa_control: str
    created: datetime | None
    payments: list[Payment]


# --- reading -------------------------------------------------------------------------


def _decimal(value: str, what: str) -> Decimal:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise RemittanceError(f"{what} is not a number: {value[:20]!r}.") from None
    if not number.is_finite():
        raise RemittanceError(f"{what} is not a number: {value[:20]!r}.")
    return number


def _optional_decimal(value: str, what: str) -> Decimal | None:
    return _decimal(value, what) if value else None


def _date(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise RemittanceError(f"{what} is not a date (CCYYMMDD): {value[:12]!r}.") from None


class _Segments:
    def __init__(self, segments: list[list[str]], component: str) -> None:
        self.items = segments
        self.i = 0
        self.component = component

    def peek(self) -> list[str] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def peek_id(self) -> str:
        seg = self.peek()
        return seg[0] if seg else ""

    def take(self) -> list[str]:
        seg = self.items[self.i]
        self.i += 1
        return seg

    def expect(self, seg_id: str, where: str) -> list[str]:
        seg = self.peek()
        if seg is None or seg[0] != seg_id:
            found = seg[0] if seg else "the end of the file"
            raise RemittanceError(f"Expected a {seg_id} segment {where}, found {found}.")
        return self.take()


def _el(seg: list[str], n: int) -> str:
    return seg[n].strip() if n < len(seg) else ""


def _split(raw: str) -> tuple[list[list[str]], str]:
    data = raw.lstrip("\ufeff \r\n\t")
    if "\x00" in data:
        raise RemittanceError("This is not an X12 file: it holds binary data.")
    if not data.startswith("ISA") or len(data) < 106:
        raise RemittanceError("This is not an X12 file: it does not begin with an ISA segment.")
    element = data[3]
    isa_fields = data[:106].split(element)
    if len(isa_fields) != 17:
        raise RemittanceError("The ISA segment is malformed (it must have 16 elements).")
    component = isa_fields[16][0]
    terminator = data[105]
    if terminator.isalnum() or terminator in (element, component):
        raise RemittanceError("The ISA segment is malformed (no segment terminator).")
    segments = []
    for chunk in data.split(terminator):
        chunk = chunk.strip("\r\n\t ")
        if chunk:
            segments.append(chunk.split(element))
    return segments, component


def _adjustments(seg: list[str], where: str) -> list[Adjustment]:
    group = _el(seg, 1)
    if group not in GROUP_CODES:
        raise RemittanceError(f"Unknown claim adjustment group code {group[:4]!r} {where}.")
    found = []
    # CAS02-CAS19: up to six (reason, amount, quantity) triplets.
    for start in range(2, 20, 3):
        reason = _el(seg, start)
        if not reason:
            continue
        value = _decimal(_el(seg, start + 1), f"An adjustment amount {where}")
        qty = _optional_decimal(_el(seg, start + 2), f"An adjustment quantity {where}")
        found.append(Adjustment(group, reason, value, qty))
    if not found:
        raise RemittanceError(f"A CAS segment {where} has no reason code.")
    return found


def _service(segs: _Segments, claim: ClaimPayment) -> ServiceLine:
    seg = segs.take()
    where = f"on claim {claim.number}"
    parts = _el(seg, 1).split(segs.component)
    if len(parts) < 2 or not parts[1]:
        raise RemittanceError(f"A service line {where} has no procedure code (SVC01).")
    line = ServiceLine(
        code=parts[1],
        modifiers=tuple(m for m in parts[2:6] if m),
        charge=_decimal(_el(seg, 2), f"A line charge {where}"),
        paid=_decimal(_el(seg, 3) or "0", f"A line payment {where}"),
        units=_optional_decimal(_el(seg, 5), f"A line's units {where}"),
    )
    while segs.peek_id() in ("DTM", "CAS", "REF", "AMT", "QTY", "LQ"):
        sub = segs.take()
        kind = sub[0]
        if kind == "DTM" and _el(sub, 1) in ("472", "150"):
            line.service_date = _date(_el(sub, 2), f"A service date {where}")
        elif kind == "CAS":
            line.adjustments.extend(_adjustments(sub, where))
        elif kind == "REF" and _el(sub, 1) == "6R":
            line.control_number = _el(sub, 2)
        elif kind == "AMT" and _el(sub, 1) == "B6":
            line.allowed = _decimal(_el(sub, 2), f"An allowed amount {where}")
        elif kind == "LQ" and _el(sub, 1) == "HE":
            line.remarks.append(_el(sub, 2))
    return line


def _claim(segs: _Segments) -> ClaimPayment:
    seg = segs.take()
    number = _el(seg, 1)
    if not number:
        raise RemittanceError("A claim payment (CLP) has no claim number.")
    where = f"on claim {number}"
    claim = ClaimPayment(
        number=number,
        status=_el(seg, 2),
        charge=_decimal(_el(seg, 3), f"The claim charge {where}"),
        paid=_decimal(_el(seg, 4) or "0", f"The claim payment {where}"),
        patient_responsibility=_decimal(_el(seg, 5) or "0", f"The patient responsibility {where}"),
        filing_indicator=_el(seg, 6),
        payer_claim_number=_el(seg, 7),
    )
    if not claim.status:
        raise RemittanceError(f"The claim status (CLP02) is missing {where}.")
    while segs.peek_id() and segs.peek_id() not in ("CLP", "LX", "SE", "PLB"):
        if segs.peek_id() == "SVC":
            claim.lines.append(_service(segs, claim))
            continue
        sub = segs.take()
        if sub[0] == "CAS":
            claim.adjustments.extend(_adjustments(sub, where))
        elif sub[0] == "NM1" and _el(sub, 1) == "QC":
            claim.patient_last_name = _el(sub, 3)
            claim.patient_first_name = _el(sub, 4)
            claim.member_id = _el(sub, 9)
        elif sub[0] in ("MOA", "MIA"):
            start = 3 if sub[0] == "MOA" else 5
            claim.remarks.extend(r for r in sub[start : start + 5] if r and not _is_number(r))
    return claim


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _plb(seg: list[str], component: str) -> list[ProviderAdjustment]:
    found = []
    provider = _el(seg, 1)
    period = _date(_el(seg, 2), "The provider adjustment's fiscal period")
    for start in range(3, 15, 2):
        ident = _el(seg, start)
        if not ident:
            continue
        parts = ident.split(component)
        found.append(
            ProviderAdjustment(
                provider_id=provider,
                fiscal_period=period,
                reason=parts[0],
                reference=parts[1] if len(parts) > 1 else "",
                amount=_decimal(_el(seg, start + 1), "A provider adjustment amount"),
            )
        )
    return found


def _transaction(segs: _Segments) -> Payment:
    st = segs.expect("ST", "to open the transaction")
    start = segs.i - 1
    if _el(st, 1) != "835":
        raise RemittanceError(
            f"This is an X12 {_el(st, 1)[:3]} transaction, not an 835 remittance advice."
        )
    if _el(st, 3) and _el(st, 3) != VERSION:
        raise RemittanceError(
            f"This 835 is version {_el(st, 3)[:12]}; this app reads {VERSION} only."
        )
    control = _el(st, 2)
    bpr = segs.expect("BPR", "after ST (the payment)")
    trn = segs.expect("TRN", "after BPR (the trace number)")
    payment = Payment(
        control_number=control,
        handling=_el(bpr, 1),
        total_paid=_decimal(_el(bpr, 2), "The payment amount (BPR02)"),
        credit_debit=_el(bpr, 3),
        method=_el(bpr, 4),
        paid_on=_date(_el(bpr, 16), "The payment date (BPR16)"),
        trace_number=_el(trn, 2),
        originator=_el(trn, 3),
        payer_name="",
        payer_id="",
    )
    if not payment.trace_number:
        raise RemittanceError("The trace number (TRN02) is missing.")
    party = ""
    while segs.peek_id() and segs.peek_id() not in ("LX", "CLP", "PLB", "SE"):
        seg = segs.take()
        if seg[0] == "N1":
            party = _el(seg, 1)
            if party == "PR":
                payment.payer_name = _el(seg, 2)
            elif party == "PE":
                payment.payee_name = _el(seg, 2)
                payment.payee_id = _el(seg, 4)
        elif seg[0] == "REF" and party == "PR" and _el(seg, 1) == "2U":
            payment.payer_id = _el(seg, 2)
    if not payment.payer_name:
        raise RemittanceError("The payer (N1*PR) is missing.")
    if not payment.payer_id:
        payment.payer_id = payment.originator
    while segs.peek_id() in ("LX", "TS3", "TS2", "CLP"):
        if segs.peek_id() == "CLP":
            payment.claims.append(_claim(segs))
        else:
            segs.take()
    while segs.peek_id() == "PLB":
        payment.provider_adjustments.extend(_plb(segs.take(), segs.component))
    claimed = sum((c.paid for c in payment.claims), Decimal("0"))
    withheld = sum((a.amount for a in payment.provider_adjustments), Decimal("0"))
    signed_total = -payment.total_paid if payment.credit_debit == "D" else payment.total_paid
    if claimed - withheld != signed_total:
        raise RemittanceError(
            f"The payment total (BPR02 {payment.total_paid}) is not the claims' payments "
            f"({claimed}) less the provider adjustments ({withheld}): the file does not balance."
        )
    se = segs.expect("SE", "to close the transaction")
    counted = segs.i - start
    if _el(se, 1) != str(counted):
        raise RemittanceError(
            f"The transaction's segment count is wrong: SE says {_el(se, 1)[:9]}, "
            f"it holds {counted}."
        )
    if _el(se, 2) != control:
        raise RemittanceError("The transaction's control numbers (ST02 and SE02) differ.")
    return payment


def parse(raw: str | bytes) -> Remittance:
    """Read an 835 interchange. Raises RemittanceError with a message in words."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RemittanceError("This is not an X12 file: it is not text.") from None
    segments, component = _split(raw)
    segs = _Segments(segments, component)
    isa = segs.take()
    if _el(isa, 12) != "00501":
        raise RemittanceError(
            f"The interchange is version {_el(isa, 12)[:5]}; this app reads 00501 (5010) only."
        )
    created = None
    try:
        created = datetime.strptime(_el(isa, 9) + _el(isa, 10), "%y%m%d%H%M")
    except ValueError:
        raise RemittanceError("The interchange date or time (ISA09/ISA10) is malformed.") from None
    payments: list[Payment] = []
    groups = 0
    while segs.peek_id() == "GS":
        gs = segs.take()
        groups += 1
        if _el(gs, 1) != "HP":
            raise RemittanceError(
                f"This file holds functional group {_el(gs, 1)[:2]!r}, not HP "
                "(health care claim payment/advice): it is not an 835."
            )
        if _el(gs, 8) != VERSION:
            raise RemittanceError(
                f"This 835 is version {_el(gs, 8)[:12]}; this app reads {VERSION} only."
            )
        count = 0
        while segs.peek_id() == "ST":
            payments.append(_transaction(segs))
            count += 1
        ge = segs.expect("GE", "to close the functional group")
        if _el(ge, 1) != str(count):
            raise RemittanceError(
                f"The functional group's transaction count is wrong: GE says "
                f"{_el(ge, 1)[:9]}, it holds {count}."
            )
        if _el(ge, 2) != _el(gs, 6):
            raise RemittanceError("The functional group's control numbers (GS06, GE02) differ.")
    if groups == 0:
        raise RemittanceError("The interchange holds no functional group (GS).")
    iea = segs.expect("IEA", "to close the interchange")
    if _el(iea, 1) != str(groups):
        raise RemittanceError(
            f"The interchange's group count is wrong: IEA says {_el(iea, 1)[:9]}, "
            f"it holds {groups}."
        )
    if _el(iea, 2) != _el(isa, 13):
        raise RemittanceError("The interchange's control numbers (ISA13, IEA02) differ.")
    if segs.peek() is not None:
        raise RemittanceError("The file goes on after the interchange's end (IEA).")
    return Remittance(
        sender_id=_el(isa, 6),
        receiver_id=_el(isa, 8),
        isa_control=_el(isa, 13),
        created=created,
        payments=payments,
    )


# --- writing (tests and the demo payer) ------------------------------------------------


def _cas(group: str, adjustments: list[Adjustment]) -> list[str]:
    """CAS segments for one group, six triplets at most per segment."""
    out = []
    for i in range(0, len(adjustments), 6):
        elements: list[str] = ["CAS", group]
        for adj in adjustments[i : i + 6]:
            elements += [adj.reason, amount(adj.amount), ""]
        out.append(_segment(*elements))
    return out


def render(
    payment: Payment,
    *,
    sender_id: str,
    receiver_id: str,
    isa_control: int,
    created: datetime,
    payer_address: tuple[str, str, str, str] = ("PO BOX 1", "SPRINGFIELD", "IL", "62701"),
) -> str:
    """An 835 interchange for one payment, with the segments the parser reads."""
    body: list[str] = []
    add = body.append
    # ST03 is not used in the 835 (005010X221A1 ST03: "Not Used"); GS08 carries the version.
    add(_segment("ST", "835", payment.control_number or "0001"))
    paid_on = (payment.paid_on or created.date()).strftime("%Y%m%d")
    method = payment.method or ("ACH" if payment.total_paid else "NON")
    if method == "ACH":
        bpr = ["BPR", payment.handling or "I", amount(payment.total_paid), "C", "ACH", "CCP"]
        bpr += ["01", "999999999", "DA", "123456", "1512345678", "", "01", "999988880"]
        bpr += ["DA", "98765", paid_on]
    else:
        bpr = ["BPR", "H", amount(payment.total_paid), payment.credit_debit or "C", method]
        bpr += [""] * 11 + [paid_on]
    add(_segment(*bpr))
    # TRN03: "1" followed by the payer's 9-digit tax id.
    originator = payment.originator if len(payment.originator) == 10 else "1999999999"
    add(_segment("TRN", "1", text(payment.trace_number, 50), originator))
    add(_segment("DTM", "405", paid_on))
    add(_segment("N1", "PR", text(payment.payer_name, 60)))
    add(_segment("N3", text(payer_address[0], 55)))
    add(_segment("N4", text(payer_address[1], 30), payer_address[2], payer_address[3]))
    add(_segment("REF", "2U", text(payment.payer_id, 50)))
    add(_segment("PER", "BL", "CLAIMS", "TE", "8005551212"))
    add(_segment("N1", "PE", text(payment.payee_name or "PROVIDER", 60), "XX", payment.payee_id))
    if payment.claims:
        add(_segment("LX", "1"))
    for claim in payment.claims:
        add(
            _segment(
                "CLP",
                text(claim.number, 38),
                claim.status,
                amount(claim.charge),
                amount(claim.paid),
                amount(claim.patient_responsibility) if claim.patient_responsibility else "",
                claim.filing_indicator or "12",
                text(claim.payer_claim_number or claim.number, 50),
            )
        )
        for group in GROUP_CODES:
            adjs = [a for a in claim.adjustments if a.group == group]
            body.extend(_cas(group, adjs) if adjs else [])
        add(
            _segment(
                "NM1",
                "QC",
                "1",
                text(claim.patient_last_name or "UNKNOWN", 60),
                text(claim.patient_first_name, 35),
                "",
                "",
                "",
                "MI" if claim.member_id else "",
                text(claim.member_id, 80),
            )  # fmt: skip
        )
        for line in claim.lines:
            add(
                _segment(
                    "SVC",
                    _composite("HC", line.code, *line.modifiers),
                    amount(line.charge),
                    amount(line.paid),
                    "",
                    amount(line.units) if line.units is not None else "",
                )
            )
            if line.service_date:
                add(_segment("DTM", "472", line.service_date.strftime("%Y%m%d")))
            for group in GROUP_CODES:
                adjs = [a for a in line.adjustments if a.group == group]
                body.extend(_cas(group, adjs) if adjs else [])
            if line.control_number:
                add(_segment("REF", "6R", text(line.control_number, 50)))
            if line.allowed is not None:
                add(_segment("AMT", "B6", amount(line.allowed)))
            for remark in line.remarks:
                add(_segment("LQ", "HE", remark))
    for plb in payment.provider_adjustments:
        period = (plb.fiscal_period or created.date()).strftime("%Y%m%d")
        reason = _composite(plb.reason, plb.reference)
        add(_segment("PLB", plb.provider_id, period, reason, amount(plb.amount)))
    add(_segment("SE", len(body) + 1, payment.control_number or "0001"))
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10,
        "ZZ", text(sender_id).ljust(15)[:15], "ZZ", text(receiver_id).ljust(15)[:15],
        created.strftime("%y%m%d"), created.strftime("%H%M"), "^", "00501",
        f"{isa_control:09d}", "0", "P", ":",
    ]  # fmt: skip
    head = [
        "*".join(isa) + "~",
        _segment(
            "GS",
            "HP",
            text(sender_id, 15),
            text(receiver_id, 15),
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            isa_control,
            "X",
            VERSION,
        ),  # fmt: skip
    ]
    tail = [_segment("GE", 1, isa_control), _segment("IEA", 1, f"{isa_control:09d}")]
    return "\n".join(head + body + tail) + "\n"
