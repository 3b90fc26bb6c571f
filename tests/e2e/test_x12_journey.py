"""Issue 22 in Chromium, as the billing role: last month's ready claim is exported from
the claims pages as an 837P download (valid for pyx12), the payer's 835 answering it is
uploaded, one line paid and one denied; the denial waits in the queue with its reason in
words, and the same file uploaded again changes nothing."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Claim, ClaimStatus
from billing.services.charges import build_charges
from billing.services.claims import build_claims
from tests.billing.claims_builders import (
    NOVEMBER,
    TODAY,
    attended_days,
    billing_provider,
    covered_client,
    payer,
    staff,
    weekdays,
)
from tests.billing.test_x12_remittance import answer, remit
from tests.billing.x12_builders import with_address
from tests.billing.x12valid import validate
from tests.clock import at
from tests.iop.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_then_remittance_pays_one_line_and_denies_another(
    page, browser_login, time_machine, tmp_path
):
    time_machine.move_to(at(TODAY, "12:00"), tick=True)
    provider = billing_provider()
    provider.phone = "6175550100"
    provider.save()
    acme = payer()
    client = with_address(covered_client(acme))
    attended_days([client], weekdays(date(2026, 11, 2), 2), author=staff("thera"))
    build_charges(since=NOVEMBER, through=date(2026, 11, 30))
    build_claims(through=date(2026, 11, 30))
    claim = Claim.objects.get()
    assert claim.status == ClaimStatus.READY
    UserFactory(username="bill", roles=["billing"])

    browser_login("bill")
    page.goto("/billing/claims/")
    page.get_by_role("link", name="Export (837P)").click()
    page.wait_for_load_state("load")
    page.get_by_label("Payer").select_option("ACME")
    page.get_by_label("Dates of service through").fill("2026-11-30")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export and download the 837P").click()
    saved = tmp_path / "claims.x12"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "837P-ACME-000000001.x12"
    content = saved.read_text()
    assert validate(content) == []
    assert f"CLM*{claim.number}*420*" in content
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED

    # The payer pays the first day and denies the second (no authorization).
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
    assert "1 claims posted, 180.00 paid; lines paid 1, partly paid 0, denied 1" in (page.content())

    page.goto("/billing/denials/")
    queue = page.get_by_test_id("denials").inner_text()
    assert claim.number in queue and client.display_name in queue
    assert "CO-197: Precertification/authorization/notification/pre-treatment absent." in queue
    assert "N54: Claim information is inconsistent with pre-certified/authorized services." in (
        queue
    )

    page.goto("/billing/remittances/")
    page.get_by_label("835 remittance file").set_input_files(str(era))
    page.get_by_role("button", name="Import").click()
    page.wait_for_load_state("load")
    assert "already imported" in page.content()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PARTIAL
    assert sum(claim.lines.values_list("paid", flat=True)) == Decimal("180")
