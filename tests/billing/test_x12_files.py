"""The 837P writer and the 835 parser (billing/x12), checked by an independent
validator: pyx12's maps for 005010X222A1 and 005010X221A1. Pure: no database."""

import re
from datetime import date
from decimal import Decimal

import pytest

from billing.x12 import codes, p835, p837
from tests.billing import x12_samples as s
from tests.billing.x12valid import validate


def segments(content):
    return [seg.strip() for seg in content.split("~") if seg.strip()]


def find(content, prefix):
    return [seg for seg in segments(content) if seg.startswith(prefix)]


def test_837p_validates_with_pyx12_and_claim_amount_is_the_sum_of_its_lines():
    other = s.claim(
        "C000000002",
        relationship="19",
        subscriber=p837.Person("Roe", "Rick"),
        patient=p837.Person("Roe", "Kid", date(2005, 3, 3), "U", s.ADDRESS),
        rendering=None,
        prior_authorization="",
        lines=[p837.Line("H0015", Decimal("150"), date(2026, 11, 2), control_number="L3")],
    )
    content = p837.render(s.interchange([s.claim(), other]))

    assert validate(content) == []
    clm = find(content, "CLM*")
    assert clm[0].split("*")[1:3] == ["C000000001", "270.5"]
    assert clm[1].split("*")[1:3] == ["C000000002", "150"]
    # No name or medical record number in the claim number; accents dropped in names.
    assert "NM1*IL*1*DOE*JANE****MI*M123" in content
    # The patient loop (2000C) only for the claim whose patient is not the subscriber.
    assert find(content, "PAT*") == ["PAT*19"]
    assert find(content, "HI*") == ["HI*ABK:F1020*ABF:F1120", "HI*ABK:F1020*ABF:F1120"]
    assert "REF*G1*AUTH-1" in content
    assert find(content, "REF*6R*") == ["REF*6R*L1", "REF*6R*L2", "REF*6R*L3"]
    # The telehealth line says its place of service; the office line inherits CLM05.
    assert find(content, "SV1*")[:2] == [
        "SV1*HC:H0015*150*UN*1***1:2",
        "SV1*HC:90834:95*120.5*UN*1*10**1:2",
    ]
    # Billing provider: NPI, ZIP+4, EIN, taxonomy.
    assert "NM1*85*2*IOP CLINIC*****XX*1234567893" in content
    assert "N4*SPRINGFIELD*IL*627011234" in content
    assert "REF*EI*123456789" in content


def test_837p_trailer_counts_and_control_numbers():
    content = p837.render(s.interchange([s.claim()], isa_control=345, gs_control=345, st_control=7))
    segs = segments(content)
    st = segs.index(next(x for x in segs if x.startswith("ST*")))
    se = segs.index(next(x for x in segs if x.startswith("SE*")))
    assert segs[se] == f"SE*{se - st + 1}*0007"
    assert segs[-2] == "GE*1*345"
    assert segs[-1] == "IEA*1*000000345"
    assert segs[0][90:99] == "000000345"
    assert len(segs[0]) == 105  # ISA is fixed width (106 with its terminator)


def test_837p_rendering_the_same_batch_twice_is_byte_identical():
    ix = s.interchange([s.claim()])
    assert p837.render(ix) == p837.render(ix)


def test_837p_rendering_provider_only_when_it_differs_from_the_billing_provider():
    same = s.claim(rendering=p837.Provider("Clinic", "Iop", s.PROVIDER.npi))
    content = p837.render(s.interchange([same]))
    assert "NM1*82" not in content
    assert validate(content) == []


def test_837p_more_than_5000_claims_go_in_several_transactions(monkeypatch):
    monkeypatch.setattr(p837, "MAX_CLAIMS_PER_TRANSACTION", 2)
    claims = [s.claim(f"C00000000{i}") for i in range(1, 6)]
    content = p837.render(s.interchange(claims))
    assert [x.split("*")[2] for x in find(content, "ST*")] == ["0001", "0002", "0003"]
    assert find(content, "GE*") == ["GE*3*12"]
    assert validate(content) == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lines": [p837.Line("H0015", Decimal("1"), date(2026, 11, 2))] * 51}, "at most 50"),
        ({"principal_diagnosis": ""}, "principal diagnosis is missing"),
        ({"member_id": ""}, "member id is missing"),
        ({"relationship": "19", "patient": None}, "patient's name and date of birth"),
        ({"subscriber": p837.Person("Doe", "Jane", date(1980, 1, 2))}, "patient's address"),
    ],
)
def test_837p_refuses_a_claim_it_cannot_write_validly(change, message):
    with pytest.raises(p837.X12Error, match=message):
        p837.render(s.interchange([s.claim(**change)]))


def test_837p_refuses_a_billing_provider_without_zip_plus_four():
    provider = p837.BillingProvider(
        "IOP", "1234567893", "123456789", "261QR0405X", p837.Address("1 Main", "X", "IL", "62701")
    )
    with pytest.raises(p837.X12Error, match="ZIP\\+4"):
        p837.render(s.interchange([s.claim()], billing_provider=provider))


def test_the_validator_catches_a_wrong_segment_count():
    content = p837.render(s.interchange([s.claim()]))
    broken = re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) - 1}*", content)
    assert any("SE count" in e for e in validate(broken))


def test_835_written_for_tests_validates_and_parses_back():
    content = s.render_835(s.payment([s.paid_and_denied()]))
    assert validate(content) == []

    remittance = p835.parse(content)
    assert (remittance.sender_id, remittance.receiver_id) == ("DEMO1", "IOPCLINIC")
    (pay,) = remittance.payments
    assert (pay.total_paid, pay.paid_on, pay.trace_number) == (
        Decimal("100"),
        date(2026, 12, 10),
        "EFT-1001",
    )
    assert (pay.payer_name, pay.payer_id) == ("DEMO COMMERCIAL", "DEMO1")
    (claim,) = pay.claims
    assert claim.number == "C000000001" and claim.status_text == "Processed as primary"
    paid, denied = claim.lines
    assert (paid.code, paid.control_number, paid.paid, paid.allowed) == (
        "H0015",
        "L1",
        Decimal("100"),
        Decimal("120"),
    )
    assert [(a.group, a.reason, a.amount) for a in paid.adjustments] == [
        ("CO", "45", Decimal("30")),
        ("PR", "2", Decimal("20")),
    ]
    assert paid.patient_responsibility == Decimal("20")
    assert (denied.modifiers, denied.service_date, denied.paid) == (
        ("95",),
        date(2026, 11, 3),
        Decimal("0"),
    )
    assert denied.remarks == ["N54"]
    assert codes.describe("CO", denied.adjustments[0].reason) == (
        "CO-197: Precertification/authorization/notification/pre-treatment absent."
    )


def test_835_cas_with_six_triplets_and_plb():
    line = p835.ServiceLine(
        "H0015", (), Decimal("600"), Decimal("0"), Decimal("1"), date(2026, 11, 2), "L1",
        adjustments=[
            p835.Adjustment("CO", str(r), Decimal("100")) for r in (45, 97, 16, 18, 29, 50)
        ],
    )  # fmt: skip
    claim = p835.ClaimPayment("C1", "4", Decimal("600"), Decimal("0"), Decimal("0"), lines=[line])
    pay = s.payment([claim], method="NON", total_paid=Decimal("25"), credit_debit="D")
    pay.provider_adjustments.append(
        p835.ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "OVERPAY1", Decimal("25"))
    )
    content = s.render_835(pay)
    assert find(content, "CAS*") == ["CAS*CO*45*100**97*100**16*100**18*100**29*100**50*100"]
    parsed = p835.parse(content).payments[0]
    assert [a.reason for a in parsed.claims[0].lines[0].adjustments] == [
        "45", "97", "16", "18", "29", "50",
    ]  # fmt: skip
    assert parsed.claims[0].denied
    assert parsed.provider_adjustments[0].reason == "WO"
    assert parsed.provider_adjustments[0].amount == Decimal("25")


def good():
    return s.render_835(s.payment([s.paid_and_denied()]))


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda t: "", "does not begin with an ISA"),
        (lambda t: "hello, world\n" * 20, "does not begin with an ISA"),
        (lambda t: t.replace("ISA*", "ISA*\x00", 1), "binary"),
        (lambda t: p837.render(s.interchange([s.claim()])), "not HP"),
        (lambda t: t.replace("*00501*", "*00401*", 1), "00501"),
        (lambda t: t.replace("005010X221A1", "004010X091A1"), "version 004010X091A1"),
        (lambda t: t.replace("ST*835", "ST*837"), "not an 835"),
        (lambda t: re.sub(r"SE\*\d+\*", "SE*3*", t), "segment count is wrong"),
        (lambda t: t.replace("GE*1*", "GE*2*"), "transaction count is wrong"),
        (lambda t: t.replace("IEA*1*000000007", "IEA*1*000000008"), "control numbers"),
        (lambda t: t.replace("CLP*C000000001*1*270.5", "CLP*C000000001*1*abc"), "not a number"),
        (lambda t: t.replace("CAS*CO*45", "CAS*XX*45"), "group code"),
        (lambda t: t.replace("DTM*472*20261102", "DTM*472*20261302"), "not a date"),
        (lambda t: t.replace("N1*PR*DEMO COMMERCIAL~", "N1*XX*DEMO COMMERCIAL~"), "payer"),
        (lambda t: t.replace("IEA*1*000000007~", ""), "end of the file"),
        (lambda t: t.replace("BPR*I*100*", "BPR*I*90*"), "does not balance"),
    ],
)
def test_835_malformed_or_foreign_files_get_a_message_in_words(mangle, message):
    with pytest.raises(p835.RemittanceError, match=message):
        p835.parse(mangle(good()))


def test_835_parser_reads_bytes_and_a_file_without_newlines():
    content = good().replace("\n", "")
    assert p835.parse(content.encode()).payments[0].claims[0].number == "C000000001"
    with pytest.raises(p835.RemittanceError, match="not text"):
        p835.parse(b"\xff\xfe\x00I\x00S")


def test_codes_describe_the_common_carcs_and_rarcs():
    for code in ("45", "97", "16", "18", "29", "50", "96", "197", "252", "1", "2", "3", "23"):
        assert codes.CARC[code]
    for code in ("N130", "M86", "N115", "MA130", "N290"):
        assert codes.RARC[code]
    assert codes.describe("PR", "1") == "PR-1: Deductible amount."
    assert codes.carc("999") == "Reason code 999: see the X12 CARC list."
    assert codes.rarc("n290") == "Missing/incomplete/invalid rendering provider primary identifier."


def test_837p_two_authorizations_go_on_their_lines():
    lines = [
        p837.Line("H0015", Decimal("150"), date(2026, 11, 2), control_number="L1",
                  prior_authorization="AUTH-OCT"),
        p837.Line("H0015", Decimal("150"), date(2026, 11, 3), control_number="L2",
                  prior_authorization="AUTH-NOV"),
    ]  # fmt: skip
    content = p837.render(s.interchange([s.claim(lines=lines, prior_authorization="")]))
    assert validate(content) == []
    assert find(content, "REF*G1*") == ["REF*G1*AUTH-OCT", "REF*G1*AUTH-NOV"]


def test_837p_needs_the_submitters_phone():
    submitter = p837.Submitter("IOP Clinic", "IOP123", "Billing Office", "")
    with pytest.raises(p837.X12Error, match="phone"):
        p837.render(s.interchange([s.claim()], submitter=submitter))
