"""42 CFR Part 2 (2024 rule) in Chromium: a 16-year-old's consent where minors consent
alone (2.14(b)), the TPO redisclosure statement with its proceedings exception
(2.31(a)(4)(iii)), and the accounting of disclosures for a period the client chose
(2.25(a)) with each disclosure's purpose and the recipient's address."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clients import services
from iop import when
from tests.clients.factories import ClientFactory, ConsentFactory, EpisodeFactory, with_care_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUIRED_STATEMENT = (
    "may be redisclosed in accordance with the permissions contained in the HIPAA "
    "regulations, except for uses and disclosures for civil, criminal, administrative, "
    "and legislative proceedings against the patient"
)


def _fill_consent(page, *, signer, basis, tpo=False):
    if tpo:
        page.get_by_label(
            "My treating providers, health plans, third-party payers and program operations"
        ).check()
        page.fill("#id_purpose", "Treatment, payment and health care operations")
        page.get_by_label("All Part 2 records of this program").check()
        page.fill("#id_expiry_event", "end of treatment")
    else:
        page.get_by_label("A named organisation").check()
        page.fill("#id_recipient_name", "Riverside High School counsellor")
        page.fill("#id_purpose", "Coordination of care with the school")
        page.get_by_label("Attendance and participation").check()
        page.fill("#id_expires_on", (timezone.localdate() + timedelta(days=180)).isoformat())
    page.fill("#id_information_description", "Attendance since admission")
    page.fill("#id_signed_by_name", signer)
    page.select_option("#id_signer_relationship", basis)
    page.get_by_label("The signer signed the written form").check()
    page.get_by_role("button", name="Record consent").click()


def test_a_16_year_old_signs_alone_and_the_tpo_statement_has_its_exception(
    page, browser_login, clinician, settings
):
    settings.IOP_MINORS_CONSENT_ALONE = 12
    today = timezone.localdate()
    born = today.replace(year=today.year - 16, day=min(today.day, 28)) - timedelta(days=100)
    minor = ClientFactory(date_of_birth=born, legal_first_name="Sam", legal_last_name="Rivera")
    EpisodeFactory(client=minor)
    with_care_team(minor, clinician)

    browser_login("alice")
    page.goto(f"/clients/{minor.public_id}/consents/add/")
    assert "only the minor signs (42 CFR 2.14(b))" in page.content()

    # A parent's signature alone is refused, and nothing is saved.
    _fill_consent(page, signer="Pat Rivera (mother)", basis="guardian")
    assert "requires the minor's own signature" in page.get_by_role("main").inner_text()
    assert "/consents/add/" in page.url

    _fill_consent(page, signer="Sam Rivera", basis="minor_alone")
    assert page.get_by_test_id("consent-state").inner_text() == "Active"
    assert (
        page.get_by_test_id("signer").inner_text()
        == "Sam Rivera (The client, a minor consenting alone under state law)"
    )

    page.goto(f"/clients/{minor.public_id}/consents/add/")
    _fill_consent(page, signer="Sam Rivera", basis="minor_alone", tpo=True)
    statement = page.get_by_test_id("redisclosure-statement").inner_text()
    assert REQUIRED_STATEMENT in statement
    assert page.get_by_test_id("redisclosure-earlier").count() == 0


def test_the_accounting_for_a_period_the_client_chose(page, browser_login, clinician):
    client = EpisodeFactory(admitted_on=timezone.localdate() - timedelta(days=400)).client
    with_care_team(client, clinician)
    today = timezone.localdate()
    consent = ConsentFactory(client=client, signed_on=today - timedelta(days=390))
    services.disclosure_record(
        client=client,
        consent=consent,
        recipient_name=consent.recipient_name,
        information_categories=["attendance"],
        description="Old attendance letter",
        purpose="Quarterly report",
        method="mail",
        disclosed_on=today - timedelta(days=300),
        actor=clinician,
    )

    browser_login("alice")
    page.goto(f"/clients/{client.public_id}/disclosures/add/")
    page.select_option("#id_consent", value=str(consent.public_id))
    page.fill("#id_recipient_name", consent.recipient_name)
    page.fill("#id_recipient_address", "PO Box 12, Boston MA 02101")
    page.get_by_label("Attendance and participation").check()
    page.fill("#id_description", "Attendance record, weeks 1-4")
    page.fill("#id_purpose", "Return-to-practice monitoring report")
    page.get_by_role("button", name="Record disclosure").click()
    page.wait_for_url("**/disclosures/")
    table = page.get_by_test_id("disclosure-table").inner_text()
    assert "PO Box 12, Boston MA 02101" in table
    assert "Return-to-practice monitoring report" in table
    assert "Old attendance letter" in table
    assert (
        "(the 3 years before the request)" in page.get_by_test_id("accounting-period").inner_text()
    )

    # The client asks for the last 90 days only.
    since = today - timedelta(days=90)
    page.fill("#id_since", since.isoformat())
    page.get_by_role("button", name="Show this period").click()
    period = page.get_by_test_id("accounting-period").inner_text()
    assert f"disclosures from {when.day(since)} to {when.day(today)}" in period
    assert "(the period the client chose)" in period
    table = page.get_by_test_id("disclosure-table").inner_text()
    assert "Old attendance letter" not in table
    assert "Return-to-practice monitoring report" in table

    # A start more than 3 years back is refused with the rule's limit.
    page.fill("#id_since", (today - timedelta(days=5 * 365)).isoformat())
    page.get_by_role("button", name="Show this period").click()
    assert "covers at most the 3 years before the request" in page.content()
