"""No client's MRN or name in the browser's address or in any request it makes
(issue 18, item 8): the admin filters the audit trail by MRN, pages through it and
exports the CSV; a clinician searches clients by name and MRN and pages through them.
Every request the browser sends, and every address it shows, is checked."""

import pytest
from django.urls import reverse

from iop.audit.services import audit_record
from tests.clients.factories import ClientFactory, with_care_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page) -> list[str]:
    """Every address the page navigates to or requests, as the browser sent it."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("framenavigated", lambda frame: seen.append(frame.url))
    return seen


def _assert_never_named(seen: list[str], *details: str) -> None:
    assert seen
    for url in seen:
        for detail in details:
            assert detail.lower() not in url.lower(), (detail, url)


def test_admin_filters_the_audit_trail_by_mrn_pages_and_exports_without_it_in_the_address(
    page, browser_login, admin_user, clinician
):
    person = ClientFactory(legal_first_name="Rosalind", legal_last_name="Quennell")
    for _ in range(60):  # more than a page of this client's events
        audit_record(action="client.view", actor=clinician, client=person)
    audit_record(action="client.view", actor=clinician, client=ClientFactory())
    browser_login("avery")
    seen = _watch(page)
    page.goto("/audit/")

    page.fill("input[name=mrn]", person.mrn)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit/?f=*")
    first_url = page.url
    clients = page.get_by_test_id("audit-client").all_inner_texts()
    assert len(clients) == 50
    assert all(f"{person.mrn} Rosalind Quennell" in text for text in clients)
    assert page.input_value("input[name=mrn]") == person.mrn  # the form says what it shows

    page.get_by_test_id("audit-older").click()
    page.wait_for_url("**/audit/?f=*&before=*")
    older = page.get_by_test_id("audit-client").all_inner_texts()
    assert len(older) == 10 and all(person.mrn in text for text in older)
    page.get_by_test_id("audit-newer").click()
    page.wait_for_url("**/audit/?f=*&after=*")
    assert len(page.get_by_test_id("audit-client").all_inner_texts()) == 50

    with page.expect_download() as info:
        page.get_by_test_id("audit-export").click()
    download = info.value
    seen.append(download.url)
    body = download.path().read_text(encoding="utf-8-sig")
    assert body.count(person.mrn) == 60

    # The browser's back button returns to the same filtered page, by its id alone.
    page.goto(first_url)
    assert len(page.get_by_test_id("audit-client").all_inner_texts()) == 50
    _assert_never_named(seen, person.mrn, "Rosalind", "Quennell")


def test_an_old_audit_bookmark_with_an_mrn_is_not_honoured(page, browser_login, admin_user):
    person = ClientFactory()
    browser_login("avery")
    page.goto(f"/audit/?mrn={person.mrn}")
    assert page.url.endswith(reverse("audit:list"))  # the MRN left the address bar
    assert "Filters are not taken from the address" in page.content()
    assert page.input_value("input[name=mrn]") == ""


def test_clinician_searches_clients_by_name_and_mrn_without_them_in_the_address(
    page, browser_login, clinician
):
    people = [
        ClientFactory(legal_first_name=f"Tamsin{chr(65 + n)}", legal_last_name="Oyelaran")
        for n in range(27)  # past the 25 of one page
    ]
    for person in people:
        with_care_team(person, clinician)
    browser_login("alice")
    seen = _watch(page)
    page.goto("/clients/")

    page.get_by_label("Name or MRN").fill("Oyelaran")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/clients/?f=*")
    assert page.get_by_test_id("client-table").locator("tbody tr").count() == 25
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**/clients/?f=*&page=2")
    assert page.get_by_test_id("client-table").locator("tbody tr").count() == 2

    target = people[3]
    page.get_by_label("Name or MRN").fill(target.mrn)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/clients/?f=*")
    rows = page.get_by_test_id("client-table").locator("tbody tr")
    assert rows.count() == 1 and target.mrn in rows.inner_text()
    page.get_by_role("link", name="TamsinD Oyelaran").click()
    page.wait_for_url(f"**/clients/{target.public_id}/")
    page.go_back()
    page.get_by_role("link", name="Show all").click()
    page.wait_for_url("**/clients/")

    page.goto("/clients/?q=Oyelaran")  # an old bookmark is not honoured
    assert page.url.endswith(reverse("clients:list"))
    assert "Filters are not taken from the address" in page.content()
    _assert_never_named(
        [url for url in seen if "?q=Oyelaran" not in url],  # the one typed above
        "Oyelaran",
        "Tamsin",
        target.mrn,
    )
