"""Client list, caseload and dashboard pages; every form page answers bad input with 400."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    Consent,
    Disclosure,
    Episode,
    SupportContact,
)
from clients.services import client_permissions_sync
from iop.audit.models import AuditEvent
from tests.clients.factories import ClientFactory, ConsentFactory, EpisodeFactory, with_care_team

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def _caseload(clinician, n):
    """``n`` admitted clients with ``clinician`` as primary clinician."""
    clients = []
    for _ in range(n):
        client = EpisodeFactory().client
        with_care_team(client, clinician)
        clients.append(client)
    return clients


def _listed(response):
    return {c.pk for c in response.context["page"]}


# --- Lists and search ---------------------------------------------------------------------


def test_client_list_shows_only_clients_the_user_may_see(clinician, other_clinician, client_as):
    mine = _caseload(clinician, 2)
    theirs = _caseload(other_clinician, 1)[0]
    # A name no fake client can share, so the absence below means what it says.
    Client.objects.filter(pk=theirs.pk).update(legal_last_name="Quillfeather-Oyelaran")
    theirs.refresh_from_db()

    response = client_as(clinician).get(reverse("clients:list"))

    assert response.status_code == 200
    assert _listed(response) == {c.pk for c in mine}
    body = response.content.decode()
    assert theirs.legal_last_name not in body
    assert theirs.mrn not in body


def test_admin_lists_every_client(admin_user, clinician, client_as):
    _caseload(clinician, 2)
    ClientFactory()
    response = client_as(admin_user).get(reverse("clients:list"))
    assert response.context["page"].paginator.count == 3


def _search(web, **data):
    """Search the way the page does: a POST, then the list it redirects to."""
    data.setdefault("q", "")
    data.setdefault("status", "")
    response = web.post(reverse("clients:list"), data)
    assert response.status_code == 302
    # No search words in the URL: the list is named by an opaque filter id.
    assert re.fullmatch(reverse("clients:list") + r"\?f=[0-9a-f]{16}", response["Location"])
    return web.get(response["Location"])


def test_search_by_name_and_by_mrn(clinician, other_clinician, client_as):
    nora = EpisodeFactory(client__legal_first_name="Nora", client__legal_last_name="Castellanos")
    with_care_team(nora.client, clinician)
    _caseload(clinician, 2)
    # Someone else's client with the same surname stays hidden from the search.
    hidden = EpisodeFactory(client__legal_last_name="Castellanos").client
    with_care_team(hidden, other_clinician)
    web = client_as(clinician)

    by_name = _search(web, q="castell")
    by_full_name = _search(web, q="Nora Castellanos")
    by_mrn = _search(web, q=nora.client.mrn)

    assert _listed(by_name) == {nora.client_id}
    assert _listed(by_full_name) == {nora.client_id}
    assert _listed(by_mrn) == {nora.client_id}
    # A search is an access to client data: audited with the count, not the words.
    event = AuditEvent.objects.filter(action="client.search").last()
    assert (event.actor, event.detail) == (clinician, "results=1")
    assert "Castellanos" not in event.detail


def test_search_for_a_hidden_client_by_mrn_finds_nothing(other_clinician, clinician, client_as):
    hidden = _caseload(clinician, 1)[0]
    response = _search(client_as(other_clinician), q=hidden.mrn)
    assert _listed(response) == set()
    assert "No clients you have a reason to see" in response.content.decode()


def test_status_filter(clinician, client_as):
    active = _caseload(clinician, 1)[0]
    prospect = ClientFactory(status=ClientStatus.PROSPECT)
    with_care_team(prospect, clinician)
    web = client_as(clinician)
    response = _search(web, status="prospect")
    assert _listed(response) == {prospect.pk}
    assert active.pk not in _listed(response)
    # The search stays for paging (by its id) until cleared.
    filtered = response.request["QUERY_STRING"]
    assert _listed(web.get(f"{reverse('clients:list')}?{filtered}&page=1")) == {prospect.pk}
    assert f'href="{reverse("clients:list")}">Show all' in response.content.decode()
    assert _listed(web.get(reverse("clients:list"))) == {prospect.pk, active.pk}


def test_caseload_shows_active_clients_on_the_care_team(
    clinician, other_clinician, supervisor, client_as
):
    mine = _caseload(clinician, 2)
    discharged = EpisodeFactory(
        admitted_on=_today() - timedelta(days=60),
        discharged_on=_today(),
        discharge_reason="completed",
    ).client
    with_care_team(discharged, clinician, "counsellor")
    _caseload(other_clinician, 1)

    response = client_as(clinician).get(reverse("clients:caseload"))
    assert {c.pk for c in response.context["page"]} == {c.pk for c in mine}
    # carol supervises alice: alice's caseload is on hers, apart and titled as such.
    response = client_as(supervisor).get(reverse("clients:caseload"))
    assert list(response.context["page"]) == []
    assert {c.pk for c in response.context["supervised"]} == {c.pk for c in mine}
    assert "Supervisees' clients" in response.content.decode()


def test_dashboard_shows_the_clinicians_caseload(clinician, client_as):
    client = _caseload(clinician, 1)[0]
    response = client_as(clinician).get(reverse("dashboard"))
    assert client.display_name in response.content.decode()


# --- Query counts do not grow with the caseload -------------------------------------------

# Every page: session, the user with their roles (navigation and access), OTP device.
# client list: + count of visible clients (paginator), the page of clients, their
#   primary clinicians (one prefetch, staff joined).
# caseload: + the count (pages of 25), the clients, their open episodes, their primary
#   clinicians (prefetches).
# dashboard: (the greeting's roles come with the user) the caseload section adds its
#   clients, open episodes and primary clinicians.
#   The scheduling section "My sessions today" adds today's sessions (with their
#   facilitators prefetched): 2 more. The clinical sections add plans due for review,
#   safety flags to follow up and my notes in progress (one query each), and the
#   screening section its open follow-ups (one): 11.
# Each then writes its read audit in one append (``read_audit_queries``).
PAGES = [("clients:list", 6), ("clients:caseload", 7), ("dashboard", 11)]


@pytest.mark.parametrize(("page", "queries"), PAGES)
def test_page_query_count_does_not_grow_with_the_caseload(
    page, queries, clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    queries += read_audit_queries
    web = client_as(clinician)
    url = reverse(page)
    _caseload(clinician, 3)
    web.get(url)  # warm the permission-id cache so both measurements are alike
    with django_assert_max_num_queries(queries):
        assert web.get(url).status_code == 200

    _caseload(clinician, 37)
    # Building may take over 5 s on a busy machine: this request saves the session's
    # last-seen time (SessionLimitsMiddleware, at most every 5 s), not the page's cost.
    web.get(url)
    with django_assert_max_num_queries(queries):
        response = web.get(url)
    assert response.status_code == 200
    if page == "clients:caseload":
        assert response.context["page"].paginator.count == 40
        assert len(response.context["page"]) == 25


def _bulk_caseload(clinician, n):
    """``n`` admitted clients with ``clinician`` as primary clinician, inserted in bulk;
    the grants still come from the care team through the permission service."""
    clients = Client.objects.bulk_create(
        ClientFactory.build(status=ClientStatus.ACTIVE, legal_last_name=f"Load{i:04d}")
        for i in range(n)
    )
    Episode.objects.bulk_create(EpisodeFactory.build(client=client) for client in clients)
    CareTeamMember.objects.bulk_create(
        CareTeamMember(client=client, staff=clinician, role=CareTeamRole.PRIMARY)
        for client in clients
    )
    for client in clients:
        client_permissions_sync(client=client)
    return clients


def test_the_caseload_costs_the_same_at_300_clients_as_at_30(
    clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    """Issue 13: a 300-client caseload is paged (25 a page) and asks the same queries
    as a 30-client one (the 7 named above and the read audit), on the first page and
    the last."""
    web = client_as(clinician)
    url = reverse("clients:caseload")
    _bulk_caseload(clinician, 30)
    web.get(url)  # warm the permission-id cache so both measurements are alike
    with django_assert_max_num_queries(7 + read_audit_queries) as small:
        assert web.get(url).status_code == 200
    count = len(small)  # now: the connection's query log is a bounded deque
    _bulk_caseload(clinician, 270)
    web.get(url)  # building took seconds: this one saves the session's last-seen time
    with django_assert_max_num_queries(count):
        response = web.get(url)
    with django_assert_max_num_queries(count):
        last = web.get(url, {"page": 12})
    assert response.context["page"].paginator.count == 300
    assert len(response.context["page"]) == 25
    names = [c.legal_last_name for c in response.context["page"]]
    assert names == sorted(names)  # the same order on every page
    assert len(last.context["page"]) == 300 - 11 * 25


# --- Every form page answers bad input with 400 and a message, and writes nothing -------------


@pytest.fixture
def chart(clinician):
    client = EpisodeFactory(admitted_on=_today() - timedelta(days=30)).client
    with_care_team(client, clinician)
    return client


def _admit_data(**overrides):
    data = {"admitted_on": _today().isoformat(), "asam_level": "2.1", "planned_length_days": "60"}
    data.update({f"d{n}_rating": "2" for n in range(1, 7)})
    data.update(overrides)
    return data


def _url(name, chart, *extra):
    return reverse(f"clients:{name}", args=[chart.public_id, *extra])


BAD_INPUT = {
    "contact without phone or email": (
        lambda c: _url("contact_add", c),
        lambda c: {"name": "Lee Park", "relationship": "Sponsor", "phone": "", "email": ""},
        "Give a phone number or an email address.",
        SupportContact,
    ),
    "contact with a malformed email": (
        lambda c: _url("contact_add", c),
        lambda c: {"name": "Lee Park", "relationship": "Sponsor", "email": "not-an-email"},
        "Enter a valid email address.",
        SupportContact,
    ),
    "consent missing recipient": (
        lambda c: _url("consent_add", c),
        lambda c: {
            "recipient_type": "person",
            "recipient_name": "  ",
            "purpose": "Coordination of care",
            "information_categories": ["attendance"],
            "information_description": "Attendance",
            "discloser": "Intensive Outpatient Program",
            "expires_on": (_today() + timedelta(days=90)).isoformat(),
            "signed_by_name": c.legal_name,
            "signer_relationship": "self",
            "signed_on": _today().isoformat(),
            "signature_confirmed": "on",
        },
        "Name the person or organisation.",
        Consent,
    ),
    "disclosure with no category": (
        lambda c: _url("disclosure_add", c),
        lambda c: {
            "consent": ConsentFactory(client=c).public_id,
            "recipient_name": "State Physician Health Program",
            "description": "Attendance record",
            "method": "fax",
            "disclosed_on": _today().isoformat(),
        },
        "This field is required.",
        Disclosure,
    ),
    "disclosure under an unknown consent": (
        lambda c: _url("disclosure_add", c),
        lambda c: {
            "consent": str(uuid.uuid4()),
            "recipient_name": "Someone",
            "information_categories": ["attendance"],
            "description": "Attendance record",
            "method": "fax",
            "disclosed_on": _today().isoformat(),
        },
        "Select a valid choice.",
        Disclosure,
    ),
    "admit with missing ratings": (
        lambda c: _url("admit", c),
        lambda c: _admit_data(d3_rating="", d6_rating=""),
        "This field is required.",
        Episode,
    ),
    "admit with an impossible rating": (
        lambda c: _url("admit", c),
        lambda c: _admit_data(d2_rating="7"),
        "Select a valid choice.",
        Episode,
    ),
    "discharge with a garbled date": (
        lambda c: _url("discharge", c, c.episodes.get().public_id),
        lambda c: {
            "discharged_on": "31/31/2024",
            "reason": "completed",
            "summary": "Done",
            "continuing_care": "alumni",
        },
        "Enter a valid date.",
        Episode,
    ),
    "edit with a birth date in the future": (
        lambda c: _url("edit", c),
        lambda c: {
            "legal_first_name": c.legal_first_name,
            "legal_last_name": c.legal_last_name,
            "date_of_birth": (_today() + timedelta(days=3)).isoformat(),
            "profession": c.profession,
            "reminder_channel": "none",
        },
        "That date is in the future.",
        Client,
    ),
    "reminders by text without a phone": (
        lambda c: _url("edit", c),
        lambda c: {
            "legal_first_name": c.legal_first_name,
            "legal_last_name": c.legal_last_name,
            "date_of_birth": c.date_of_birth.isoformat(),
            "profession": c.profession,
            "reminder_channel": "sms",
            "phone": "",
        },
        "Text reminders need a valid phone number.",
        Client,
    ),
    "care team with an unknown staff member": (
        lambda c: _url("care_team", c),
        lambda c: {"staff": "999999", "role": "primary", "started_on": _today().isoformat()},
        "Select a valid choice.",
        CareTeamMember,
    ),
    "revocation with no date": (
        lambda c: _url("consent_revoke", c, ConsentFactory(client=c).public_id),
        lambda c: {"revoked_on": "", "note": ""},
        "This field is required.",
        Consent,
    ),
}


def _snapshot(model):
    # Rows and their last change: "writes nothing" covers updates as well as inserts.
    return sorted(map(str, model.objects.values_list()))


@pytest.mark.parametrize(("url", "data", "message", "model"), BAD_INPUT.values(), ids=BAD_INPUT)
def test_form_page_answers_bad_input_with_400_and_a_message(
    chart, clinician, client_as, url, data, message, model
):
    web = client_as(clinician)
    target, payload = url(chart), data(chart)
    before = _snapshot(model)

    response = web.post(target, payload)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert _snapshot(model) == before


def test_register_page_answers_bad_input_with_400(intake_user, client_as):
    response = client_as(intake_user).post(
        reverse("clients:register"),
        {"legal_first_name": "", "date_of_birth": "yesterday", "profession": "astronaut"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body
    assert "Enter a valid date." in body
    assert "Select a valid choice." in body
    assert not Client.objects.exists()


def test_emergency_access_page_answers_bad_input_with_400(other_clinician, client_as):
    response = client_as(other_clinician).post(reverse("clients:emergency_access"), {"mrn": ""})
    assert response.status_code == 400
    assert "Emergency access was not opened" in response.content.decode()


def test_read_only_member_cannot_write(chart, supervisor, client_as):
    """carol reads alice's charts as supervisor; a write page is no reason for her."""
    web = client_as(supervisor)
    assert web.get(_url("chart", chart)).status_code == 200
    response = web.post(
        _url("contact_add", chart), {"name": "Lee Park", "relationship": "Sponsor", "phone": "1"}
    )
    assert response.status_code == 404
    assert not SupportContact.objects.exists()


def test_an_overlong_search_is_refused_with_a_message(clinician, client_as):
    response = client_as(clinician).post(reverse("clients:list"), {"q": "x" * 101, "status": ""})
    assert response.status_code == 400
    assert "at most 100 characters" in response.content.decode()


@pytest.mark.parametrize("param", ["q", "mrn", "name", "dob", "status"])
def test_an_old_search_address_is_refused_with_a_message(clinician, client_as, param):
    """``/clients/?q=Castellanos`` (a bookmark, a hand-typed address) is never honoured
    as a search: a redirect to the bare list, a message, every client listed and no
    search audited. The search is the form's POST."""
    nora = EpisodeFactory(client__legal_first_name="Nora", client__legal_last_name="Castellanos")
    with_care_team(nora.client, clinician)
    other = _caseload(clinician, 1)[0]
    web = client_as(clinician)
    value = {"q": "Castellanos", "mrn": nora.client.mrn, "name": "Nora", "status": "active"}
    response = web.get(reverse("clients:list"), {param: value.get(param, "1980-01-01")})
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:list")
    page = web.get(response["Location"])
    assert "Filters are not taken from the address" in page.content.decode()
    assert _listed(page) == {nora.client_id, other.pk}
    assert not AuditEvent.objects.filter(action="client.search").exists()


def test_a_search_id_from_another_session_has_expired(clinician, other_clinician, client_as):
    from django.test import Client as Browser

    theirs = Browser()
    theirs.force_login(other_clinician)
    location = theirs.post(reverse("clients:list"), {"q": "Castellanos", "status": ""})
    web = client_as(clinician)
    response = web.get(location["Location"])
    assert response.status_code == 302 and response["Location"] == reverse("clients:list")
    assert "That filter is no longer available" in web.get(reverse("clients:list")).content.decode()


def test_searching_needs_the_csrf_token(clinician):
    from django.test import Client as Browser

    web = Browser(enforce_csrf_checks=True)
    web.force_login(clinician)
    assert web.post(reverse("clients:list"), {"q": "Castellanos"}).status_code == 403
