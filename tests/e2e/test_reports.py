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
    assert body.startswith("mrn,track,sessions_scheduled,sessions_attended")
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
