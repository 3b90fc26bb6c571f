"""The billing specialist takes a client from nothing on file to coverage, a principal
diagnosis and an authorization, through the billing pages; the chart stays closed."""

import re

import pytest

from billing import icd
from tests.billing import factories as f
from tests.clients.factories import EpisodeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _text(locator):
    return re.sub(r"\s+", " ", locator.inner_text())


def test_billing_adds_coverage_diagnosis_and_authorization(page, browser_login, billing_user):
    icd.warm()  # the code set, read once per process (the live server's thread too)
    client = EpisodeFactory().client
    f.payer("DEMO-COMM", "Demo Commercial Health")
    browser_login("bianca")
    page.get_by_role("link", name="Billing", exact=True).first.click()
    page.get_by_role("link", name=client.display_name).click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")

    # Coverage: the payer's card, verified on the portal.
    page.get_by_role("link", name="Add coverage").click()
    page.select_option("select[name=payer]", label="Demo Commercial Health")
    page.fill("input[name=member_id]", "DCH-555-01")
    page.fill("input[name=group_number]", "GRP-9")
    page.fill("input[name=effective_on]", "2026-01-01")
    page.fill("input[name=verified_on]", "2026-12-01")
    page.select_option("select[name=verified_how]", "portal")
    page.get_by_role("button", name="Save coverage").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")
    coverage = _text(page.get_by_test_id("section-coverage"))
    assert "Demo Commercial Health" in coverage and "DCH-555-01 / GRP-9" in coverage

    # A second primary coverage over the same dates is refused, in words.
    page.get_by_role("link", name="Add coverage").click()
    page.select_option("select[name=payer]", label="Demo Commercial Health")
    page.fill("input[name=member_id]", "OTHER-1")
    page.fill("input[name=effective_on]", "2026-06-01")
    page.get_by_role("button", name="Save coverage").click()
    assert "the dates overlap" in page.content()
    page.get_by_role("link", name="Back to the billing page").click()

    # Diagnosis: the search lists substance-use codes; an unknown code is refused.
    page.get_by_role("link", name="Add diagnosis").click()
    page.fill("input[name=q]", "alcohol dependence uncomplicated")
    page.get_by_role("button", name="Search").click()
    assert "F10.20" in _text(page.get_by_test_id("icd-results"))
    page.fill("input[name=code]", "F10.2")
    page.check("input[name=principal]")
    page.get_by_role("button", name="Add diagnosis").click()
    assert "is a category" in page.content()
    page.fill("input[name=code]", "F10.20")
    page.get_by_role("button", name="Add diagnosis").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")
    diagnoses = _text(page.get_by_test_id("section-diagnoses"))
    assert "F10.20 Alcohol dependence, uncomplicated Principal" in diagnoses

    # Authorization: an end before the start is refused; then 24 days of H0015.
    page.get_by_role("link", name="Add authorization").click()
    page.select_option("select[name=payer]", label="Demo Commercial Health")
    page.fill("input[name=service_code]", "H0015")
    page.fill("input[name=units_approved]", "24")
    page.fill("input[name=starts_on]", "2026-12-01")
    page.fill("input[name=ends_on]", "2026-11-01")
    page.fill("input[name=reference]", "PA-7781")
    page.get_by_role("button", name="Save authorization").click()
    assert "cannot end before it starts" in page.content()
    page.fill("input[name=ends_on]", "2027-01-31")
    page.get_by_role("button", name="Save authorization").click()
    page.wait_for_url(f"**/billing/clients/{client.public_id}/")
    row = _text(page.get_by_test_id("authorization-row"))
    assert "H0015 PA-7781" in row and "24 0 24" in row

    # The chart is not billing's.
    response = page.goto(f"/clients/{client.public_id}/")
    assert response.status == 404
