"""Widths a person meets (issue 20, item 4): the admin's menu bar is one line on a
1366 px laptop, still reaches every page from the keyboard, and a client's chart with
medications and screens fits a 390 px phone without sideways scrolling. (Every other
page is checked at 390 px by tests/e2e/test_accessibility.py.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinical.meds.services import medication_add
from iop.accounts.models import User
from iop.accounts.navigation import NavGroup, menu_bar, menu_for
from tests.clients.factories import with_care_team
from tests.screening.factories import enrolled_client, screen_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The vertical centre of each item of the bar, the name and the sign-out button.
BAR_ROWS = """() => [...document.querySelectorAll(
    "#mainnav .nav-item, [data-testid=whoami], #mainnav form button")]
  .map((el) => el.getBoundingClientRect())
  .map((r) => Math.round(r.top + r.height / 2))"""


def test_admins_menu_is_one_line_at_1366_and_every_item_is_reachable_by_keyboard(
    page, browser_login, admin_user
):
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login("avery")
    rows = page.evaluate(BAR_ROWS)
    assert len(rows) >= 8, rows
    assert max(rows) - min(rows) <= 2, f"the bar wraps: item centres at {sorted(set(rows))}"
    # No label breaks onto a second line inside its item either.
    heights = page.locator("#mainnav .nav-link").evaluate_all(
        "els => els.map((el) => Math.round(el.getBoundingClientRect().height))"
    )
    labels = page.locator("#mainnav .nav-link").all_inner_texts()
    shown = list(zip(labels, heights, strict=False))
    assert max(heights) - min(heights) <= 2, f"a label wraps: {shown}"
    assert page.locator("nav.navbar").bounding_box()["height"] < 64

    # Every page of the admin's menu is still one link away, in the bar or its dropdown.
    user = User.objects.get(username="avery")
    hrefs = set(page.locator("#mainnav a").evaluate_all("els => els.map(a => a.pathname)"))
    assert {item.url for item in menu_for(user)} <= hrefs
    (group,) = [e for e in menu_bar(user) if isinstance(e, NavGroup)]
    assert {"Audit trail", "Staff accounts", "Emergency access"} <= {
        c.label for c in group.children
    }

    # From the keyboard: tab to the dropdown, open it, arrow down to the audit trail.
    toggle = page.get_by_role("button", name=group.label)
    for _ in range(30):
        page.keyboard.press("Tab")
        if toggle.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the menu's dropdown")
    page.keyboard.press("Enter")
    menu = page.locator("[data-testid=nav-group] .dropdown-menu")
    assert menu.is_visible()
    labels = [c.label for c in group.children]
    for _ in range(labels.index("Audit trail") + 1):
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Audit trail"
    page.keyboard.press("Enter")
    page.wait_for_url("**/audit/")
    current = page.locator("[data-testid=nav-group] .dropdown-item.active")
    assert current.get_attribute("aria-current") == "page"
    page.keyboard.press("Escape")


def test_a_chart_with_medications_and_screens_fits_a_390_px_phone(
    page, browser_login, clinician, medical_user
):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    today = timezone.localdate()
    for name in ("Buprenorphine-naloxone", "Sertraline hydrochloride", "Gabapentin"):
        medication_add(
            client=client,
            name=name,
            dose="8 mg / 2 mg sublingual film",
            schedule="once daily in the morning, observed",
            started_on=today - timedelta(days=20),
            outside_prescriber="Dr. Evangelina Montgomery-Castellanos, Northside Clinic",
            actor=medical_user,
        )
    for days_ago in (1, 8, 15):
        screen_with(
            client,
            medical_user,
            at=timezone.now() - timedelta(days=days_ago),
            thc=("positive", None),
        )
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login("mira")
    page.goto(f"/clients/{client.public_id}/")
    assert page.get_by_test_id("medications").locator("tbody tr").count() == 3
    assert page.get_by_test_id("screen-history").locator("tbody tr").count() == 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the chart is {width} px wide on a 390 px phone"
    # The tables are still whole: they scroll inside their own box.
    table = page.get_by_test_id("medications").locator("table")
    assert table.evaluate("t => getComputedStyle(t.parentElement).overflowX") == "auto"
    # A box that scrolls takes the keyboard's focus, so arrow keys can scroll it.
    box = table.locator("xpath=..")
    if box.evaluate("b => b.scrollWidth > b.clientWidth"):
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"
