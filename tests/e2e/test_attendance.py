"""The facilitator opens today's evening group from the dashboard, marks every client
with one click each (htmx, no reload), and the chart shows the week's hours."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scheduling import services
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import at
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_facilitator_marks_attendance_and_the_chart_shows_weekly_hours(
    page, browser_login, clinician, admin_user, time_machine
):
    # Today at 18:20, twenty minutes into the evening group: every status may be marked.
    time_machine.move_to(at(timezone.localdate(), "18:20"), tick=True)
    group = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    clients = []
    for first in ("Ari", "Bea", "Cyd"):
        client = ClientFactory(preferred_name=first, status="active")
        EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=20))
        with_care_team(client, clinician)
        services.enrollment_create(
            client=client, group=group, start_on=timezone.localdate(), actor=admin_user
        )
        clients.append(client)
    GroupSessionFactory(group=group)  # today, 18:00-21:00 clinic time

    browser_login("alice")
    today = page.get_by_test_id("section-today")
    assert "IOP 6 Evening" in today.inner_text()
    today.get_by_role("link", name="Take attendance").click()
    page.wait_for_url("**/attendance/")
    sheet = page.get_by_test_id("attendance-sheet")
    assert sheet.inner_text().count("not marked") == 3

    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    for client in clients:
        row = page.get_by_test_id(f"row-{client.public_id}")
        row.get_by_role("button", name="Present").click()
        page.get_by_test_id(f"row-{client.public_id}").get_by_text("Present · 180 min").wait_for()
    assert "not marked" not in sheet.inner_text()
    assert page.evaluate("window.sameDocument") is True

    page.goto(f"/clients/{clients[0].public_id}/")
    hours = page.get_by_test_id("weekly-hours").inner_text()
    this_week = hours.splitlines()[1]
    assert "3.0" in this_week
    assert "1" in this_week.split("\t")[1]
