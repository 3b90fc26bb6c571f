"""A client on a phone (390 px): signs in by the link staff printed (portal_link), sees
the week, downloads the calendar file and changes reminders; and the same by keyboard."""

import pytest
from playwright.sync_api import expect

from tests.portal.fixtures import link_path, printed_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _sign_in(phone, client):
    phone.goto(link_path(printed_link(client.mrn)))
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("button", name="Continue").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_a_client_signs_in_by_link_sees_the_week_and_changes_reminders(phone, week, portal_client):
    _sign_in(phone, portal_client)
    assert phone.title() == "Home"  # neutral: no program name
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("link", name="My schedule").first.click()
    expect(phone.get_by_test_id("portal-week")).to_contain_text("3 of 9 hours")
    expect(phone.get_by_test_id("portal-schedule").locator("li")).to_have_count(3)
    expect(phone.get_by_role("link", name="Join by video")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with phone.expect_download() as download:
        phone.get_by_test_id("portal-ics").click()
    ics = download.value.path().read_text()
    assert ics.count("SUMMARY:Appointment") == 3 and "Evening professionals" not in ics

    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("link", name="My reminders").click()
    phone.get_by_label("Email").check()
    phone.get_by_label("I agree to get reminders").check()
    phone.get_by_label("Quiet from").fill("21:00")
    phone.get_by_label("Quiet until").fill("07:00")
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_role("status")).to_contain_text("Your reminder choices are saved")
    portal_client.refresh_from_db()
    assert (portal_client.reminder_channel, portal_client.reminder_consent) == ("email", True)
    assert portal_client.quiet_hours_start.hour == 21


def test_the_portal_works_with_the_keyboard(phone, portal_client):
    _sign_in(phone, portal_client)
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to the page"
    # Each item of the menu is reached in turn by Tab, visibly focused.
    seen = []
    for _ in range(12):
        phone.keyboard.press("Tab")
        seen.append(phone.evaluate("document.activeElement.textContent.trim()"))
    for label in ("Sign out", "Home", "My schedule", "My plan", "My reminders"):
        assert label in seen
    outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # Reminders by keyboard only: to the menu item, Enter; arrows pick the channel,
    # Space ticks the consent, Enter on Save.
    phone.get_by_test_id("portal-nav").get_by_role("link", name="My reminders").focus()
    with phone.expect_navigation(wait_until="load"):
        phone.keyboard.press("Enter")
    phone.get_by_label("Text message").focus()
    phone.keyboard.press("ArrowDown")  # Text message -> Email
    assert phone.get_by_label("Email").is_checked()
    phone.keyboard.press("Tab")
    phone.keyboard.press("Space")
    assert phone.get_by_label("I agree to get reminders").is_checked()
    phone.get_by_role("button", name="Save").focus()
    with phone.expect_navigation(wait_until="load"):
        phone.keyboard.press("Enter")
    portal_client.refresh_from_db()
    assert portal_client.reminder_channel == "email"
