"""In Chromium: a clinician writes a relapse-prevention plan with the client, saves a
second version, finds both in the history and opens the client's printable copy."""

import pytest

from clinical.plans.models import RelapsePreventionVersion
from tests.clinical.plans_factories import admitted_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_writes_a_relapse_plan_saves_a_second_version_and_prints_it(
    page, browser_login, clinician
):
    client = admitted_client(clinician, preferred_name="Rene")
    browser_login("alice")
    page.goto(f"/clients/{client.public_id}/")
    section = page.get_by_test_id("section-relapse_plan")
    section.get_by_role("link", name="Write the plan").click()

    page.fill("#id_triggers_people", "Old drinking friends")
    page.fill("#id_triggers_workplace", "Double shifts\nAudit week")
    page.fill("#id_warning_signs", "Skipping meetings")
    page.fill("#id_coping_strategies", "Call my sponsor\nWalk the dog")
    page.fill("#id_emergency_steps", "Leave the place")
    page.fill("#id_reasons_for_recovery", "My daughter")
    page.fill("#id_contacts-0-name", "Sam Ortiz")
    page.fill("#id_contacts-0-relationship", "Sponsor")
    page.fill("#id_contacts-0-phone", "12")  # not a phone number
    page.fill("#id_internal_note", "Staff only: discussed the divorce")
    page.get_by_role("button", name="Save the plan").click()
    assert "valid phone number" in page.content()
    assert page.input_value("#id_coping_strategies") == "Call my sponsor\nWalk the dog"
    page.fill("#id_contacts-0-phone", "(617) 555-0134")
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(f"**/clients/{client.public_id}/relapse-prevention/")
    assert "Version 1" in page.get_by_test_id("rp-meta").inner_text()

    page.get_by_role("link", name="Save a new version").click()
    page.fill("#id_coping_strategies", "Call my sponsor\nWalk the dog\nSwim at lunch")
    page.get_by_role("button", name="Save version 2").click()
    page.wait_for_url(f"**/clients/{client.public_id}/relapse-prevention/")
    assert "Swim at lunch" in page.get_by_test_id("rp-coping").inner_text()

    page.get_by_role("link", name="History").click()
    history = page.get_by_test_id("plan-history").inner_text()
    assert "Version 1" in history and "Version 2" in history
    page.get_by_role("link", name="Version 1").click()
    assert "Swim at lunch" not in page.get_by_test_id("rp-coping").inner_text()
    assert "earlier version, read only" in page.get_by_test_id("rp-meta").inner_text()

    page.get_by_role("link", name="Printable client copy").click()
    copy = page.get_by_test_id("client-copy")
    text = copy.inner_text()
    assert "988 Suicide & Crisis Lifeline" in text
    assert "(617) 555-0134" in text and "Walk the dog" in text
    assert "divorce" not in page.content() and "Internal note" not in page.content()
    font_size = copy.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert font_size >= 20  # big readable type from static/css/client_copy.css
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    assert RelapsePreventionVersion.objects.filter(client=client).count() == 2
