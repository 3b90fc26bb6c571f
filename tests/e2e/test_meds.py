"""In Chromium: the clinician enters a PHQ-9 with item 9 answered 1 and sees the score,
the band, the safety flag and the trend drawn on the chart, then acknowledges the flag
from the dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinical.meds.services import measure_record
from tests.clinical.factories_meds import phq9, treated_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_enters_a_phq9_and_sees_score_band_flag_and_trend(page, browser_login, clinician):
    client = treated_client(clinician)
    measure_record(  # an earlier one, so the trend has a line to draw
        client=client,
        instrument="phq9",
        administered_on=timezone.localdate() - timedelta(days=14),
        items=phq9(3, 2, 2, 2, 2, 2, 1, 1, 0),
        actor=clinician,
    )
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m))

    browser_login("alice")
    page.goto(f"/clients/{client.public_id}/")
    page.get_by_test_id("section-measures").get_by_role("link", name="Enter PHQ-9").click()
    # 2+1+1+1+1+1+1+1 = 9 with item 9 = 1: 10, moderate, flagged.
    for code, value in zip(range(1, 10), (2, 1, 1, 1, 1, 1, 1, 1, 1), strict=True):
        page.check(f"input[name=item_{code}][value='{value}']")
    page.get_by_role("button", name="Save and score").click()
    page.wait_for_url(f"**/clients/{client.public_id}/**")

    assert "PHQ-9 recorded: 10, Moderate." in page.get_by_role("alert").all_inner_texts()[0]
    section = page.get_by_test_id("section-measures")
    assert "latest 10, Moderate" in section.get_by_test_id("latest-phq9").inner_text()
    assert "item 9 answered 1" in section.get_by_test_id("chart-safety-flag").inner_text()
    trend = section.get_by_test_id("trend-phq9")
    assert trend.is_visible()
    assert trend.locator("circle").count() == 2
    assert section.get_by_test_id("table-phq9").locator("tbody tr").count() == 2
    assert not csp_violations

    page.goto("/")
    flags = page.get_by_test_id("safety-flags")
    assert "item 9 answered 1" in flags.inner_text()
    flags.locator("select").select_option("safety_plan")
    flags.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**/")
    assert "No safety flags to follow up." in page.get_by_test_id("safety-flags").inner_text()
