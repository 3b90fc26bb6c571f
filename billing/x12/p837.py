"""An X12 837 Professional claim interchange, version 005010X222A1.

A pure writer: plain dataclasses in, the interchange's text out. No database, no clock
(the caller passes the creation time and the control numbers), so the same batch
rendered twice is byte-identical.

The layout follows the ASC X12N 837 Professional implementation guide, 005010X222A1
(May 2006, with the June 2010 addenda): ISA/GS/ST envelope, BHT, 1000A submitter,
1000B receiver, 2000A billing provider (2010AA), 2000B subscriber (2010BA subscriber,
2010BB payer), 2000C patient when the patient is not the subscriber, 2300 claim, 2310B
rendering provider when it differs from the billing provider, 2400 service lines
(LX, SV1, DTP*472, REF*6R), 2420A line rendering provider when it differs from the
claim's, and SE/GE/IEA trailers with their counts.

Claim numbers (CLM01, the "patient control number") are opaque: the writer never sees
a medical record number. Diagnosis codes go without their dot (X12: "F10.20" → "F1020").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

VERSION = "005010X222A1"

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
SEGMENT = "~"

# The guide's limits (005010X222A1 §2.3.2.1, 2300 CLM and 2400 LX repeat counts).
MAX_LINES_PER_CLAIM = 50
MAX_DIAGNOSES = 12
MAX_CLAIMS_PER_TRANSACTION = 5000

# SBR01 payer responsibility sequence, by coverage order.
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


class X12Error(ValueError):
    """The data cannot make a valid 837P (a missing identifier, too many lines)."""


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str  # 5 or 9 digits (ZIP+4 with or without the hyphen)
    line2: str = ""


@dataclass(frozen=True)
class Submitter:
    name: str
    identifier: str  # 1000A NM109: the submitter id the receiver assigned (ETIN)
    contact_name: str
    phone: str


@dataclass(frozen=True)
class Receiver:
    name: str
    identifier: str  # 1000B NM109


@dataclass(frozen=True)
class BillingProvider:
    name: str
    npi: str
    tax_id: str  # EIN, 9 digits
    taxonomy: str
    address: Address  # the 2010AA ZIP must have 9 digits


@dataclass(frozen=True)
class Provider:
    """A rendering provider (2310B or 2420A): a person."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date | None = None
    sex: str = "U"  # DMG03: F, M or U (unknown)
    address: Address | None = None


@dataclass(frozen=True)
class Payer:
    name: str
    payer_id: str  # 2010BB NM109
    filing_indicator: str  # SBR09: CI, MC, MB, BL, HM, 12...


@dataclass(frozen=True)
class Line:
    code: str
    amount: Decimal
    service_date: date
    units: Decimal | int = 1
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""  # SV105, sent only when it differs from the claim's
    control_number: str = ""  # REF*6R line item control number (echoed in the 835)
    rendering: Provider | None = None  # 2420A, sent only when it differs from the claim's
    prior_authorization: str = ""  # 2400 REF*G1, sent only when it differs from the claim's


@dataclass(frozen=True)
class Claim:
    number: str  # CLM01: opaque, never the MRN or the name
    subscriber: Person
    member_id: str
    payer: Payer
    place_of_service: str  # CLM05-1
    principal_diagnosis: str
    lines: Sequence[Line]
    other_diagnoses: Sequence[str] = ()
    relationship: str = "18"  # 18 self; otherwise the patient's PAT01 code (01, 19, G8...)
    patient: Person | None = None  # required when relationship is not 18
    group_number: str = ""
    order: int = 1  # 1 primary, 2 secondary, 3 tertiary
    prior_authorization: str = ""  # REF*G1
    rendering: Provider | None = None  # 2310B

    @property
    def total(self) -> Decimal:
        return sum((Decimal(line.amount) for line in self.lines), Decimal("0"))


@dataclass(frozen=True)
class Interchange:
    sender_id: str  # ISA06 / GS02
    receiver_id: str  # ISA08 / GS03
    isa_control: int
    gs_control: int
    st_control: int  # the first transaction's; one more per further 5000 claims
    created: datetime
    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: Sequence[Claim]
    reference: str = ""  # BHT03; the ISA control number when blank
    production: bool = True  # ISA15: P or T
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    extra: dict = field(default_factory=dict)


_FORBIDDEN = re.compile(r"[^A-Z0-9 !\"&'()+,\-./;?=%@\[\]_{}\\|<>#$]")


def text(value: object, limit: int | None = None) -> str:
    """An element's text in the X12 extended character set: accents dropped, upper case,
    delimiters and anything else outside the set removed, spaces collapsed."""
    return _text(str(value or ""), limit)


@lru_cache(maxsize=16384)
def _text(value: str, limit: int | None) -> str:
    raw = unicodedata.normalize("NFKD", value)
    raw = raw.encode("ascii", "ignore").decode("ascii").upper()
    cleaned = " ".join(_FORBIDDEN.sub(" ", raw).split())
    return cleaned[:limit] if limit else cleaned


def digits(value: object) -> str:
    return re.sub(r"\D", "", str(value or ""))


def amount(value: Decimal | int | str) -> str:
    """An X12 R (decimal) element: no leading zeros, trailing zeros dropped."""
    number = Decimal(value).quantize(Decimal("0.01"))
    rendered = f"{number:f}"
    if "." in rendered:
        rendered = rendered.rstrip("0").rstrip(".")
    return rendered or "0"


def quantity(value: Decimal | int | str) -> str:
    return amount(value)


def icd(code: str) -> str:
    """An ICD-10-CM code as X12 carries it: no dot."""
    return text(code).replace(".", "").replace(" ", "")


def _segment(*elements: object) -> str:
    values = [str(e) if e is not None else "" for e in elements]
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return ELEMENT.join(values) + SEGMENT


def _composite(*parts: str) -> str:
    values = list(parts)
    while values and values[-1] == "":
        values.pop()
    return COMPONENT.join(values)


def _require(value: str, what: str, claim: str = "") -> str:
    if not value:
        where = f" on claim {claim}" if claim else ""
        raise X12Error(f"{what} is missing{where}.")
    return value


class _Transaction:
    def __init__(self) -> None:
        self.segments: list[str] = []
        self.hl = 0

    def add(self, *elements: object) -> None:
        self.segments.append(_segment(*elements))

    def next_hl(self) -> int:
        self.hl += 1
        return self.hl


def _address(tx: _Transaction, address: Address) -> None:
    tx.add("N3", text(address.line1, 55), text(address.line2, 55))
    tx.add("N4", text(address.city, 30), text(address.state, 2), digits(address.postal_code))


def _isa(ix: Interchange) -> str:
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        ix.sender_qualifier,
        text(ix.sender_id).ljust(15)[:15],
        ix.receiver_qualifier,
        text(ix.receiver_id).ljust(15)[:15],
        ix.created.strftime("%y%m%d"),
        ix.created.strftime("%H%M"),
        REPETITION,
        "00501",
        f"{ix.isa_control:09d}",
        "0",
        "P" if ix.production else "T",
        COMPONENT,
    ]
    return ELEMENT.join(fields) + SEGMENT


def _check(ix: Interchange) -> None:
    if not 0 < ix.isa_control <= 999_999_999:
        raise X12Error("The interchange control number must have 1 to 9 digits.")
    if not ix.claims:
        raise X12Error("An interchange needs at least one claim.")
    if not digits(ix.submitter.phone):
        raise X12Error("The submitter's phone number (1000A PER) is missing.")
    bp = ix.billing_provider
    if len(digits(bp.npi)) != 10:
        raise X12Error("The billing provider's NPI must have 10 digits.")
    if len(digits(bp.tax_id)) != 9:
        raise X12Error("The billing provider's tax id (EIN) must have 9 digits.")
    if len(digits(bp.address.postal_code)) != 9:
        raise X12Error("The billing provider's ZIP code must have 9 digits (ZIP+4).")
    for claim in ix.claims:
        check_claim(claim)


def check_claim(claim: Claim) -> None:
    """Raise X12Error when ``claim`` cannot make a valid 2300 loop (the message names
    the claim by its number only)."""
    _require(text(claim.number), "The claim number")
    if not claim.lines:
        raise X12Error(f"Claim {claim.number} has no service lines.")
    if len(claim.lines) > MAX_LINES_PER_CLAIM:
        raise X12Error(
            f"Claim {claim.number} has {len(claim.lines)} service lines; "
            f"an 837P claim holds at most {MAX_LINES_PER_CLAIM}."
        )
    if 1 + len(claim.other_diagnoses) > MAX_DIAGNOSES:
        raise X12Error(f"Claim {claim.number} has more than {MAX_DIAGNOSES} diagnoses.")
    _require(icd(claim.principal_diagnosis), "The principal diagnosis", claim.number)
    _require(text(claim.member_id), "The member id", claim.number)
    _require(text(claim.payer.payer_id), "The payer id", claim.number)
    _require(claim.payer.filing_indicator, "The claim filing indicator", claim.number)
    patient = claim.subscriber if claim.relationship == "18" else claim.patient
    if patient is None or patient.birth_date is None:
        raise X12Error(f"Claim {claim.number}: the patient's name and date of birth are required.")
    if patient.address is None:
        raise X12Error(f"Claim {claim.number}: the patient's address is required.")
    for provider in [claim.rendering, *(line.rendering for line in claim.lines)]:
        if provider is not None and len(digits(provider.npi)) != 10:
            raise X12Error(f"Claim {claim.number}: a rendering provider's NPI is missing.")


def _header(tx: _Transaction, ix: Interchange, st_control: int) -> None:
    tx.add("ST", "837", f"{st_control:04d}", VERSION)
    tx.add(
        "BHT",
        "0019",
        "00",
        text(ix.reference, 30) or f"{ix.isa_control:09d}",
        ix.created.strftime("%Y%m%d"),
        ix.created.strftime("%H%M"),
        "CH",
    )
    # 1000A submitter, 1000B receiver.
    tx.add(
        "NM1",
        "41",
        "2",
        text(ix.submitter.name, 60),
        "",
        "",
        "",
        "",
        "46",
        text(ix.submitter.identifier, 80),
    )
    tx.add("PER", "IC", text(ix.submitter.contact_name, 60), "TE", digits(ix.submitter.phone))
    tx.add(
        "NM1",
        "40",
        "2",
        text(ix.receiver.name, 60),
        "",
        "",
        "",
        "",
        "46",
        text(ix.receiver.identifier, 80),
    )
    # 2000A billing provider.
    bp = ix.billing_provider
    tx.add("HL", tx.next_hl(), "", "20", "1")
    if bp.taxonomy:
        tx.add("PRV", "BI", "PXC", text(bp.taxonomy))
    tx.add("NM1", "85", "2", text(bp.name, 60), "", "", "", "", "XX", digits(bp.npi))
    _address(tx, bp.address)
    tx.add("REF", "EI", digits(bp.tax_id))


def _person_name(
    tx: _Transaction, entity: str, person: Person, qualifier: str = "", ident: str = ""
) -> None:
    tx.add(
        "NM1",
        entity,
        "1",
        text(person.last_name, 60),
        text(person.first_name, 35),
        "",
        "",
        "",
        qualifier,
        ident,
    )


def _demographics(tx: _Transaction, person: Person) -> None:
    if person.address is not None:
        _address(tx, person.address)
    if person.birth_date is not None:
        sex = person.sex if person.sex in ("F", "M", "U") else "U"
        tx.add("DMG", "D8", person.birth_date.strftime("%Y%m%d"), sex)


def _provider(tx: _Transaction, provider: Provider) -> None:
    tx.add(
        "NM1",
        "82",
        "1",
        text(provider.last_name, 60),
        text(provider.first_name, 35),
        "",
        "",
        "",
        "XX",
        digits(provider.npi),
    )
    if provider.taxonomy:
        tx.add("PRV", "PE", "PXC", text(provider.taxonomy))


def _claim(tx: _Transaction, claim: Claim, billing_npi: str) -> None:
    self_pay = claim.relationship == "18"
    subscriber_hl = tx.next_hl()
    tx.add("HL", subscriber_hl, "1", "22", "0" if self_pay else "1")
    tx.add(
        "SBR",
        RESPONSIBILITY.get(claim.order, "P"),
        "18" if self_pay else "",
        text(claim.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        claim.payer.filing_indicator,
    )
    _person_name(tx, "IL", claim.subscriber, "MI", text(claim.member_id, 80))
    if self_pay:
        _demographics(tx, claim.subscriber)
    tx.add(
        "NM1",
        "PR",
        "2",
        text(claim.payer.name, 60),
        "",
        "",
        "",
        "",
        "PI",
        text(claim.payer.payer_id, 80),
    )
    if not self_pay:
        assert claim.patient is not None
        tx.add("HL", tx.next_hl(), subscriber_hl, "23", "0")
        tx.add("PAT", claim.relationship)
        _person_name(tx, "QC", claim.patient)
        _demographics(tx, claim.patient)

    # 2300 claim.
    tx.add(
        "CLM",
        text(claim.number, 38),
        amount(claim.total),
        "",
        "",
        _composite(claim.place_of_service, "B", "1"),
        "Y",  # provider signature on file
        "A",  # assignment accepted
        "Y",  # benefits assigned
        "Y",  # release of information on file
    )
    if claim.prior_authorization:
        tx.add("REF", "G1", text(claim.prior_authorization, 50))
    diagnoses = [icd(claim.principal_diagnosis)]
    for code in claim.other_diagnoses:
        code = icd(code)
        if code and code not in diagnoses:
            diagnoses.append(code)
    tx.add(
        "HI",
        _composite("ABK", diagnoses[0]),
        *(_composite("ABF", code) for code in diagnoses[1:]),
    )
    claim_rendering = claim.rendering
    if claim_rendering is not None and digits(claim_rendering.npi) != digits(billing_npi):
        _provider(tx, claim_rendering)
    else:
        claim_rendering = None
    pointers = _composite(*[str(i) for i in range(1, min(len(diagnoses), 4) + 1)])

    for number, line in enumerate(claim.lines, start=1):
        tx.add("LX", number)
        procedure = _composite("HC", text(line.code), *(text(m) for m in line.modifiers[:4] if m))
        pos = line.place_of_service if line.place_of_service != claim.place_of_service else ""
        tx.add("SV1", procedure, amount(line.amount), "UN", quantity(line.units), pos, "", pointers)
        tx.add("DTP", "472", "D8", line.service_date.strftime("%Y%m%d"))
        if line.prior_authorization and line.prior_authorization != claim.prior_authorization:
            tx.add("REF", "G1", text(line.prior_authorization, 50))
        if line.control_number:
            tx.add("REF", "6R", text(line.control_number, 50))
        rendering = line.rendering
        if rendering is not None:
            claim_npi = digits(claim_rendering.npi) if claim_rendering else digits(billing_npi)
            if digits(rendering.npi) != claim_npi:
                _provider(tx, rendering)


def render(ix: Interchange) -> str:
    """The interchange's text: one ISA/GS, one ST per 5000 claims. Raises X12Error when
    the data cannot make a valid claim (the message names the claim number only)."""
    _check(ix)
    out = [_isa(ix)]
    out.append(
        _segment(
            "GS",
            "HC",
            text(ix.sender_id, 15),
            text(ix.receiver_id, 15),
            ix.created.strftime("%Y%m%d"),
            ix.created.strftime("%H%M"),
            ix.gs_control,
            "X",
            VERSION,
        )
    )
    claims = list(ix.claims)
    transactions = 0
    for start in range(0, len(claims), MAX_CLAIMS_PER_TRANSACTION):
        st_control = ix.st_control + transactions
        tx = _Transaction()
        _header(tx, ix, st_control)
        for claim in claims[start : start + MAX_CLAIMS_PER_TRANSACTION]:
            _claim(tx, claim, ix.billing_provider.npi)
        tx.add("SE", len(tx.segments) + 1, f"{st_control:04d}")
        out.extend(tx.segments)
        transactions += 1
    out.append(_segment("GE", transactions, ix.gs_control))
    out.append(_segment("IEA", 1, f"{ix.isa_control:09d}"))
    return "\n".join(out) + "\n"
