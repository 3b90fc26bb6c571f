"""In Chromium: a breath confirmation begun 41 minutes after the screen is refused
without a reason and recorded with one (49 CFR 40.251(a)(1)); the result shows it and
the tier (0.020-0.039)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from screening import services
from tests.clients.factories import with_care_team
from tests.screening.factories import enrolled_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORMAT = "%Y-%m-%dT%H:%M"


def test_a_late_confirmation_is_recorded_with_its_reason(
    page, browser_login, clinician, medical_user
):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    tested = timezone.localtime() - timedelta(minutes=50)
    test = services.breath_record(
        client=client, tested_at=tested, bac="0.045", device="Alco-Sensor FST", actor=medical_user
    )
    browser_login("mira")
    page.goto(f"/screening/breath/{test.public_id}/confirm/")
    assert "still done" in page.get_by_test_id("confirmation-due").inner_text()
    page.fill("input[name=confirm_at]", (tested + timedelta(minutes=41)).strftime(FORMAT))
    page.fill("input[name=confirm_bac]", "0.032")
    page.get_by_role("button", name="Record confirmation").click()
    assert "say why" in page.locator("#id_late_reason").locator("..").inner_text()
    page.fill("input[name=late_reason]", "device recalibration")
    page.get_by_role("button", name="Record confirmation").click()
    page.wait_for_url(f"**/breath/{test.public_id}/")
    assert page.get_by_test_id("breath-outcome").inner_text() == "Unexpected positive"
    assert "device recalibration" in page.get_by_test_id("breath-late").inner_text()
    assert page.get_by_test_id("breath-tier").inner_text() == (
        "0.020-0.039: off safety-sensitive duty for at least 24 hours"
    )
