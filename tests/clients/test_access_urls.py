"""Every URL with an opaque id in it, found in the URL configuration so none can be
forgotten: it goes through clients/access.py, a staff member with no reason gets 404
and one denied audit row, and the care team gets the page and one allowed row."""

import uuid
from datetime import date, time, timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import UUIDConverter
from django.utils import timezone

from billing.models import Authorization, Claim, Coverage, Diagnosis, Payer
from clients import services
from clients.access import Purpose
from clients.models import CareTeamRole, InformationCategory, RecipientType
from clinical.meds.services import measure_assign, measure_record, medication_add
from clinical.notes.models import ProgressNote
from clinical.plans import services as services_plans
from iop.audit.models import AuditEvent
from iop.audit.services import AuditContext
from iop.reports.models import ReportRun, RunStatus
from iop.reports.services import report_storage
from portal import letter_services
from scheduling.models import local_datetime
from scheduling.services import appointment_book, enrollment_create
from screening import services as screening
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory, GroupSessionFactory
from tests.screening.factories import all_negative, collect, selection_for

pytestmark = pytest.mark.django_db


def _uuid_routes():
    """(url name, kwarg names, callback) for every route with a UUID in it."""

    def walk(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "portal":
                    # The client portal: no staff member reaches it (404 whatever the
                    # reason); tests/portal/test_security.py walks it as clients.
                    continue
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern) and any(
                isinstance(c, UUIDConverter) for c in entry.pattern.converters.values()
            ):
                yield f"{namespace}{entry.name}", set(entry.pattern.converters), entry.callback

    return sorted(walk(get_resolver().url_patterns), key=lambda r: r[0])


# The portal's routes answer the signed-in client only (a staff session gets 404 there
# whatever the id): tests/portal/test_portal2_pages.py walks them for another client's ids.
ROUTES = [r for r in _uuid_routes() if not r[0].startswith("portal:")]
# Routes that only accept POST: the stranger check posts to them.
POST_ONLY = {
    "clients:care_team_end",
    "clients:emergency_review_mark",
    "scheduling:attendance_mark",
    "scheduling:attendance_all_present",
    "scheduling:appointment_cancel",
    "meds:measure_acknowledge",
    "meds:measure_assignment_end",
    "notes:group_autosave",
    "notes:appointment_autosave",
    "notes:appointment_no_show",
    "screening:selection_not_collected",
    "screening:selection_void",
    "screening:follow_up_acknowledge",
    "billing:claim_check",
    "billing:diagnosis_remove",
    "billing:intake_self_pay",
}


@pytest.fixture
def chart(clinician, intake_user):
    """A registered, consented, admitted client with alice as primary clinician."""
    client = services.client_register(
        actor=intake_user,
        legal_first_name="Zephyrine",
        legal_last_name="Quillmarsh",
        date_of_birth=date(1985, 4, 2),
        profession="nurse",
    )
    consent = services.consent_record(
        client=client,
        actor=intake_user,
        discloser="IOP",
        information_categories=[InformationCategory.ATTENDANCE],
        information_description="Attendance",
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Board of Nursing",
        purpose="Monitoring",
        expires_on=date.today() + timedelta(days=200),
        signed_by_name="Zephyrine Quillmarsh",
        signed_on=date.today(),
    )
    episode = services.episode_admit(
        client=client,
        actor=intake_user,
        admitted_on=date.today(),
        asam_level="2.1",
        dimension_ratings={f"d{i}": 1 for i in range(1, 7)},
    )
    member = services.care_team_add(
        client=client, staff=clinician, role=CareTeamRole.PRIMARY, actor=intake_user
    )
    group = GroupFactory(facilitator=clinician)
    enrollment_create(client=client, group=group, start_on=date.today(), actor=intake_user)
    # Under way (today, begun up to an hour ago): its sheet offers the attendance forms.
    begun = max(
        timezone.localtime() - timedelta(hours=1),
        local_datetime(timezone.localdate(), time(0)),
    )
    session = GroupSessionFactory(group=group, starts_at=begun, ends_at=begun + timedelta(hours=3))
    # Midday, clear of the group's evening slot whatever the hour the suite runs.
    start = local_datetime(timezone.localdate() + timedelta(days=2), time(12))
    appointment = appointment_book(
        client=client,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        actor=clinician,
    )
    # Drafts written straight to the table: the walk needs objects, not the note rules.
    group_note = ProgressNote.objects.create(
        kind="group", format="BIRP", author=clinician, session=session
    )
    note = ProgressNote.objects.create(
        kind="individual",
        format="DAP",
        author=clinician,
        appointment=appointment,
        client=client,
    )
    access = services.emergency_access_open(
        client=client,
        actor=UserFactory(username="glass", roles=["clinician"]),
        reason="Collapsed in the lobby; paramedics ask about medication.",
    )
    plan = services_plans.treatment_plan_save_draft(
        episode=episode,
        content={
            "problems": [
                {
                    "dimension": "d5",
                    "problem": "Cravings after late shifts",
                    "goal": "No use",
                    "objectives": [{"text": "Call sponsor", "target_on": date.today()}],
                }
            ]
        },
        revision=0,
        actor=clinician,
    )
    plan_version = services_plans.treatment_plan_review(
        plan=plan,
        of_version=0,
        client_agreement="agrees",
        client_signed_on=date.today(),
        actor=clinician,
    )
    relapse_version = services_plans.relapse_plan_save(
        client=client,
        content={"warning_signs": ["Skipping meetings"], "coping_strategies": ["Call sponsor"]},
        of_version=0,
        actor=clinician,
    )
    medication = medication_add(
        client=client,
        mat_agent="buprenorphine",
        dose="8 mg",
        schedule="daily",
        outside_prescriber="Dr Outside",
        started_on=date.today(),
        actor=clinician,
    )
    measure = measure_record(
        client=client,
        instrument="phq9",
        administered_on=date.today(),
        items={str(n): 1 for n in range(1, 10)},
        actor=clinician,
    )
    assignment = measure_assign(client=client, instrument="gad7", every_days=14, actor=clinician)
    # An attendance letter the client asked for under the consent, approved by the team.
    letter = letter_services.letter_request(
        client=client,
        consent=consent,
        period_start=date.today(),
        period_end=date.today(),
        include_screens=False,
        audit=AuditContext.client_self(client.public_id),
    )
    letter_services.letter_approve(letter=letter, actor=clinician)
    # A finished report run of alice's: a run belongs to its owner, not to a client.
    run = ReportRun.objects.create(
        report="attendance",
        owner=clinician,
        filters={"start": "2026-09-07", "end": "2026-09-20"},
        status=RunStatus.DONE,
        progress=100,
        file_name=report_storage().save(f"walk/{uuid.uuid4()}.csv", ContentFile(b"mrn\n")),
        expires_at=timezone.now() + timedelta(hours=24),
    )
    selection = selection_for(client)
    urine = collect(client, clinician)  # collected, results not yet in
    positive = collect(client, clinician)
    screening.urine_results_record(
        screen=positive,
        # With the buprenorphine the client takes (and its metabolite): one follow-up.
        results=all_negative(
            positive,
            cocaine=("positive", 420),
            buprenorphine=("positive", None),
            norbuprenorphine=("positive", None),
        ),
        actor=clinician,
    )
    breath = screening.breath_record(
        client=client,
        tested_at=timezone.now() - timedelta(minutes=5),
        bac="0.045",
        device="Alco-Sensor",
        actor=clinician,
    )
    # Billing's objects (issue 22): a payer, the client's coverage, an authorization, a
    # diagnosis on the episode; written straight to the tables, as the drafts above.
    payer = Payer.objects.create(
        code="WALK-COMM", name="Walk Health", payer_id="WALK1", filing_indicator="CI"
    )
    coverage = Coverage.objects.create(
        client=client,
        payer=payer,
        member_id="W123",
        effective_on=date.today() - timedelta(days=30),
        created_by=intake_user,
    )
    authorization = Authorization.objects.create(
        client=client,
        payer=payer,
        service_code="H0015",
        units_approved=20,
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=60),
        reference="AUTH-1",
        created_by=intake_user,
    )
    diagnosis = Diagnosis.objects.create(
        episode=episode,
        code="F10.20",
        description="Alcohol dependence, uncomplicated",
        principal=True,
        added_on=date.today(),
        added_by=intake_user,
    )
    # A held claim of the client's (billing's "Check again").
    claim = Claim.objects.create(
        client=client, payer=payer, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
    )
    return {
        "claim_id": claim.public_id,
        "coverage_id": coverage.public_id,
        "authorization_id": authorization.public_id,
        "diagnosis_id": diagnosis.public_id,
        "run_id": run.public_id,
        "selection_id": selection.public_id,
        "screen_id": urine.public_id,
        "breath_id": breath.public_id,
        "follow_up_id": positive.follow_ups.get().public_id,
        "plan_version_id": plan_version.public_id,
        "relapse_version_id": relapse_version.public_id,
        "medication_id": medication.public_id,
        "measure_id": measure.public_id,
        "assignment_id": assignment.public_id,
        "letter_id": letter.public_id,
        "appointment_id": appointment.public_id,
        "access_id": access.public_id,
        "session_id": session.public_id,
        "client_id": client.public_id,
        "consent_id": consent.public_id,
        "episode_id": episode.public_id,
        "member_id": member.public_id,
        "note_id": note.public_id,
        "group_note_id": group_note.public_id,
    }


def _url(name, kwargs, objects):
    missing = kwargs - set(objects)
    assert not missing, f"{name}: add a fixture object for {missing} in this test"
    return reverse(name, kwargs={k: objects[k] for k in kwargs})


def test_the_url_configuration_has_client_routes():
    names = {name for name, _, _ in ROUTES}
    assert {
        "clients:chart",
        "clients:consent_add",
        "clients:care_team",
        "scheduling:attendance_sheet",
        "scheduling:appointment_cancel",
        "clients:emergency_review_mark",
    } <= names


@pytest.mark.parametrize(("name", "kwargs", "callback"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_uuid_route_goes_through_the_access_path(name, kwargs, callback):
    assert getattr(callback, "access_checked", False), f"{name} skips clients.access"


def _audit_prefix(callback) -> str:
    """What the access row is called: ``access.<purpose>``, except where reaching the
    page is itself the audited act (a report's file: ``report.download``)."""
    action = getattr(callback, "audit_action", "access.")
    return "access." if action.startswith("access.") else action.split(".")[0] + "."


STRANGER_ROLES = ["clinician", "intake", "medical", "supervisor", "billing"]


def _is_billing(callback) -> bool:
    return getattr(callback, "access_checked", None) == Purpose.BILLING


@pytest.mark.parametrize("role", STRANGER_ROLES)
@pytest.mark.parametrize(("name", "kwargs", "callback"), ROUTES, ids=[r[0] for r in ROUTES])
def test_stranger_gets_404_and_the_attempt_is_audited(name, kwargs, callback, role, chart):
    """Each role with no reason, with its own valid CSRF token, on GET and POST. The
    billing role is a stranger to every page but billing's (its reason there is the
    client's open episode: tests/billing/test_access.py walks it out of reach)."""
    if role == "billing" and _is_billing(callback):
        pytest.skip("the billing role's own pages: walked in tests/billing/test_access.py")
    stranger = UserFactory(username=f"stranger-{role}", roles=[role])
    web = Client(enforce_csrf_checks=True)
    web.force_login(stranger)
    web.get(reverse("dashboard"))
    token = web.cookies["csrftoken"].value
    url = _url(name, kwargs, chart)
    attempts = [web.post(url, {"csrfmiddlewaretoken": token, "reason": "x" * 40})]
    if name not in POST_ONLY:
        attempts.append(web.get(url))
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    denied = AuditEvent.objects.filter(actor=stranger, outcome="denied")
    assert denied.count() == len(attempts)
    assert all(e.action.startswith(_audit_prefix(callback)) for e in denied)


@pytest.mark.parametrize(("name", "kwargs", "callback"), ROUTES, ids=[r[0] for r in ROUTES])
def test_care_team_gets_the_page_and_the_access_is_audited(
    name, kwargs, callback, chart, client_as, clinician, billing_user
):
    if name in POST_ONLY:
        pytest.skip("POST-only action; its allowed path is tested with its service")
    # Billing's pages are the billing role's (the care team holds no BILLING).
    if _is_billing(callback):
        clinician = billing_user
    web = client_as(clinician)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = web.get(_url(name, kwargs, chart))
    assert response.status_code == 200
    # Opening a page is one access row and no write.
    rows = AuditEvent.objects.filter(actor=clinician, id__gt=before)
    assert [(e.action, e.outcome) for e in rows if e.action.startswith(_audit_prefix(callback))]
    assert [(e.action.split(".")[0], e.outcome) for e in rows] == [
        (_audit_prefix(callback).rstrip("."), "allowed")
    ]


def test_unknown_client_id_is_404_and_audited_without_a_client(client_as, clinician):
    response = client_as(clinician).get(reverse("clients:chart", args=[uuid.uuid4()]))
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="access.chart")
    assert (event.outcome, event.client_id) == ("denied", None)


def test_a_404_page_does_not_name_the_client(chart, client_as, other_clinician):
    html = client_as(other_clinician).get(reverse("clients:chart", args=[chart["client_id"]]))
    assert "Zephyrine" not in html.content.decode()
    assert "Quillmarsh" not in html.content.decode()
