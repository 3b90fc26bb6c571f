"""The admin runs last quarter's census for physicians, sees the monthly chart beside
its table, and downloads the CSV; the supervisor finds the documentation report in the
menu and sees their team's notes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scheduling.models import Enrollment
from tests.clients.factories import ClientFactory, EpisodeFactory
from tests.scheduling.factories import GroupFactory, slot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_runs_the_census_for_physicians_and_downloads_the_csv(
    page, browser_login, admin_user
):
    today = timezone.localdate()
    evening = GroupFactory(name="IOP 6 Evening", slot=slot("evening"))
    for profession, reason in (("physician", "completed"), ("physician", "ama"), ("pilot", "")):
        client = ClientFactory(profession=profession)
        admitted = today - timedelta(days=50)
        discharged = today - timedelta(days=10) if reason else None
        episode = EpisodeFactory(
            client=client, admitted_on=admitted, discharged_on=discharged, discharge_reason=reason
        )
        Enrollment.objects.create(
            client=client, episode=episode, track=evening.track, group=evening,
            start_on=admitted, ended_on=discharged,
            status="discharged" if reason else "active", created_by=admin_user,
        )  # fmt: skip

    browser_login("avery")
    page.goto("/reports/")
    page.get_by_role("link", name="Census and outcomes").click()
    page.fill("input[name=start]", (today - timedelta(days=90)).isoformat())
    page.fill("input[name=end]", today.isoformat())
    page.select_option("select[name=profession]", "physician")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("[data-testid=chart-months]")
    assert "profession=physician" in page.url
    slots = page.get_by_test_id("retention-slot").inner_text()
    # The slot's name, not its code: 2 admitted, 1 left early: 50 % retained.
    assert "Evening\t2\t2\t1\t1\t50\t50" in slots
    assert "1 of 2 discharged (50 %)" in page.get_by_test_id("completion").inner_text()
    with page.expect_download() as info:
        page.get_by_test_id("download-csv").click()
    body = info.value.path().read_text(encoding="utf-8-sig")
    assert body.startswith("Figure,Group,Measure,Value")
    assert "Retention by referral profession,Physician,Admitted,2" in body
    assert "pilot" not in body.lower()


def test_a_supervisor_opens_documentation_compliance_from_the_menu(
    page, browser_login, supervisor, clinician
):
    browser_login("carol")
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Documentation compliance").click()
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("[data-testid=documentation-rows]")
    assert page.get_by_test_id("plans-overdue").is_visible()
    assert "Census and outcomes" not in page.content()
