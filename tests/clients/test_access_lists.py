"""Every list goes through clients/access.py, as every page does.

The walk finds what it walks in the registries (clients.access.OWNED, the dashboard's
sections, the menu, the staff task sources, the reports), so a newly registered list is walked
without editing this file. For each role of the access table
(tests/clients/test_access_table.py), a client the person has no reason to see, one
of them the primary clinician's client until yesterday (the care-team end service),
never appears by name or MRN: not on the dashboard, not in any section, menu page,
task list, calendar, search or report (page and CSV, each report from the
registry), and no object of theirs is in any list scope.
"""

from datetime import time, timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.access import OWNED, Purpose, clients_for, scope
from clients.models import CareTeamMember, EmergencyAccess
from clinical.meds.services import measure_record, medication_add
from clinical.notes.models import CosignStatus
from clinical.notes.services import appointment_note_save, note_sign
from iop import dashboard
from iop.accounts.navigation import NAV
from iop.notifications.services import outbox_sweep
from iop.notifications.sources import SOURCES
from scheduling.models import local_datetime
from scheduling.services import appointment_book
from screening import services as screening
from tests.clinical.factories_meds import phq9
from tests.clinical.notes_factories import individual_content
from tests.clinical.plans_factories import signed_plan
from tests.iop.factories import PASSWORD, UserFactory
from tests.screening.factories import all_negative, collect, enrolled_client, selection_for

pytestmark = pytest.mark.django_db

HIDDEN_FIRST, HIDDEN_LAST = "Ottoline", "Vexworth"


def _book(client, clinician, *, days_from_today, at):
    """A 50-minute appointment at a fixed clinic hour, away from the client's group's
    daily evening slot whatever the hour the test runs."""
    start = local_datetime(timezone.localdate() + timedelta(days=days_from_today), at)
    return appointment_book(
        client=client,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )


def _note(appointment, author, *, sign=False):
    note = appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=author
    )
    return note_sign(note=note, actor=author, password=PASSWORD) if sign else note


@pytest.fixture
def world(clinician, supervisor, intake_user, medical_user, admin_user):
    """A client everyone below sees in their role (``seen``), and one none of them has
    a reason to see (``hidden``): alice (``clinician``) was its primary clinician until
    yesterday and left behind a draft, a note waiting for carol's co-signature, a
    safety flag, a plan due for review, a follow-up, today's random test and an
    appointment later this week."""
    keeper = UserFactory(username="keeper", roles=["clinician"])
    facilitator = UserFactory(username="facil", roles=["clinician"])
    glass = UserFactory(username="glass", roles=["clinician"])
    stranger = UserFactory(username="strange", roles=["clinician"])
    lonely = UserFactory(username="sup3", roles=["supervisor"])

    seen = enrolled_client(clinician, actor=intake_user)
    services.care_team_add(client=seen, staff=intake_user, role="intake", actor=admin_user)
    services.care_team_add(client=seen, staff=facilitator, role="facilitator", actor=intake_user)
    services.care_team_add(client=seen, staff=medical_user, role="prescriber", actor=intake_user)
    EmergencyAccess.objects.create(
        client=seen,
        staff=glass,
        reason="Collapsed in the lobby, paramedics ask",
        expires_at=timezone.now() + timedelta(minutes=60),
    )

    hidden = enrolled_client(keeper, actor=intake_user, start_days_ago=20)
    hidden.legal_first_name, hidden.legal_last_name = HIDDEN_FIRST, HIDDEN_LAST
    hidden.save(update_fields=["legal_first_name", "legal_last_name"])
    member = services.care_team_add(
        client=hidden,
        staff=clinician,
        role="primary",
        actor=intake_user,
        started_on=timezone.localdate() - timedelta(days=10),
    )
    draft = _note(_book(hidden, clinician, days_from_today=-2, at=time(9)), clinician)
    waiting = _note(_book(hidden, clinician, days_from_today=-1, at=time(9)), clinician, sign=True)
    assert waiting.cosign_status == CosignStatus.PENDING
    _book(hidden, clinician, days_from_today=0, at=time(22))  # today: on alice's week
    measure_record(
        client=hidden,
        instrument="phq9",
        administered_on=timezone.localdate(),
        items=phq9(1, 1, 1, 1, 1, 1, 1, 1, 2),
        actor=clinician,
    )
    signed_plan(hidden, clinician, signed_on=timezone.localdate() - timedelta(days=40))
    medication_add(
        client=hidden, mat_agent="buprenorphine", dose="8 mg", schedule="daily",
        outside_prescriber="Dr. Elsewhere", started_on=timezone.localdate() - timedelta(days=5),
        actor=clinician,
    )  # fmt: skip
    positive = collect(hidden, clinician)
    screening.urine_results_record(
        screen=positive, results=all_negative(positive, cocaine=("positive", 420)), actor=clinician
    )
    selection_for(hidden)
    selection_for(seen)
    services.care_team_end(
        member=member, actor=intake_user, ended_on=timezone.localdate() - timedelta(days=1)
    )
    assert not CareTeamMember.objects.active().filter(pk=member.pk).exists()
    # The staff tasks the sweep writes from every source (alice's draft, carol's co-sign).
    outbox_sweep(now=timezone.now())

    people = {
        "intake": intake_user,
        "primary clinician (until yesterday on the hidden client's team)": clinician,
        "clinician not on the team": stranger,
        "facilitator only": facilitator,
        "prescriber": medical_user,
        "supervisor of the primary": supervisor,
        "supervisor of nobody there": lonely,
        "break the glass": glass,
    }
    return {"seen": seen, "hidden": hidden, "people": people, "draft": draft}


def _absent(html: str, hidden, where: str):
    for word in (HIDDEN_LAST, hidden.mrn, str(hidden.public_id)):
        assert word not in html, f"{where} shows the hidden client ({word})"


def _pages():
    """Every menu page (no arguments), the dashboard, the task list and the lists."""
    names = {"dashboard", "notifications:tasks", "clients:list", "clients:caseload"}
    names |= {item.url_name for item in NAV}
    return sorted(names)


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return request


def test_the_walk_finds_the_registries():
    """The walk covers what apps register: a list added later is walked too."""
    keys = {section.key for section in dashboard.SECTIONS}
    assert {"cosign", "my_notes", "today", "safety_flags", "plans_due"} <= keys
    assert {"screen_follow_ups", "collection_today", "caseload"} <= keys
    assert {"scheduling:week", "scheduling:day", "screening:collection_list"} <= set(_pages())
    assert {"clinical.progressnote", "clinical.groupnote", "scheduling.groupsession"} <= set(OWNED)
    assert {"clinical.note_unsigned", "clinical.cosign_waiting"} <= set(SOURCES)


@pytest.mark.parametrize(
    "who",
    [
        "intake",
        "primary clinician (until yesterday on the hidden client's team)",
        "clinician not on the team",
        "facilitator only",
        "prescriber",
        "supervisor of the primary",
        "supervisor of nobody there",
        "break the glass",
    ],
)
def test_a_client_without_a_reason_is_in_no_list(who, world, client_as):
    hidden, user = world["hidden"], world["people"][who]
    web = client_as(user)

    # Every page of the menu, the dashboard, the task list, the client list.
    for name in _pages():
        response = web.get(reverse(name))
        assert response.status_code in (200, 302, 403), (name, response.status_code)
        _absent(response.content.decode(), hidden, name)
    # A search for the hidden client's name or MRN finds nothing (the search box
    # echoes what was typed: the other words must not appear).
    for text, others in ((HIDDEN_LAST, (HIDDEN_FIRST, hidden.mrn)), (hidden.mrn, (HIDDEN_LAST,))):
        html = web.post(reverse("clients:list"), {"q": text}, follow=True).content.decode()
        for word in (*others, str(hidden.public_id)):
            assert word not in html, f"search {text} shows the hidden client ({word})"

    # Every dashboard section, whatever its roles, rendered with its template.
    request = _request(user)
    for section in dashboard.SECTIONS:
        context = section.context(request) if section.context else {}
        if context is None:
            continue
        html = render_to_string(section.template, {"section": context}, request=request)
        _absent(html, hidden, f"dashboard section {section.key}")

    # Every list scope, for every purpose: no object of the hidden client.
    assert hidden not in clients_for(user, Purpose.CHART)
    for label, kind in OWNED.items():
        for purpose in (*Purpose.ALL, Purpose.CLINICAL_WRITE):
            objects = scope(user, label, purpose)
            if kind.client_attr is not None:
                assert not objects.filter(**{kind.client_attr: hidden}).exists(), (label, purpose)


def test_the_author_keeps_their_list_while_the_client_is_theirs(world, client_as, clinician):
    """The walk's control: what drops from the lists is what the care-team end took away.
    The hidden client's keeper sees the client; alice still sees her other client."""
    keeper = world["hidden"].care_team.active().get(role="primary").staff
    assert world["hidden"] in clients_for(keeper, Purpose.CHART)
    html = client_as(clinician).get(reverse("screening:collection_list")).content.decode()
    assert world["seen"].mrn in html
    # The draft about the hidden client is alice's still, and its page is 404 for her:
    # so it is not on her list either.
    page = client_as(clinician).get(
        reverse("notes:appointment_note", args=[world["draft"].appointment.public_id])
    )
    assert page.status_code == 404


def test_holders_is_the_twin_of_clients_for(world, admin_user):
    """``holders`` (whom a staff task goes to) answers, client by client, what
    ``clients_for`` answers person by person: the same reasons, for every purpose,
    for everyone in the walk; the admin role is no reason held through a client."""
    from clients.access import holders
    from clients.models import Client
    from tests.clinical.notes_factories import group_session, signed_group_note

    # A group note of alice's waiting for carol's co-signature: carol supervises its
    # clients' sections (Purpose.SUPERVISION) without reading their charts.
    clinician = world["people"]["primary clinician (until yesterday on the hidden client's team)"]
    session, present, _ = group_session(clinician, admin_user, 2, care_team=False)
    signed_group_note(session, present, clinician)
    supervisor = world["people"]["supervisor of the primary"]
    supervised = holders([c.pk for c in present], Purpose.SUPERVISION)
    assert all(supervisor.pk in supervised[c.pk] for c in present)

    clients = list(Client.objects.values_list("pk", flat=True))
    people = [*world["people"].values(), admin_user]
    for purpose in (*Purpose.ALL, Purpose.CLINICAL_WRITE):
        held = holders(clients, purpose)
        for user in people:
            by_holders = {c for c, staff in held.items() if user.pk in staff}
            expected = (
                set()
                if user.is_program_admin
                else set(clients_for(user, purpose).values_list("pk", flat=True))
            )
            assert by_holders == expected, (user.username, purpose)
    # The reasons: the supervisor of the seen client's primary reads as supervisor,
    # the glass-breaker as emergency, the primary as care team.
    seen = world["seen"].pk
    reasons = holders([seen], Purpose.CLINICAL)[seen]
    assert reasons[world["people"]["supervisor of the primary"].pk] == "supervisor"
    assert reasons[world["people"]["break the glass"].pk] == "emergency"
    primary = world["people"]["primary clinician (until yesterday on the hidden client's team)"]
    assert reasons[primary.pk] == "care team"
    assert holders([], Purpose.CLINICAL) == {}


def test_billing_lists_no_client_out_of_its_reach(world, client_as, settings):
    """The billing role (issue 22) reaches a client through an episode open or discharged
    within IOP_BILLING_REACH_DAYS: the hidden client, discharged a day past the reach,
    is in no list, section, task list, menu page, report or scope of the billing specialist."""
    from billing.models import Authorization, Payer
    from clients.models import Episode

    hidden = world["hidden"]
    today = timezone.localdate()
    payer = Payer.objects.create(
        code="LIST-CO", name="List Co", payer_id="L1", filing_indicator="CI"
    )
    # An authorization nearly used up and ending soon: the warnings would name the client.
    Authorization.objects.create(
        client=hidden, payer=payer, service_code="H0015", units_approved=1,
        starts_on=today - timedelta(days=400), ends_on=today + timedelta(days=3),
        reference="L-1", created_by=world["people"]["intake"],
    )  # fmt: skip
    Episode.objects.filter(client=hidden).update(
        admitted_on=today - timedelta(days=settings.IOP_BILLING_REACH_DAYS + 90),
        discharged_on=today - timedelta(days=settings.IOP_BILLING_REACH_DAYS + 1),
    )
    user = UserFactory(username="biller", roles=["billing"])
    outbox_sweep(now=timezone.now())
    web = client_as(user)
    for name in _pages():
        response = web.get(reverse(name))
        assert response.status_code in (200, 302, 403), (name, response.status_code)
        _absent(response.content.decode(), hidden, name)
    request = _request(user)
    for section in dashboard.SECTIONS:
        context = section.context(request) if section.context else None
        if context is None:
            continue
        html = render_to_string(section.template, {"section": context}, request=request)
        _absent(html, hidden, f"dashboard section {section.key}")
    assert hidden not in clients_for(user, Purpose.BILLING)
    assert world["seen"] in clients_for(user, Purpose.BILLING)
    for label, kind in OWNED.items():
        for purpose in (*Purpose.ALL, Purpose.CLINICAL_WRITE):
            if kind.client_attr is not None:
                assert not scope(user, label, purpose).filter(**{kind.client_attr: hidden}).exists()
    # Billing's reports (A/R aging, payer mix) are by payer: no client either.
    reports = dict(_report_pages(web, user, today - timedelta(days=30), today))
    assert reports
    for where, text in reports.items():
        _absent(text, hidden, where)


def _report_pages(web, user, start, end):
    """Every report the person may run, over the world's weeks: the page and the CSV."""
    from iop.reports.registry import reports_for

    query = {"start": start.isoformat(), "end": end.isoformat()}
    for report in reports_for(user):
        for name in ("reports:report", "reports:csv"):
            response = web.get(reverse(name, args=[report.key]), query)
            assert response.status_code == 200, (report.key, name, response.status_code)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            yield f"{report.key} ({name})", body.decode("utf-8-sig")


@pytest.mark.parametrize(
    "who",
    [
        "primary clinician (until yesterday on the hidden client's team)",
        "clinician not on the team",
        "facilitator only",
        "supervisor of the primary",
        "supervisor of nobody there",
        "break the glass",
    ],
)
def test_no_report_shows_a_client_without_a_reason(who, world, client_as):
    """Reports are lists too: every report a person may run, page and CSV, over the
    weeks the hidden client was treated, leaves them out (the reports' own scope)."""
    hidden, user = world["hidden"], world["people"][who]
    today = timezone.localdate()
    pages = dict(_report_pages(client_as(user), user, today - timedelta(days=30), today))
    assert pages, f"{who} runs no report: the walk would prove nothing"
    for where, text in pages.items():
        _absent(text, hidden, where)


def test_the_report_walk_sees_the_client_where_there_is_a_reason(world, client_as):
    """The report walk's control: the hidden client's keeper finds them in a report."""
    hidden = world["hidden"]
    keeper = hidden.care_team.active().get(role="primary").staff
    today = timezone.localdate()
    pages = dict(_report_pages(client_as(keeper), keeper, today - timedelta(days=30), today))
    shown = [where for where, text in pages.items() if hidden.mrn in text]
    assert shown, sorted(pages)
    assert "attendance (reports:csv)" in shown, shown
