"""On a phone (390 px): a client signs in by the printed link, answers the PHQ-9 the
clinician asked for with item 9 = 1 (the crisis resources show at once; the clinician and
the supervisor see the flag and the task), signs the consent staff prepared, asks for an
attendance letter that staff approve, downloads it, and a recipient verifies its code on
/verify/ signed in nowhere."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients import services as client_services
from clinical.meds.services import measure_assign
from iop.notifications.models import Channel, OutboxMessage
from portal import services as portal_services
from portal.models import AttendanceLetter
from tests.clients.factories import EpisodeFactory, with_care_team
from tests.iop.factories import PASSWORD
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


def _staff(browser, live_server, username):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("button[type=submit], input[type=submit]")
    return page


def _go(page, name):
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("portal-nav").get_by_role("link", name=name).click()


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_measure_consent_and_letter_on_a_phone(
    phone, browser, live_server, portal_client, clinician, supervisor, intake_user
):
    client = portal_client
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=30))
    with_care_team(client, clinician)
    measure_assign(client=client, instrument="phq9", every_days=14, actor=clinician)
    client_services.consent_prepare(
        client=client,
        actor=intake_user,
        discloser="Intensive Outpatient Program",
        information_categories=["attendance"],
        information_description="Attendance since admission",
        recipient_type="organisation",
        recipient_name="State Physician Health Program",
        purpose="Monitoring of return to practice",
        expires_on=timezone.localdate() + timedelta(days=365),
        expiry_event="",
        revocation_statement="Revoke in writing to the privacy officer.",
    )
    assert portal_services  # the link below is the one staff print (portal_link)

    # Signs in by the link.
    phone.goto(link_path(printed_link(client.mrn)))
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_role("button", name="Continue").click()

    # The PHQ-9, item 9 = 1: the crisis resources at once.
    _go(phone, "Questionnaires")
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_test_id("answer-phq9").click()
    _fits(phone)
    for code, value in zip(range(1, 10), (1, 1, 0, 0, 0, 0, 0, 0, 1), strict=True):
        phone.check(f"input[name=item_{code}][value='{value}']")
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_test_id("send-answers").click()
    resources = phone.get_by_test_id("crisis-resources")
    expect(resources.get_by_role("link", name="Call 988")).to_be_visible()
    expect(resources.get_by_role("link", name="Call 911")).to_be_visible()
    expect(resources).to_contain_text("Call your care team")
    _fits(phone)

    # The clinician and the supervisor see the flag and the task, before any sweep.
    for username in ("alice", "carol"):
        staff = _staff(browser, live_server, username)
        expect(staff.get_by_test_id("safety-flags")).to_contain_text("item 9 answered 1")
        staff.goto("/notifications/tasks/")
        expect(staff.locator('[data-kind="clinical.safety_flag"]')).to_have_count(1)
        staff.context.close()
    tasks = OutboxMessage.objects.filter(refs__kind="clinical.safety_flag", channel=Channel.IN_APP)
    assert {t.staff.username for t in tasks} == {"alice", "carol"}

    # Signs the consent staff prepared.
    _go(phone, "Consents")
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_test_id("consent-awaiting").click()
    expect(phone.get_by_test_id("consent-text")).to_contain_text("State Physician Health Program")
    phone.get_by_label("Type your full legal name to sign").fill(client.legal_name)
    phone.get_by_label("I have read this consent in full", exact=False).check()
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_test_id("sign-consent").click()
    expect(phone.get_by_test_id("consent-state")).to_have_text("Active")
    _fits(phone)

    # Asks for a letter; staff approve it.
    _go(phone, "Letters")
    with phone.expect_navigation(wait_until="load"):
        phone.get_by_test_id("request-letter").click()
    expect(phone.get_by_test_id("letter-requested")).to_be_visible()
    _fits(phone)
    staff = _staff(browser, live_server, "alice")
    staff.goto("/letters/")
    with staff.expect_navigation(wait_until="load"):
        staff.get_by_test_id("letter-requests").get_by_role("link").first.click()
    with staff.expect_navigation(wait_until="load"):
        staff.get_by_test_id("approve-letter").click()
    expect(staff.get_by_role("status").or_(staff.get_by_role("alert")).first).to_contain_text(
        "Letter approved"
    )
    staff.context.close()

    # Downloads it.
    phone.reload()
    with phone.expect_download() as download:
        phone.get_by_test_id("download-letter").click()
    assert download.value.path().read_bytes().startswith(b"%PDF")

    # A recipient checks the code, signed in nowhere.
    letter = AttendanceLetter.objects.get()
    recipient = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = recipient.new_page()
    page.goto("/verify/")
    page.get_by_label("Verification code").fill(letter.verification_code.lower())
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("verify-code").click()
    expect(page.get_by_test_id("verify-ok")).to_be_visible()
    expect(page.get_by_test_id("letter-content")).to_contain_text(client.legal_name)
    page.get_by_label("Verification code").fill("ABCD-EFGH-JKLM-NPQR")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("verify-code").click()
    expect(page.get_by_test_id("verify-unknown")).to_be_visible()
    recipient.close()
