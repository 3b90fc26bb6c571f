"""In Chromium: medical staff open today's collection list, record a random urine
screen with one unexpected positive (and buprenorphine, expected for this client on
MAT), then a breath test at 0.045 and its confirmation 16 minutes later; the primary
clinician sees both follow-ups on their dashboard and acknowledges one with a note."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinical.meds.services import medication_add
from screening.models import ScreenFollowUp, UrineScreen
from tests.clients.factories import with_care_team
from tests.screening.factories import enrolled_client, selection_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORMAT = "%Y-%m-%dT%H:%M"


def test_medical_staff_record_screens_and_the_clinician_follows_up(
    page, browser_login, clinician, medical_user
):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    medication_add(
        client=client,
        mat_agent="buprenorphine",
        dose="8 mg/2 mg",
        schedule="daily",
        prescriber=medical_user,
        started_on=timezone.localdate() - timedelta(days=20),
        actor=medical_user,
    )
    selection_for(client)
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m))

    browser_login("mira")
    page.goto("/screening/today/")
    row = page.get_by_test_id("selection-row")
    assert client.display_name in row.inner_text()
    assert "notice pending" in row.inner_text()
    row.get_by_role("link", name="Collect urine").click()
    page.fill("input[name=specimen_id]", "CCF-5521907")
    page.fill("input[name=temperature]", "34.1")
    page.get_by_role("button", name="Record collection").click()
    page.wait_for_url("**/results/")

    # Every result starts blank: each is read and chosen.
    for select in page.locator("select[name^=result_]").all():
        select.select_option("negative")
    page.select_option("select[name=result_cocaine]", "positive")
    page.fill("input[name=value_cocaine]", "420")
    page.select_option("select[name=result_buprenorphine]", "positive")
    # And its metabolite: buprenorphine alone would be flagged as possibly spiked (issue 21).
    page.select_option("select[name=result_norbuprenorphine]", "positive")
    page.fill("input[name=creatinine_mg_dl]", "96")
    page.fill("input[name=specific_gravity]", "1.0150")
    page.get_by_role("button", name="Record results").click()
    page.wait_for_url("**/urine/*/")
    assert page.get_by_test_id("screen-outcome").inner_text() == "Unexpected positive"
    results = page.get_by_test_id("analyte-results")
    assert "unexpected" in results.locator("tr[data-analyte=cocaine]").inner_text()
    assert "expected (prescribed)" in results.locator("tr[data-analyte=buprenorphine]").inner_text()

    page.goto("/screening/today/")
    assert "Unexpected positive" in page.get_by_test_id("selection-row").inner_text()

    page.goto(f"/clients/{client.public_id}/")
    page.get_by_test_id("section-screening").get_by_role("link", name="Record breath test").click()
    tested = timezone.localtime() - timedelta(minutes=20)
    page.fill("input[name=tested_at]", tested.strftime(FORMAT))
    page.fill("input[name=bac]", "0.045")
    page.fill("input[name=device]", "Alco-Sensor FST")
    page.get_by_role("button", name="Record breath test").click()
    page.wait_for_url("**/confirm/")
    assert "the confirmation governs" in page.get_by_test_id("confirmation-due").inner_text()
    page.fill("input[name=confirm_at]", (tested + timedelta(minutes=16)).strftime(FORMAT))
    page.fill("input[name=confirm_bac]", "0.041")
    page.get_by_role("button", name="Record confirmation").click()
    page.wait_for_url("**/breath/*/")
    assert page.get_by_test_id("breath-outcome").inner_text() == "Unexpected positive"

    page.goto(f"/clients/{client.public_id}/")
    section = page.get_by_test_id("section-screening")
    assert section.get_by_test_id("screen-timeline").locator("circle").count() == 2
    assert "0 days since the last unexpected positive" in section.inner_text()
    assert not csp_violations

    page.context.clear_cookies()
    browser_login("alice")
    page.goto("/")
    items = page.get_by_test_id("follow-up-item")
    assert items.count() == 2
    assert client.display_name in items.first.inner_text()
    items.first.locator("input[name=note]").fill(
        "Discussed with the client; relapse plan reviewed."
    )
    items.first.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url("**/")
    assert page.get_by_test_id("follow-up-item").count() == 1
    assert ScreenFollowUp.objects.open().count() == 1
    assert UrineScreen.objects.get().outcome == "unexpected_positive"
    assert not csp_violations
