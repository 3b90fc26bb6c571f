"""Scheduling journeys in Chromium (issue 8): an htmx error shown in the row, "mark all
present", a planned step-down on the chart, and a closed day on the program day."""

from datetime import timedelta

import pytest
from django.utils import timezone

from iop import when
from scheduling import services
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory, started_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _enrol(group, clinician, admin_user, names, *, start_on=None):
    clients = []
    for first in names:
        client = ClientFactory(preferred_name=first, status="active")
        EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=20))
        with_care_team(client, clinician)
        services.enrollment_create(
            client=client,
            group=group,
            start_on=start_on or timezone.localdate() - timedelta(days=7),
            actor=admin_user,
        )
        clients.append(client)
    return clients


def test_a_refused_click_shows_its_message_in_the_row_and_nothing_looks_saved(
    page, browser_login, clinician, admin_user
):
    group = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    (client,) = _enrol(group, clinician, admin_user, ["Ari"])
    session = started_session(group)

    browser_login("alice")
    page.goto(f"/scheduling/sessions/{session.public_id}/attendance/")
    row = page.get_by_test_id(f"row-{client.public_id}")
    # The minutes box says what it is and in what unit, on screen and to a screen reader.
    box = row.get_by_label("Minutes attended")
    assert box.is_visible() and row.get_by_text("Minutes attended").is_visible()
    assert row.get_by_text("min", exact=True).is_visible()
    unit = box.evaluate(
        "input => document.getElementById(input.getAttribute('aria-describedby')).textContent"
    )
    assert unit == "min"
    # More minutes than the session has, past the field's own limit: the server says no.
    row.locator("input[name=minutes]").evaluate("input => input.removeAttribute('max')")
    row.locator("input[name=minutes]").fill("999")
    row.get_by_role("button", name="Present").click()
    error = page.get_by_test_id(f"row-{client.public_id}").get_by_test_id("row-error")
    error.wait_for()
    assert "Not saved: Minutes attended must be between 0 and 180." in error.inner_text()
    row = page.get_by_test_id(f"row-{client.public_id}")
    assert row.get_by_test_id("status").inner_text() == "not marked"
    assert row.locator(".btn-primary").count() == 0  # no button looks chosen


def test_mark_all_present_then_change_the_exceptions(page, browser_login, clinician, admin_user):
    group = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    clients = _enrol(group, clinician, admin_user, ["Ari", "Bea", "Cyd"])
    session = started_session(group)

    browser_login("alice")
    page.goto(f"/scheduling/sessions/{session.public_id}/attendance/")
    page.evaluate("window.sameDocument = true")
    page.get_by_test_id("all-present").click()
    page.get_by_text("3 marked present.").wait_for()
    sheet = page.get_by_test_id("attendance-sheet")
    assert "not marked" not in sheet.inner_text()
    assert sheet.inner_text().count("Present · 180 min") == 3
    row = page.get_by_test_id(f"row-{clients[1].public_id}")
    row.get_by_role("button", name="Unexcused absence").click()
    page.get_by_test_id(f"row-{clients[1].public_id}").get_by_text(
        "Unexcused absence · 0 min"
    ).wait_for()
    assert page.evaluate("window.sameDocument") is True


def test_a_future_step_down_is_planned_on_the_chart(page, browser_login, clinician, admin_user):
    iop6 = GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    GroupFactory(name="IOP 3 Evening", track=iop6.track.steps_down_to, facilitator=clinician)
    (client,) = _enrol(iop6, clinician, admin_user, ["Dee"])
    on = timezone.localdate() + timedelta(days=13)

    browser_login("alice")
    page.goto(f"/clients/{client.public_id}/")
    page.get_by_role("link", name="Step down to IOP 3").click()
    page.select_option("select[name=group]", index=1)
    page.fill("input[name=start_on]", on.isoformat())
    page.get_by_role("button", name="Step down").click()
    page.wait_for_url(f"**/clients/{client.public_id}/")
    planned = page.get_by_test_id("planned-step-down").inner_text()
    assert f"Steps down to IOP 3 on {when.day(on)}" in planned
    program = page.get_by_test_id("readiness").inner_text()
    assert "-" not in program.split("week")[0]  # never "-2 weeks on the track"
    assert page.get_by_role("link", name="Step down to IOP 3").count() == 0


def test_a_closed_day_shows_its_sessions_cancelled_with_the_reason(
    page, browser_login, clinician, admin_user
):
    GroupFactory(name="IOP 6 Evening", facilitator=clinician)
    services.sessions_generate(weeks=1)
    closed = timezone.localdate() + timedelta(days=2)

    browser_login("avery")
    page.goto("/admin/scheduling/clinicclosure/add/")
    page.fill("input[name=date]", closed.isoformat())
    page.fill("input[name=reason]", "Thanksgiving Day")
    page.click("input[name=_save]")
    page.wait_for_url("**/clinicclosure/")
    page.goto(f"/scheduling/day/?start={closed.isoformat()}")
    row = page.get_by_role("row", name="IOP 6 Evening")
    assert "cancelled: Thanksgiving Day" in row.inner_text()
    assert row.get_by_role("link", name="Attendance").count() == 0


def test_booking_starts_from_the_booker_and_the_kinds_usual_length(page, browser_login, clinician):
    """Issue 20: the clinician is the person booking, the length follows the kind until
    someone types one, and the booking keeps what the page showed."""
    from scheduling.models import Appointment

    client = ClientFactory(preferred_name="Ari", status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=20))
    with_care_team(client, clinician)

    browser_login("alice")
    page.goto("/scheduling/week/")
    # The page's script follows the kind once the page has loaded: a change fired while
    # the page is still parsing would reach no listener (a test race, not a user's).
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Book appointment").click()
    assert page.locator("#id_clinician").input_value() == str(clinician.pk)
    length = page.get_by_label("Length")
    assert length.input_value() == "50"
    assert page.get_by_text("min", exact=True).is_visible()
    page.select_option("#id_kind", "medication")
    assert length.input_value() == "25"
    page.select_option("#id_kind", "case_management")
    assert length.input_value() == "30"
    length.fill("40")  # typed: the next kind leaves it alone
    page.select_option("#id_kind", "family")
    assert length.input_value() == "40"
    length.fill("")
    page.select_option("#id_kind", "medication")
    assert length.input_value() == "25"

    page.select_option("#id_client", str(client.public_id))
    page.fill("#id_day", (timezone.localdate() + timedelta(days=2)).isoformat())
    page.fill("#id_start", "14:00")
    page.get_by_role("button", name="Book appointment").click()
    page.wait_for_url("**/scheduling/week/")
    booked = Appointment.objects.get()
    assert (booked.kind, booked.clinician) == ("medication", clinician)
    assert booked.ends_at - booked.starts_at == timedelta(minutes=25)
