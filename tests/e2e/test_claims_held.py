"""Issue 22 in Chromium, as the billing role: a claim held because no Part 2 consent
lets the program disclose to the payer waits in the held-claims queue with its reason;
once the client's consent naming the payer is on file, "Check again" makes it ready."""

from datetime import date

import pytest

from billing.models import Claim
from billing.services.charges import build_charges
from billing.services.claims import build_claims
from clients.models import RecipientType
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
from tests.clients.factories import ConsentFactory
from tests.clock import at
from tests.iop.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_held_claim_is_fixed_and_released(page, browser_login, time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=True)
    billing_provider()
    acme = payer()
    client = covered_client(acme, consent=False)
    attended_days([client], weekdays(date(2026, 11, 2), 4), author=staff("thera"))
    build_charges(since=NOVEMBER, through=date(2026, 11, 30))
    build_claims(through=date(2026, 11, 30))
    claim = Claim.objects.get()
    UserFactory(username="bill", roles=["billing"])

    browser_login("bill")
    page.goto("/billing/claims/")
    page.get_by_role("link", name="Held claims").click()
    row = page.get_by_test_id("claim-row").filter(has_text=claim.number)
    assert "No consent on file lets the program disclose to Acme Health" in row.inner_text()
    assert client.display_name in row.inner_text()

    # "Check again" before the cause is fixed: still held, and the page says why.
    row.get_by_role("button", name="Check again").click()
    page.wait_for_load_state("load")
    assert f"Claim {claim.number} is still held" in page.content()

    # Intake records the client's consent naming the payer (42 CFR 2.31).
    ConsentFactory(
        client=client,
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Acme Health",
        information_categories=["all"],
        purpose="Payment for my treatment",
    )
    page.get_by_test_id("claim-row").filter(has_text=claim.number).get_by_role(
        "button", name="Check again"
    ).click()
    page.wait_for_load_state("load")

    assert f"Claim {claim.number} passes every check: it is ready." in page.content()
    assert page.get_by_test_id("claim-row").count() == 0
    page.goto("/billing/claims/?status=ready")
    assert claim.number in page.get_by_test_id("claims-table").inner_text()
