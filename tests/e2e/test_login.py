import pytest
from django.test import override_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_sees_their_dashboard_and_signs_out(page, browser_login, clinician):
    browser_login("alice")
    assert page.get_by_test_id("roles").inner_text() == "Clinician"
    assert page.get_by_role("link", name="Audit trail").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/")
    assert "/accounts/login/" in page.url  # the server-side session is gone


def test_admin_reaches_the_audit_trail_from_the_menu(page, browser_login, admin_user):
    browser_login("avery")
    page.get_by_role("button", name="Admin").click()  # the menu's dropdown of admin pages
    page.get_by_role("link", name="Audit trail").first.click()
    page.wait_for_url("**/audit/")
    assert "auth.login" in page.get_by_test_id("audit-table").inner_text()


@override_settings(IOP_IDLE_TIMEOUT_MINUTES=1, IOP_IDLE_WARNING_SECONDS=58)
def test_idle_warning_appears_before_logoff_and_stay_keeps_the_session(
    page, browser_login, clinician
):
    browser_login("alice")
    warning = page.locator("#idle-warning")
    warning.wait_for(state="visible", timeout=8000)
    assert "signed out in" in warning.inner_text()
    page.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")
    page.reload()
    assert page.get_by_test_id("roles").is_visible()
