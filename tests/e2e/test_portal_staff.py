"""Intake gives a client portal access from the chart and shows a one-time link to hand
over; the client opens it on a phone and is signed in."""

from datetime import date

import pytest
from playwright.sync_api import expect

from clients import services as client_services
from portal.models import ClientAccount
from tests.portal.fixtures import link_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_intake_gives_access_and_hands_over_a_link_that_signs_the_client_in(
    browser_login, intake_user, phone
):
    client = client_services.client_register(
        actor=intake_user,
        legal_first_name="Philippa",
        legal_last_name="Ashdown",
        date_of_birth=date(1984, 3, 9),
        profession="nurse",
    )
    page = browser_login(intake_user.username)
    page.goto(f"/clients/{client.public_id}/")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("portal-access-link").click()
    expect(page.get_by_test_id("portal-access-status")).to_contain_text("No portal access")
    # No consented channel: the page says why no link can be sent.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Give portal access").click()
    expect(page.get_by_role("alert")).to_contain_text("Portal access given")
    expect(page.get_by_test_id("portal-access-status")).to_contain_text("Has portal access since")
    expect(page.get_by_test_id("portal-access-no-route")).to_contain_text(
        "has not agreed to reminders"
    )
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Show a one-time link to hand over").click()
    shown = page.get_by_test_id("portal-access-shown").locator("code").inner_text()
    assert "/my/sign-in/" not in page.url  # the link is on the page, not in its address
    assert ClientAccount.objects.get(client=client).enabled

    phone.goto(link_path(shown))
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(phone.locator("body")).to_contain_text("Philippa")
