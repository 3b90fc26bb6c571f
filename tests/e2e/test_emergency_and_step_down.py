"""Two more journeys in Chromium: break the glass (and the admin's review), and a
step-down from IOP 6 to IOP 3 from the client's chart."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import Client
from scheduling import services
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.scheduling.factories import GroupFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_break_the_glass_opens_the_chart_and_reaches_the_admin_review(
    page, browser_login, clinician, other_clinician, admin_user
):
    client = ClientFactory(preferred_name="Rene", status="active")
    with_care_team(client, clinician)
    chart_url = f"/clients/{client.public_id}/"

    browser_login("bob")
    assert page.goto(chart_url).status == 404
    page.goto("/clients/")
    page.get_by_role("link", name="Emergency access").first.click()
    page.fill("#id_mrn", client.mrn)
    page.fill("#id_reason", "short")
    page.get_by_role("button", name="Open the record for 60 minutes").click()
    assert "Emergency access was not opened" in page.content()
    page.fill("#id_reason", "Client called in crisis; primary clinician unreachable")
    page.get_by_role("button", name="Open the record for 60 minutes").click()
    page.wait_for_url(f"**{chart_url}")
    assert (
        "You are here through emergency access" in page.get_by_test_id("chart-header").inner_text()
    )
    page.get_by_role("button", name="Sign out").click()

    browser_login("avery")
    assert page.get_by_test_id("emergency-pending").first.inner_text() == "1"
    page.goto("/clients/emergency-access/review/")
    assert "crisis" in page.get_by_test_id("emergency-pending").inner_text()
    page.get_by_role("button", name="Reviewed").click()
    assert "Nothing to review." in page.get_by_test_id("emergency-pending").inner_text()


def test_break_the_glass_with_a_demo_mrn(page, browser_login, clinician, other_clinician):
    """The demo issues D1000-D1039: break the glass takes them as typed (issue 18 #9)."""
    client = ClientFactory(preferred_name="Dana", status="active")
    with_care_team(client, clinician)
    Client.objects.filter(pk=client.pk).update(mrn="D1003")
    chart_url = f"/clients/{client.public_id}/"

    browser_login("bob")
    page.goto("/clients/emergency-access/")
    page.fill("#id_mrn", "D12")
    page.fill("#id_reason", "Client called in crisis; primary clinician unreachable")
    page.get_by_role("button", name="Open the record for 60 minutes").click()
    assert "Enter the MRN as it is printed on the chart" in page.content()
    page.fill("#id_mrn", " d1003 ")
    page.get_by_role("button", name="Open the record for 60 minutes").click()
    page.wait_for_url(f"**{chart_url}")
    assert (
        "You are here through emergency access" in page.get_by_test_id("chart-header").inner_text()
    )


def test_clinician_steps_a_client_down_from_the_chart(page, browser_login, clinician, admin_user):
    iop6 = GroupFactory(name="IOP 6 Morning", facilitator=clinician)
    GroupFactory(name="IOP 3 Evening", track=iop6.track.steps_down_to, facilitator=clinician)
    client = ClientFactory(preferred_name="Sky", status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=40))
    with_care_team(client, clinician)
    services.enrollment_create(
        client=client,
        group=iop6,
        start_on=timezone.localdate() - timedelta(days=35),
        actor=admin_user,
    )

    browser_login("alice")
    page.goto(f"/clients/{client.public_id}/")
    section = page.get_by_test_id("section-program")
    assert "IOP 6 in IOP 6 Morning" in section.inner_text()
    section.get_by_role("link", name="Step down to IOP 3").click()
    page.select_option("#id_group", label=page.locator("#id_group option").nth(1).inner_text())
    page.fill("#id_start_on", timezone.localdate().isoformat())
    page.get_by_role("button", name="Step down").click()
    page.wait_for_url(f"**/clients/{client.public_id}/")
    assert "IOP 3 in IOP 3 Evening" in page.get_by_test_id("section-program").inner_text()
