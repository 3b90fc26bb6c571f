"""In Chromium: a urine collection read in °F is accepted and stored in °C; the results
form starts with every analyte blank, and a rushed submit with some left blank is
refused by name and records nothing; the breath form fills in the collector's last
device."""

import pytest

from screening.models import AnalyteResult, UrineScreen
from tests.clients.factories import with_care_team
from tests.screening.factories import enrolled_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fahrenheit_is_accepted_and_blank_results_are_refused(
    page, browser_login, clinician, medical_user
):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    browser_login("mira")
    page.goto(f"/screening/clients/{client.public_id}/urine/new/")
    page.fill("input[name=specimen_id]", "CCF-6100021")
    page.fill("input[name=temperature]", "96.8")
    page.get_by_label("Unit").select_option("F")
    page.get_by_role("button", name="Record collection").click()
    page.wait_for_url("**/results/")
    screen = UrineScreen.objects.get()
    assert str(screen.temperature_c) == "36.0" and screen.temperature_ok

    selects = page.locator("select[name^=result_]")
    count = selects.count()
    assert count > 3
    assert all(selects.nth(i).input_value() == "" for i in range(count))
    # A rushed entry: one result chosen, the rest left blank.
    page.select_option("select[name=result_cocaine]", "negative")
    page.get_by_role("button", name="Record results").click()
    alert = page.locator(".alert-danger")
    alert.wait_for()
    assert "still blank" in alert.inner_text()
    assert "Give the" in page.locator("[data-testid=results-form]").inner_text()
    assert not AnalyteResult.objects.exists()
    # The choice made survives the refusal; the others are chosen now.
    assert page.locator("select[name=result_cocaine]").input_value() == "negative"
    for i in range(count):
        selects.nth(i).select_option("negative")
    page.get_by_role("button", name="Record results").click()
    page.wait_for_url("**/urine/*/")
    assert page.get_by_test_id("screen-outcome").inner_text() == "Negative"
    assert "36.0 °C (96.8 °F)" in page.get_by_test_id("screen-temperature").inner_text()
    assert AnalyteResult.objects.count() == count

    page.goto(f"/screening/clients/{client.public_id}/breath/new/")
    page.fill("input[name=bac]", "0.000")
    page.fill("input[name=device]", "Alco-Sensor FST #4")
    page.get_by_role("button", name="Record breath test").click()
    page.wait_for_url(f"**/clients/{client.public_id}/**")
    page.goto(f"/screening/clients/{client.public_id}/breath/new/")
    assert page.input_value("input[name=device]") == "Alco-Sensor FST #4"
