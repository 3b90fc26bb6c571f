"""The admin runs last month's attendance report for the evening slot, sees the weekly
chart beside its table, and downloads the CSV; and opens last month's screening report
and sees the positivity table beside its chart."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from scheduling.models import Attendance, Enrollment
from tests.clients.factories import EpisodeFactory
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, slot
from tests.screening.factories import POS, ReportRows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_runs_last_months_evening_attendance_and_downloads_the_csv(
    page, browser_login, admin_user
):
    today = timezone.localdate()
    last_end = today.replace(day=1) - timedelta(days=1)
    first = last_end.replace(day=1)
    evening = GroupFactory(name="IOP 6 Evening", slot=slot("evening"))
    midday = GroupFactory(name="IOP 6 Midday", slot=slot("midday"))
    clients = []
    for group in (evening, midday):
        client = EpisodeFactory(admitted_on=first - timedelta(days=7)).client
        Enrollment.objects.create(
            client=client, episode=client.episodes.get(), track=group.track, group=group,
            start_on=first - timedelta(days=7), created_by=admin_user,
        )  # fmt: skip
        day = first
        while day <= last_end:
            session = GroupSessionFactory(group=group, date=day)
            Attendance.objects.create(
                session=session, client=client, status="present", minutes=180,
                recorded_by=admin_user,
            )  # fmt: skip
            day += timedelta(days=1)
        clients.append(client)

    browser_login("avery")
    page.goto("/reports/")
    page.get_by_role("link", name="Attendance against the hours floor").click()
    page.select_option("select[name=slot]", "evening")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("[data-testid=trend-hours]")
    assert "slot=evening" in page.url  # bookmarkable: the filters are in the URL
    rows = page.get_by_test_id("attendance-rows").inner_text()
    assert clients[0].mrn in rows and clients[1].mrn not in rows
    assert page.get_by_test_id("trend-rates").is_visible()
    with page.expect_download() as info:
        page.get_by_test_id("download-csv").click()
    body = info.value.path().read_text(encoding="utf-8-sig")
    assert body.startswith("MRN,Track,Scheduled,Attended")  # the columns in words
    assert clients[0].mrn in body and clients[1].mrn not in body


def test_admin_opens_the_screening_report_and_sees_the_positivity_table(
    page, browser_login, admin_user
):
    last_end = timezone.localdate().replace(day=1) - timedelta(days=1)
    first = last_end.replace(day=1)
    when = timezone.make_aware(datetime.combine(first + timedelta(days=9), time(10)))
    maker = ReportRows(admin_user, since=first - timedelta(days=14))
    client = maker.client("iop6")
    maker.screen(client, when, "for_cause", "unexpected_positive", cocaine=POS)

    browser_login("avery")
    page.goto("/reports/")
    page.get_by_role("link", name="Screening").click()
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("[data-testid=table-positivity]")
    assert page.get_by_test_id("trend-positivity").is_visible()
    cocaine = page.locator("[data-testid=table-positivity] tr[data-analyte=cocaine]")
    assert "Cocaine metabolite" in cocaine.inner_text()
    assert cocaine.locator("td").nth(2).inner_text() == "1"  # one unexpected positive of one
    assert cocaine.locator("td").nth(3).inner_text() == "100"
    assert client.mrn in page.get_by_test_id("table-since-positive").inner_text()


def test_a_background_run_shows_its_result_and_leads_back_to_the_form(
    page, browser_login, admin_user
):
    """A range too long to run inline goes to the worker; its page shows the progress,
    then (the worker done) the result as the report's page shows it, the filters in
    words, and the way back to the form with the same filters."""
    from iop.reports.models import ReportRun
    from iop.reports.services import report_run_execute

    last_end = timezone.localdate().replace(day=1) - timedelta(days=1)
    start = last_end - timedelta(days=119)  # 120 days: more than the 92 run inline
    group = GroupFactory(name="IOP 6 Evening", slot=slot("evening"))
    client = EpisodeFactory(admitted_on=start).client
    Enrollment.objects.create(
        client=client, episode=client.episodes.get(), track=group.track, group=group,
        start_on=start, created_by=admin_user,
    )  # fmt: skip
    for offset in range(0, 120, 3):
        session = GroupSessionFactory(group=group, date=start + timedelta(days=offset))
        Attendance.objects.create(
            session=session, client=client, status="present", minutes=180,
            recorded_by=admin_user,
        )  # fmt: skip

    browser_login("avery")
    query = f"start={start.isoformat()}&end={last_end.isoformat()}&track=iop6"
    page.goto(f"/reports/attendance/?{query}")
    page.get_by_test_id("run-background").click()
    page.wait_for_url("**/reports/runs/*/")
    assert "Queued" in page.get_by_test_id("run-progress").inner_text()
    summary = page.get_by_test_id("report-filters-summary").inner_text()
    assert summary.startswith("From ") and summary.endswith(" · Track: IOP 6")
    assert "start=" not in page.get_by_test_id("run-filters").inner_text()

    # The worker's turn (as the Celery task runs it); the page polls, then reloads.
    run = ReportRun.objects.get()
    assert report_run_execute(run_id=run.pk) == "done"
    page.wait_for_selector("[data-testid=run-result]", timeout=10_000)
    result = page.get_by_test_id("run-result")
    assert client.mrn in result.get_by_test_id("attendance-rows").inner_text()
    assert "IOP 6" in result.get_by_test_id("attendance-rows").inner_text()
    assert result.get_by_test_id("trend-hours").is_visible()
    assert result.get_by_test_id("totals-tracks").is_visible()
    assert page.get_by_test_id("run-download").is_visible()

    page.get_by_test_id("run-back").click()
    page.wait_for_url("**/reports/attendance/?*")
    assert page.input_value("input[name=start]") == start.isoformat()
    assert page.input_value("input[name=end]") == last_end.isoformat()
    assert page.input_value("select[name=track]") == "iop6"
