"""Intake journey in Chromium: register, coverage (here: none, the client pays), consent,
admit, assign the care team, place on a track, each step offering the next; the
clinician then finds the client on their caseload and a colleague does not."""

import pytest

from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_intake_enrols_a_client_and_only_the_care_team_sees_them(
    page, browser_login, intake_user, clinician, other_clinician
):
    UserFactory(username="mira", roles=["medical"])
    group = GroupFactory(facilitator=clinician, name="Evening IOP 6")
    browser_login("ines")
    page.get_by_role("link", name="Register client").click()
    step = page.get_by_test_id("intake-progress")

    def current_step():
        return step.locator("[aria-current=step]").get_attribute("data-step")

    assert current_step() == "register" and "step 1 of 6" in step.inner_text()

    # Step 1: register; a future date of birth is refused first, nothing saved.
    page.fill("#id_legal_first_name", "Morgan")
    page.fill("#id_legal_last_name", "Ashdown")
    page.fill("#id_preferred_name", "Mo")
    page.fill("#id_date_of_birth", "2090-01-01")
    page.select_option("#id_profession", "physician")
    page.fill("#id_employer", "Lakeside Hospital")
    page.get_by_role("button", name="Register prospect").click()
    assert "That date is in the future." in page.content()
    page.fill("#id_date_of_birth", "1979-06-15")
    page.get_by_role("button", name="Register prospect").click()
    page.wait_for_url("**/clients/*/")
    assert page.get_by_test_id("client-status").inner_text() == "Prospect"
    chart_url = page.url

    # Step 2: coverage (issue 22), from the chart's coverage section: no insurance.
    page.get_by_role("link", name="Record coverage").click()
    assert current_step() == "coverage" and "1. Registration (done)" in step.inner_text()
    page.get_by_role("button", name="No insurance: the client pays for themselves").click()

    # Step 3: a single TPO consent (the self-pay answer lands on its form).
    page.wait_for_url("**/consents/add/")
    assert current_step() == "consent" and "2. Coverage (done)" in step.inner_text()
    page.get_by_label(
        "My treating providers, health plans, third-party payers and program operations"
    ).check()
    page.fill("#id_purpose", "Treatment, payment and health care operations")
    page.get_by_label("All Part 2 records of this program").check()
    page.fill("#id_information_description", "Everything needed to treat and bill")
    page.fill("#id_expiry_event", "end of treatment")
    page.get_by_label("The signer signed the written form").check()
    page.get_by_role("button", name="Record consent").click()
    assert page.get_by_test_id("consent-state").inner_text() == "Active"
    assert "may be redisclosed" in page.get_by_test_id("consent-form").inner_text()

    # Step 4: admit with ASAM placement, offered as the next step on the consent page.
    page.get_by_test_id("next-step").click()
    assert current_step() == "admission" and "3. Consent (done)" in step.inner_text()
    assert page.get_by_label(
        "Dimension 1 note: acute intoxication and/or withdrawal potential"
    ).is_visible()
    for n in range(1, 7):
        page.select_option(f"#id_d{n}_rating", "1")
    page.get_by_role("button", name="Admit").click()

    # Step 5: care team (the admit step lands here).
    page.wait_for_url("**/care-team/")
    assert current_step() == "care_team" and "4. Admission (done)" in step.inner_text()
    page.select_option("#id_staff", label=f"{clinician} (Clinician)")
    page.select_option("#id_role", "primary")
    page.get_by_role("button", name="Add to care team").click()
    assert "Primary clinician" in page.get_by_test_id("care-team-table").inner_text()
    # Intake cannot make itself a clinician on the team.
    page.select_option("#id_staff", label=f"{intake_user} (Intake coordinator)")
    page.select_option("#id_role", "case_manager")
    page.get_by_role("button", name="Add to care team").click()
    assert "does not hold a role" in page.content()
    assert "Case manager" not in page.get_by_test_id("care-team-table").inner_text()

    # Step 6: place on a track and slot: "Next" lands on the placement form itself.
    page.get_by_role("link", name="Next: place on a track").click()
    page.wait_for_url("**/enroll/")
    assert current_step() == "placement" and "5. Care team (done)" in step.inner_text()
    page.select_option("#id_group", value=str(group.public_id))
    page.get_by_role("button", name="Place on track").click()
    page.wait_for_url(chart_url)
    assert "Evening IOP 6" in page.get_by_test_id("section-program").inner_text()
    assert page.get_by_test_id("client-status").inner_text() == "Active"
    # Intake sees no clinical content.
    assert "Substances" not in page.get_by_test_id("section-details").inner_text()
    page.get_by_role("button", name="Sign out").click()

    browser_login("alice")
    page.get_by_role("link", name="Caseload", exact=True).click()
    assert "Mo Ashdown" in page.get_by_test_id("caseload").inner_text()
    page.get_by_role("link", name="Mo Ashdown").click()
    assert "Lakeside Hospital" in page.get_by_test_id("section-details").inner_text()
    page.get_by_role("button", name="Sign out").click()

    browser_login("bob")
    page.get_by_role("link", name="Caseload", exact=True).click()
    assert "Ashdown" not in page.get_by_test_id("caseload").inner_text()
    response = page.goto(chart_url)
    assert response.status == 404
