"""In Chromium (issue 21): the results form's validity fields record an invalid
specimen (creatinine 1.9 mg/dL with SG 1.0199, the issue's worked example) and an
adulterated one (pH 3.5, oxidant detected); each opens its follow-up, makes the next
collection observed, and a bad pH is refused with nothing saved."""

import pytest

from screening.models import AnalyteResult, ScreenFollowUp, UrineScreen
from tests.clients.factories import with_care_team
from tests.screening.factories import collect, enrolled_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _all_negative(page):
    selects = page.locator("select[name^=result_]")
    for i in range(selects.count()):
        selects.nth(i).select_option("negative")


def test_an_invalid_and_an_adulterated_specimen_are_entered(
    page, browser_login, clinician, medical_user
):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    first = collect(client, medical_user)
    browser_login("mira")

    page.goto(f"/screening/urine/{first.public_id}/results/")
    assert "90 FR 4662" in page.get_by_test_id("panel-edition").inner_text()
    _all_negative(page)
    page.get_by_label("Creatinine (mg/dL)").fill("1.9")
    page.get_by_label("Specific gravity").fill("1.0199")
    page.get_by_label("pH", exact=True).fill("15")  # not a pH: refused, nothing saved
    page.get_by_role("button", name="Record results").click()
    page.locator("text=The pH must be between 0 and 14").wait_for()
    assert not AnalyteResult.objects.exists()
    page.get_by_label("pH", exact=True).fill("")
    page.get_by_role("button", name="Record results").click()
    page.wait_for_url(f"**/urine/{first.public_id}/")
    assert page.get_by_test_id("screen-outcome").inner_text() == "Invalid"
    validity = page.get_by_test_id("screen-validity").inner_text()
    assert "Invalid: creatinine 1.9 mg/dL with SG 1.0199 disagree" in validity
    assert "next collection observed" in validity
    assert ScreenFollowUp.objects.get(urine_screen=first).reason == "invalid"

    second = collect(client, medical_user, observed=True)
    page.goto(f"/screening/urine/{second.public_id}/results/")
    _all_negative(page)
    page.select_option("select[name=result_cocaine]", "positive")
    page.get_by_label("Creatinine (mg/dL)").fill("95")
    page.get_by_label("Specific gravity").fill("1.0150")
    page.get_by_label("pH", exact=True).fill("3.5")
    page.get_by_label("Oxidant", exact=True).select_option("yes")
    page.get_by_role("button", name="Record results").click()
    page.wait_for_url(f"**/urine/{second.public_id}/")
    assert page.get_by_test_id("screen-outcome").inner_text() == "Adulterated"
    assert "pH 3.50; oxidant present" in page.get_by_test_id("screen-validity").inner_text()
    second = UrineScreen.objects.get(pk=second.pk)
    assert (second.validity, second.oxidant) == ("adulterated", True)
    assert ScreenFollowUp.objects.get(urine_screen=second).reason == "adulterated"

    # The next collection must be observed: the form says so and refuses otherwise.
    page.goto(f"/screening/clients/{client.public_id}/urine/new/")
    page.fill("input[name=specimen_id]", "CCF-7100031")
    page.fill("input[name=temperature]", "35.0")
    page.get_by_role("button", name="Record collection").click()
    page.locator("text=the last specimen was adulterated").first.wait_for()
    assert UrineScreen.objects.count() == 2
