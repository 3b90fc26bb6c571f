"""The admin runs the attendance report and sees a 15-year-old with 6 h a week at the
floor and a 30-year-old with the same hours below it (ASAM Criteria 3rd ed. 2013, level
2.1); then the billable-days report, where each day names the H0015 rule that billed it
and a payer on the per-client-week rule bills none of those 2-day weeks."""

import re

import pytest

from tests.scheduling.test_program_rules import six_hours  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, name):
    return re.sub(r"\s+", " ", page.locator("tr", has_text=name).first.inner_text())


def test_the_reports_show_the_floor_by_age_and_the_rule_of_each_billable_day(
    page,
    browser_login,
    admin_user,
    six_hours,  # noqa: F811
    settings,
):
    settings.IOP_BILLING_RULES = {
        **settings.IOP_BILLING_RULES,
        "acme": {
            "label": "Acme Health",
            "min_hours": 3,
            "min_days": 3,
            "h0015_rule": "client_week",
        },
    }
    browser_login("avery")
    page.goto("/reports/")
    page.get_by_role("link", name="Attendance against the hours floor").click()
    page.fill("input[name=start]", "2026-09-07")
    page.fill("input[name=end]", "2026-09-20")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url("**start=2026-09-07**")
    # hours attended, hours required, whole weeks, weeks below the floor
    assert "12.00 12.00 2 0" in _row(page, "Tess")
    assert "12.00 18.00 2 2" in _row(page, "Adam")

    page.goto("/reports/")
    page.get_by_role("link", name="Billable days (H0015 per diem)").click()
    page.fill("input[name=start]", "2026-09-07")
    page.fill("input[name=end]", "2026-09-20")
    page.get_by_role("button", name="Run", exact=True).click()
    rule = page.get_by_test_id("billable-rule")
    rule.wait_for()
    assert "Per day of a qualifying program" in rule.inner_text()
    assert "12 billable days" in rule.inner_text()
    rows = page.get_by_test_id("billable-rows").inner_text()
    assert rows.count("per program day") == 12

    page.select_option("select[name=payer]", "acme")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_url("**payer=acme**")
    rule = page.get_by_test_id("billable-rule").inner_text()
    assert "Acme Health" in rule and "Per client-week" in rule and "0 billable days" in rule
    assert page.get_by_test_id("billable-rows").inner_text().count("per client-week") == 12
