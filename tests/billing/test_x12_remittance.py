"""remittance_import (issue 22): an 835 posts payments, adjustments and denials to our
claim lines, in one transaction; the same file twice changes nothing; a foreign,
malformed or other payer's file, or one naming a claim we don't know, saves nothing."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import (
    Adjustment,
    Claim,
    ClaimLine,
    ClaimStatus,
    LinePayment,
    LineStatus,
    Remittance,
)
from billing.services.export import line_control
from billing.x12 import p835
from tests.billing import x12_samples as s
from tests.billing.claims_builders import TODAY, billing_provider, payer
from tests.billing.x12_builders import NOV, ready_claim
from tests.billing.x12valid import validate
from tests.clock import at


@pytest.fixture
def submitted(db, time_machine, tmp_path):
    """Two submitted claims of Acme: the first of three H0015 days, the second one day."""
    time_machine.move_to(at(TODAY, "12:00"), tick=False)
    provider = billing_provider()
    provider.phone = "6175550100"
    provider.save()
    acme = payer()
    first = ready_claim(acme, days=NOV)
    second = ready_claim(acme, days=NOV[:1])
    call_command("claims_export", payer="ACME", through="2026-11-30", output=str(tmp_path / "x"))
    return acme, first, second


def answer(claim, outcomes, status="1"):
    """An 835 ClaimPayment for ``claim``: one (paid, adjustments, remarks) per line."""
    lines = []
    for line, (paid, adjustments, remarks) in zip(
        claim.lines.order_by("line_number"), outcomes, strict=True
    ):
        lines.append(
            p835.ServiceLine(
                line.code,
                (),
                line.amount,
                Decimal(paid),
                Decimal("1"),
                line.service_date,
                line_control(line),
                None,
                [p835.Adjustment(g, r, Decimal(a)) for g, r, a in adjustments],
                remarks,
            )  # fmt: skip
        )
    paid = sum((x.paid for x in lines), Decimal("0"))
    pr = sum((x.patient_responsibility for x in lines), Decimal("0"))
    return p835.ClaimPayment(
        claim.number, status, claim.total, paid, pr, "12",
        patient_last_name="Doe", patient_first_name="J", member_id="M1", lines=lines,
    )  # fmt: skip


def remit(claims, isa_control=7, **kwargs):
    fields = {"payer_id": "ACME", "payer_name": "Acme Health"} | kwargs
    return s.render_835(s.payment(claims, **fields), isa_control=isa_control)


def run(tmp_path, content, name="in.835", **kwargs):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = StringIO()
    call_command("remittance_import", str(path), stdout=out, **kwargs)
    return out.getvalue()


def snapshot():
    return (
        Remittance.objects.count(),
        LinePayment.objects.count(),
        Adjustment.objects.count(),
        sorted(Claim.objects.values_list("number", "status")),
        sorted(ClaimLine.objects.values_list("id", "paid", "adjusted", "status")),
    )


def test_import_posts_payments_adjustments_and_denials(submitted, tmp_path):
    acme, first, second = submitted
    content = remit(
        [
            answer(
                first,
                [
                    ("180", [("CO", "45", "30")], []),
                    ("160", [("CO", "45", "30"), ("PR", "2", "20")], ["N130"]),
                    ("0", [("CO", "197", "210")], ["N54"]),
                ],
            ),
            answer(second, [("0", [("CO", "29", "210")], [])], status="4"),
        ]
    )
    assert validate(content) == []

    said = run(tmp_path, content)

    assert "2 claims posted, 340.00 paid" in said
    assert "lines paid 2, partly paid 0, denied 2" in said
    one, two, three = first.lines.order_by("line_number")
    assert (one.paid, one.adjusted, one.status) == (Decimal("180"), Decimal("30"), "paid")
    assert (two.paid, two.patient_responsibility, two.status) == (
        Decimal("160"),
        Decimal("20"),
        "paid",
    )
    assert (three.paid, three.status) == (Decimal("0"), LineStatus.DENIED)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ClaimStatus.PARTIAL
    assert second.status == ClaimStatus.DENIED
    denial = Adjustment.objects.get(line_payment__claim_line=three)
    assert (denial.group_code, denial.carc, denial.rarc) == ("CO", "197", "N54")
    remittance = Remittance.objects.get()
    assert (remittance.payer, remittance.trace_number, remittance.total_paid) == (
        acme,
        "EFT-1001",
        Decimal("340.00"),
    )
    assert remittance.paid_on == date(2026, 12, 10)


def test_the_same_file_twice_changes_nothing(submitted, tmp_path):
    _, first, second = submitted
    content = remit([answer(second, [("210", [], [])])])
    run(tmp_path, content)
    before = snapshot()

    said = run(tmp_path, content, name="again.835")
    assert "already imported" in said and "nothing changed" in said
    # The same payment in another envelope (another interchange number): no double posting.
    said = run(tmp_path, remit([answer(second, [("210", [], [])])], isa_control=8), "b")
    assert "nothing changed" in said
    assert snapshot() == before
    assert ClaimLine.objects.get(claim=second).paid == Decimal("210")


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda f, s_: remit([answer(s_, [("210", [], [])])], payer_id="ZZZ"),
            "none of our payers",
        ),
        (
            lambda f, s_: remit(
                [answer(s_, [("210", [], [])]), p835.ClaimPayment("C999999999", "1", 1, 0, 0)]
            ),
            "C999999999 is not one of ours",
        ),
        (lambda f, s_: remit([answer(s_, [("210", [], [])])]).replace("SE*", "SE*9"), "count"),
        (
            lambda f, s_: remit([answer(s_, [("210", [], [])])]).replace("BPR*I*210", "BPR*I*21"),
            "balance",
        ),
        (lambda f, s_: p835_as_837(), "not HP"),
        (lambda f, s_: "", "empty"),
        (lambda f, s_: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "binary"),
        (lambda f, s_: "ISA" + "x" * 200, "malformed"),
    ],
)
def test_a_bad_file_saves_nothing_and_says_why(submitted, tmp_path, make, message):
    _, first, second = submitted
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(tmp_path, make(first, second))
    assert snapshot() == before


def p835_as_837():
    return open_837()


def open_837():
    from billing.models import Batch

    return Batch.objects.get().content


def test_a_file_for_another_payer_saves_nothing(submitted, tmp_path):
    _, first, second = submitted
    payer("OTHER", "Other Health")
    before = snapshot()
    content = remit([answer(second, [("210", [], [])])], payer_id="OTHER", payer_name="Other")
    with pytest.raises(CommandError, match="billed to Acme Health, not to Other Health"):
        run(tmp_path, content)
    with pytest.raises(CommandError, match="is from Acme Health, not Other Health"):
        run(tmp_path, remit([answer(second, [("210", [], [])])]), payer="OTHER")
    assert snapshot() == before


def test_a_claim_that_was_never_submitted_is_refused(submitted, tmp_path):
    acme, _, _ = submitted
    held = ready_claim(acme, days=[date(2026, 11, 20)])
    before = snapshot()
    with pytest.raises(CommandError, match=f"Claim {held.number} has not been submitted"):
        run(tmp_path, remit([answer(held, [("210", [], [])])]))
    assert snapshot() == before


def test_a_whole_claim_denial_denies_every_line(submitted, tmp_path):
    _, first, _ = submitted
    cp = p835.ClaimPayment(
        first.number, "4", first.total, Decimal("0"), Decimal("0"), "12",
        adjustments=[p835.Adjustment("CO", "16", first.total)], remarks=["MA130"],
    )  # fmt: skip
    run(tmp_path, remit([cp]))
    first.refresh_from_db()
    assert first.status == ClaimStatus.DENIED
    assert set(first.lines.values_list("status", flat=True)) == {"denied"}
    adj = Adjustment.objects.get(claim=first, line_payment=None)
    assert (adj.group_code, adj.carc) == ("CO", "16")
