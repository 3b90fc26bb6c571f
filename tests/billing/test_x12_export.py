"""claims_export (issue 22): one 837P interchange of a payer's ready claims, the batch
kept, the claims submitted and disclosed; a second run writes nothing, a resend is
byte-identical; every file validates with pyx12 (005010X222A1)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Batch, Claim, ClaimStatus, Coverage
from clients.models import Disclosure
from iop.audit.models import AuditEvent
from tests.billing.claims_builders import TODAY, billing_provider, covered_client, payer, staff
from tests.billing.x12_builders import NOV, ready_claim, with_address
from tests.billing.x12valid import validate
from tests.clock import at

THROUGH = "2026-11-30"


@pytest.fixture
def setup(db, time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)
    provider = billing_provider()
    provider.phone = "6175550100"
    provider.save()
    return payer(), staff("thera")


def export(tmp_path, name="out.837", code="ACME", through=THROUGH, **kwargs):
    from io import StringIO

    out = StringIO()
    path = tmp_path / name
    call_command(
        "claims_export", payer=code, through=through, output=str(path), stdout=out, **kwargs
    )
    return path, out.getvalue()


def segs(content):
    return [s.strip() for s in content.split("~") if s.strip()]


def test_export_writes_one_valid_interchange_and_submits_the_claims(setup, tmp_path):
    the_payer, thera = setup
    first = ready_claim(the_payer, days=NOV, rendering=thera)
    second = ready_claim(the_payer, days=NOV[:1], appointments=[date(2026, 11, 5)])
    other_payer = payer("OTHER", "Other Health")
    not_this = ready_claim(other_payer, days=NOV)
    december = ready_claim(the_payer, days=[date(2026, 12, 1)])

    path, said = export(tmp_path)

    content = path.read_bytes().decode("ascii")
    assert validate(content) == []
    batch = Batch.objects.get()
    assert batch.content == content and batch.claim_count == 2
    assert batch.total == Decimal("630.00") + Decimal("330.00")
    assert f"Batch {batch.isa_control:09d}: 2 claims, total 960.00" in said
    clms = [s for s in segs(content) if s.startswith("CLM*")]
    # CLM01 the opaque claim number; CLM02 the sum of the claim's charges.
    assert [c.split("*")[1:3] for c in clms] == [
        [first.number, "630"],
        [second.number, "330"],
    ]
    for claim in (first, second):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.SUBMITTED and claim.batch == batch
        assert claim.disclosure is not None
        assert claim.client.mrn not in content
    assert Disclosure.objects.filter(client=first.client, recipient_name="Acme Health").exists()
    # The rendering clinician (2310B) and the authorization (REF*G1) of the H0015 days.
    assert f"NM1*82*1*{thera.last_name.upper()}" in content
    assert f"REF*G1*AUTH{first.client.pk}" in content
    # Left alone: another payer's claim and one with a service after the day.
    for claim in (not_this, december):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.READY
    assert AuditEvent.objects.filter(action="billing.export").count() == 1
    assert AuditEvent.objects.filter(action="claim.submit").count() == 2


def test_export_twice_writes_nothing_new_and_resend_is_byte_identical(setup, tmp_path):
    the_payer, _ = setup
    ready_claim(the_payer, days=NOV)
    path, _ = export(tmp_path)
    batch = Batch.objects.get()

    again, said = export(tmp_path, name="again.837")
    assert "No ready claim to export: nothing new was written." in said
    assert not again.exists()
    assert Batch.objects.count() == 1

    resent = tmp_path / "resent.837"
    call_command("claims_export", resend=str(batch.isa_control), output=str(resent))
    assert resent.read_bytes() == path.read_bytes()
    assert Claim.objects.get().status == ClaimStatus.SUBMITTED


def test_control_numbers_are_unique_and_increasing(setup, tmp_path):
    the_payer, _ = setup
    ready_claim(the_payer, days=NOV[:1])
    export(tmp_path, name="a.837")
    ready_claim(the_payer, days=NOV[1:2])
    path, _ = export(tmp_path, name="b.837")
    first, second = Batch.objects.order_by("created_at", "id")
    assert second.isa_control == first.isa_control + 1
    isa = segs(path.read_text())[0]
    assert isa.split("*")[13] == f"{second.isa_control:09d}"
    assert validate(path.read_text()) == []


def test_a_dependent_and_a_claim_without_address_are_handled(setup, tmp_path):
    the_payer, _ = setup
    child = covered_client(the_payer)
    Coverage.objects.filter(client=child).update(
        relationship="19",
        subscriber_first_name="Pat",
        subscriber_last_name="Parent",
        subscriber_dob=date(1970, 5, 5),
    )
    with_address(child)
    dependent = ready_claim(the_payer, client=child, days=NOV)
    nowhere = ready_claim(the_payer, client=covered_client(the_payer), days=NOV)

    path, said = export(tmp_path)

    content = path.read_text()
    assert validate(content) == []
    assert "PAT*19" in content and "NM1*IL*1*PARENT*PAT" in content
    assert f"{nowhere.number}: the patient's address is required" in said
    nowhere.refresh_from_db()
    dependent.refresh_from_db()
    assert nowhere.status == ClaimStatus.READY
    assert dependent.status == ClaimStatus.SUBMITTED


def test_export_without_consent_today_saves_nothing(setup, tmp_path):
    the_payer, _ = setup
    claim = ready_claim(the_payer, days=NOV)
    claim.client.consents.all().delete()
    with pytest.raises(CommandError, match=claim.number):
        export(tmp_path)
    assert not (tmp_path / "out.837").exists()
    assert Batch.objects.count() == 0
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.READY


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"code": "NOPE"}, "No payer with code"),
        ({"through": "30/11/2026"}, "must be a date"),
    ],
)
def test_export_bad_arguments_say_what_is_wrong(setup, tmp_path, kwargs, message):
    with pytest.raises(CommandError, match=message):
        export(tmp_path, **kwargs)


def test_resend_of_an_unknown_batch(setup, tmp_path):
    with pytest.raises(CommandError, match="No batch 42"):
        call_command("claims_export", resend="42", output=str(tmp_path / "x"))
