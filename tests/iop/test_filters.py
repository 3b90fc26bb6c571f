"""Filters by client stay out of addresses (issue 18, item 8).

The audit list is filtered by a POST; the filter is kept in the session under an
opaque id and the list, its pages and its CSV are named by that id alone. An address
that carries a filter value itself (an old bookmark with ``?mrn=``) is refused: a
redirect to the bare list, whose address no longer carries the value, and a message.
"""

import uuid

import pytest
from django.test import Client as Browser
from django.urls import reverse

from iop import filters
from iop.audit.models import AuditEvent
from iop.audit.services import audit_record
from tests.clients.factories import ClientFactory

pytestmark = pytest.mark.django_db

AUDIT = reverse("audit:list")
EXPORT = reverse("audit:export")


@pytest.fixture
def trail(clinician):
    """Two clients' reads and one denied attempt."""
    first = ClientFactory(legal_first_name="Rosalind", legal_last_name="Quennell")
    second = ClientFactory(legal_first_name="Tamsin", legal_last_name="Oyelaran")
    audit_record(action="client.view", actor=clinician, client=first)
    audit_record(action="client.view", actor=clinician, client=second)
    audit_record(action="client.view", actor=clinician, client=second, outcome="denied")
    return first, second


def _post(web, **data):
    response = web.post(AUDIT, data)
    assert response.status_code == 302, response.content.decode()
    return response["Location"]


def test_the_mrn_filter_is_posted_and_the_list_named_by_an_opaque_id(client_as, admin_user, trail):
    first, second = trail
    web = client_as(admin_user)
    location = _post(web, mrn=second.mrn.lower())
    assert second.mrn.lower() not in location.lower()
    assert location.startswith(f"{AUDIT}?f=")
    page = web.get(location)
    assert page.status_code == 200
    assert {e.client_id for e in page.context["events"]} == {second.public_id}
    html = page.content.decode()
    # The form shows what was asked; the export link carries the id, not the MRN.
    assert f'value="{second.mrn.lower()}"' in html
    assert f'href="{EXPORT}?{location.split("?")[1]}"' in html
    # The same filter posted again is the same id (a bookmark of it keeps working).
    assert _post(web, mrn=second.mrn.lower()) == location
    assert _post(web, mrn=first.mrn) != location


@pytest.mark.parametrize(
    "query",
    [
        {"mrn": "MRN-TEMPLATE"},
        {"client": "CLIENT-TEMPLATE"},
        {"q": "Quennell"},
        {"dob": "1980-01-01"},
        {"outcome": "denied"},
        {"mrn": "MRN-TEMPLATE", "f": "FILTER-TEMPLATE"},
    ],
    ids=["mrn", "client id", "q", "dob", "outcome", "mrn beside a filter id"],
)
@pytest.mark.parametrize("url", [AUDIT, EXPORT], ids=["list", "export"])
def test_an_address_carrying_a_filter_value_is_refused(client_as, admin_user, trail, url, query):
    """Old bookmarks (``/audit/?mrn=D1001``) and hand-typed filters answer a redirect to
    the bare list, with a message, and filter nothing: the value leaves the address bar
    and is never honoured, and no export is written."""
    first, _ = trail
    web = client_as(admin_user)
    saved = _post(web, outcome="denied").split("=")[1]
    values = {"MRN-TEMPLATE": first.mrn, "CLIENT-TEMPLATE": str(first.public_id)}
    values["FILTER-TEMPLATE"] = saved
    response = web.get(url, {k: values.get(v, v) for k, v in query.items()})
    assert response.status_code == 302
    assert response["Location"] == AUDIT
    page = web.get(AUDIT)
    assert filters.REFUSED in page.content.decode()
    assert not page.context["form"].is_bound
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_an_unknown_or_another_sessions_filter_id_has_expired(client_as, admin_user, trail):
    other_admin = Browser()
    other_admin.force_login(admin_user)
    theirs = _post(other_admin, outcome="denied")
    web = Browser()
    web.force_login(admin_user)
    for url in (theirs, f"{AUDIT}?f=0123456789abcdef", f"{EXPORT}?f=0123456789abcdef"):
        response = web.get(url)
        assert response.status_code == 302
        assert response["Location"] == AUDIT
    assert filters.EXPIRED in web.get(AUDIT).content.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_a_session_keeps_only_its_newest_filters(client_as, admin_user, trail):
    web = client_as(admin_user)
    ids = [_post(web, action=f"client.{n}") for n in range(filters.KEEP + 1)]
    assert web.get(ids[0]).status_code == 302  # the oldest was let go
    assert all(web.get(url).status_code == 200 for url in ids[1:])


def test_filtering_needs_the_csrf_token(admin_user, trail):
    web = Browser(enforce_csrf_checks=True)
    web.force_login(admin_user)
    assert web.post(AUDIT, {"outcome": "denied"}).status_code == 403
    page = web.get(AUDIT)
    token = page.context["csrf_token"]
    response = web.post(AUDIT, {"outcome": "denied", "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302


def test_a_bad_filter_is_refused_with_a_message_and_nothing_kept(client_as, admin_user, trail):
    web = client_as(admin_user)
    response = web.post(AUDIT, {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["events"] == []
    assert "filters:audit" not in web.session
    unknown = web.post(AUDIT, {"client": "not-a-uuid"})
    assert unknown.status_code == 400
    assert "Enter a valid UUID." in unknown.content.decode()


def test_the_csv_of_a_saved_filter_has_its_rows(client_as, admin_user, trail):
    _, second = trail
    web = client_as(admin_user)
    location = _post(web, mrn=second.mrn, outcome="denied")
    response = web.get(f"{EXPORT}?{location.split('?')[1]}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 2 and second.mrn in lines[1] and ",denied," in lines[1]
    export = AuditEvent.objects.get(action="audit.export")
    assert (export.client_id, export.detail) == (second.public_id, "csv; filters=mrn,outcome")


def test_the_denied_attempts_button_on_the_admin_dashboard_posts_the_filter(
    client_as, admin_user, trail
):
    web = client_as(admin_user)
    html = web.get(reverse("dashboard")).content.decode()
    assert 'name="outcome" value="denied"' in html
    assert "?outcome=" not in html
    page = web.get(_post(web, outcome="denied"))
    assert [e.outcome for e in page.context["events"]] == ["denied"]


def test_a_rows_client_button_filters_by_the_clients_opaque_id(client_as, admin_user, trail):
    first, _ = trail
    web = client_as(admin_user)
    html = web.get(AUDIT).content.decode()
    assert f'name="client" value="{first.public_id}"' in html
    assert f"?mrn={first.mrn}" not in html
    page = web.get(_post(web, client=str(first.public_id)))
    assert {e.client_id for e in page.context["events"]} == {first.public_id}
    assert f"Only events about {first.mrn} {first.legal_name}." in page.content.decode()
    nobody = web.get(_post(web, client=str(uuid.uuid4())))
    assert nobody.context["events"] == []
