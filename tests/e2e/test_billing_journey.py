"""Issue 22's whole journey in Chromium, as the billing role: a client with nothing on
file gets coverage, a principal diagnosis and an H0015 authorization through the
billing pages; the client attends two IOP days (the clinician's attendance and signed
group note); the billing specialist builds charges and claims from the claims page,
exports the ready claim as an 837P (valid for pyx12, CLM02 the sum of the charges),
and imports the payer's 835 that pays one day and denies the other."""

import re
from datetime import date
from decimal import Decimal

import pytest

from billing import icd
from billing.models import Charge, Claim, ClaimStatus
from billing.tasks import build_charges_and_claims
from clients.models import Disclosure
from iop.audit.models import AuditEvent
from tests.billing.claims_builders import (
    TODAY,
    attended_days,
    billing_provider,
    payer,
    staff,
    tpo_consent,
    weekdays,
)
from tests.billing.test_x12_remittance import answer, remit
from tests.billing.x12valid import validate
from tests.clients.factories import EpisodeFactory
from tests.clock import at
from tests.iop.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _text(locator):
    return re.sub(r"\s+", " ", locator.inner_text())


def test_coverage_to_a_paid_and_a_denied_line(page, browser_login, time_machine, tmp_path):
    time_machine.move_to(at(TODAY, "12:00"), tick=True)
    icd.warm()
    provider = billing_provider()
    provider.phone = "6175550100"
    provider.save()
    payer()
    thera = staff("thera")
    client = EpisodeFactory(admitted_on=date(2026, 10, 1)).client
    tpo_consent(client)
    UserFactory(username="bill", roles=["billing"])

    # Coverage, diagnosis and authorization through the billing pages.
    browser_login("bill")
    page.goto(f"/billing/clients/{client.public_id}/")
    page.get_by_role("link", name="Add coverage").click()
    page.select_option("select[name=payer]", label="Acme Health")
    page.fill("input[name=member_id]", "ACM-100-7")
    page.fill("input[name=effective_on]", "2026-01-01")
    page.fill("input[name=address_line1]", "12 Elm St")
    page.fill("input[name=city]", "Boston")
    page.fill("input[name=state]", "MA")
    page.fill("input[name=postal_code]", "02108")
    page.get_by_role("button", name="Save coverage").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")
    assert "ACM-100-7" in _text(page.get_by_test_id("section-coverage"))

    page.get_by_role("link", name="Add diagnosis").click()
    page.fill("input[name=code]", "F10.20")
    page.check("input[name=principal]")
    page.get_by_role("button", name="Add diagnosis").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")

    page.get_by_role("link", name="Add authorization").click()
    page.select_option("select[name=payer]", label="Acme Health")
    page.fill("input[name=service_code]", "H0015")
    page.fill("input[name=units_approved]", "20")
    page.fill("input[name=starts_on]", "2026-11-01")
    page.fill("input[name=ends_on]", "2026-12-31")
    page.fill("input[name=reference]", "PA-4410")
    page.get_by_role("button", name="Save authorization").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")
    assert "20 0 20" in _text(page.get_by_test_id("authorization-row"))

    # Two attended IOP days in November, each with its signed group note.
    attended_days([client], weekdays(date(2026, 11, 2), 2), author=thera)

    # The build, queued from the claims page; the worker's run is the task itself.
    page.goto("/billing/claims/")
    page.get_by_role("button", name="Build charges and claims").click()
    page.wait_for_load_state("load")
    assert "being built in the background" in page.content()
    assert AuditEvent.objects.filter(action="claims.build").exists()
    build_charges_and_claims()
    assert Charge.objects.filter(client=client, code="H0015").count() == 2
    claim = Claim.objects.get(client=client)
    assert claim.status == ClaimStatus.READY
    page.reload()
    assert claim.number in page.content()
    page.goto(f"/billing/clients/{client.public_id}/")
    assert "20 2 18" in _text(page.get_by_test_id("authorization-row"))

    # The 837P, downloaded from the export page.
    page.goto("/billing/claims/export/")
    page.get_by_label("Payer").select_option("ACME")
    page.get_by_label("Dates of service through").fill("2026-11-30")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export and download the 837P").click()
    saved = tmp_path / "claims.x12"
    download.value.save_as(saved)
    content = saved.read_text()
    assert validate(content) == []
    total = sum(Charge.objects.filter(client=client).values_list("amount", flat=True))
    assert f"CLM*{claim.number}*{total.normalize():f}*" in content
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    disclosure = Disclosure.objects.get(client=client)
    assert disclosure.recipient_name == "Acme Health" and disclosure.purpose

    # The payer's 835: the first day paid, the second denied.
    era = tmp_path / "era.835"
    era.write_text(
        remit(
            [
                answer(
                    claim,
                    [
                        ("180", [("CO", "45", "30")], []),
                        ("0", [("CO", "197", "210")], ["N54"]),
                    ],
                )
            ]
        )
    )
    page.goto("/billing/remittances/")
    page.get_by_label("835 remittance file").set_input_files(str(era))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state("load")
    assert "denied 1" in page.content()
    page.goto("/billing/denials/")
    queue = page.get_by_test_id("denials").inner_text()
    assert claim.number in queue
    assert "CO-197: Precertification/authorization/notification/pre-treatment absent." in queue
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PARTIAL
    assert sum(claim.lines.values_list("paid", flat=True)) == Decimal("180")
