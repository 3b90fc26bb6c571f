"""The read audit of pages that show clients (README, "Audit trail"): one row for the
page with the count of clients shown, naming none; and one access row per client the
page shows clinical content about (a safety flag, a screen, what is due), naming the
client. All in one append whatever the number of clients.

``tests/test_crawl.py`` checks every page each demo account reaches; these tests pin
the rule itself, and the pages the demo leaves empty (tasks, the outbox) or the crawl
does not run (each registered report)."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clinical.meds.services import measure_record
from iop import dashboard
from iop.audit.models import AuditEvent
from iop.audit.services import LIST_ACTION, AuditContext, audit_shown, audit_verify_chain
from iop.notifications.models import Channel, OutboxMessage, OutboxStatus
from iop.reports.registry import REPORTS
from tests.clinical.factories_meds import phq9, treated_client
from tests.iop.test_staff_tasks import make_task

pytestmark = pytest.mark.django_db


def _rows_since(last_id):
    return list(AuditEvent.objects.filter(id__gt=last_id).order_by("id"))


def _last_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _count(event) -> int:
    return int(re.search(r"clients=(\d+)", event.detail).group(1))


# --- The rule, in the one helper ----------------------------------------------------------


def test_one_row_for_the_page_with_the_count_and_one_per_client_shown_clinically(clinician):
    listed = [treated_client(clinician) for _ in range(3)]
    flagged = [treated_client(clinician) for _ in range(2)]
    before = _last_id()
    written = audit_shown(
        audit=AuditContext(actor=clinician, ip_address="10.0.0.5"),
        page="dashboard",
        # A client shown in both ways is one client, with a row of their own.
        listed=[*listed, flagged[0]],
        clinical=flagged,
    )
    page, *own = _rows_since(before)
    assert written == 3
    assert (page.action, page.client_id, page.actor) == (LIST_ACTION, None, clinician)
    assert page.detail == "page=dashboard; clients=5; clinical=2"
    assert [(e.action, e.client_id, e.detail) for e in own] == [
        (LIST_ACTION, client.public_id, "page=dashboard; clinical") for client in flagged
    ]
    assert {e.ip_address for e in own} == {"10.0.0.5"}
    # No name or MRN anywhere in the rows: the count and the opaque ids only.
    words = [c.legal_last_name for c in listed + flagged] + [c.mrn for c in listed + flagged]
    assert not any(word in e.detail for e in (page, *own) for word in words)


def test_a_page_that_shows_nobody_still_writes_its_row(clinician):
    before = _last_id()
    audit_shown(audit=AuditContext(actor=clinician), page="clients:caseload")
    [page] = _rows_since(before)
    assert (page.client_id, _count(page)) == (None, 0)


def test_many_rows_in_one_append_keep_the_chain(clinician):
    audit_shown(
        audit=AuditContext(actor=clinician),
        page="screening:collection_list",
        clinical=[uuid.uuid4() for _ in range(150)],  # more than one SQLite statement holds
    )
    checked, broken = audit_verify_chain(checkpoints=[])
    assert broken is None and checked >= 151


def test_the_append_costs_the_same_for_one_client_and_for_two_hundred(
    clinician, django_assert_num_queries, read_audit_queries
):
    audit = AuditContext(actor=clinician)
    for n in (1, 200):
        with django_assert_num_queries(read_audit_queries):
            audit_shown(audit=audit, page="x", clinical=[uuid.uuid4() for _ in range(n)])


def test_a_client_with_a_row_of_their_own_is_named_by_public_id(clinician):
    with pytest.raises(ValueError, match="public id"):
        audit_shown(audit=AuditContext(actor=clinician), page="x", clinical=["D1001"])


# --- The dashboard: clinical sections name their clients ----------------------------------


def test_the_dashboard_names_flagged_clients_and_counts_the_caseload(clinician, client_as):
    flagged, quiet = treated_client(clinician), treated_client(clinician)
    measure_record(
        client=flagged,
        instrument="phq9",
        administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2),
        actor=clinician,
    )
    web = client_as(clinician)
    before = _last_id()
    html = web.get(reverse("dashboard")).content.decode()
    assert flagged.mrn in html and quiet.mrn in html  # the flag, and the caseload
    rows = [e for e in _rows_since(before) if e.actor == clinician]
    assert [e.client_id for e in rows if e.client_id] == [flagged.public_id]
    [page] = [e for e in rows if e.client_id is None]
    assert (page.action, _count(page)) == (LIST_ACTION, 2)
    assert page.detail.startswith("page=dashboard;")


def test_the_sections_showing_clinical_content_say_so():
    """Safety flags (a PHQ-9 item 9 answer), screens to follow up (an unexpected
    positive, a refusal), the medical staff's collections today (who is selected for a
    test, and its status) and clients on MAT (a medication) are clinical content; the
    caseload, plans due, notes waiting and authorizations needing attention show names
    and dates."""
    clinical = {s.key for s in dashboard.SECTIONS if s.clinical}
    assert clinical == {"safety_flags", "screen_follow_ups", "collection_today", "mat_clients"}
    listing = {s.key for s in dashboard.SECTIONS if s.clients is not None and not s.clinical}
    # Billing's authorization warnings (issue 22): names, codes, units and dates.
    assert {"caseload", "intake", "plans_due", "cosign", "my_notes", "authorizations"} == listing


def test_every_section_says_which_clients_it_shows(clinician, supervisor, intake_user):
    """A section whose context lists clients declares them: rendered for each role, a
    section without ``clients`` shows no client's MRN."""
    client = treated_client(clinician)
    for user in (clinician, supervisor, intake_user):
        request = RequestFactory().get("/")
        request.user, request.session = user, {}
        for section in dashboard.SECTIONS:
            if section.clients is not None or section.context is None:
                continue
            context = section.context(request)
            assert client.mrn not in repr(context), section.key


# --- The pages the demo leaves empty ------------------------------------------------------


def test_the_task_list_names_each_client_it_shows(clinician, other_clinician, client_as):
    mine = [treated_client(clinician) for _ in range(3)]
    for client in mine:
        make_task(clinician, client)
    make_task(clinician, mine[0], kind="clinical.measure_due")  # one client, two tasks
    make_task(clinician)  # a task about no client
    make_task(clinician, treated_client(other_clinician))  # no longer openable: not named
    web = client_as(clinician)
    before = _last_id()
    assert web.get(reverse("notifications:tasks")).status_code == 200
    rows = _rows_since(before)
    assert {e.client_id for e in rows if e.client_id} == {c.public_id for c in mine}
    [page] = [e for e in rows if e.client_id is None]
    assert (_count(page), page.detail.split(";")[0]) == (3, "page=notifications:tasks")


def test_the_outbox_counts_the_clients_its_messages_go_to(admin_user, clinician, client_as):
    for client in (treated_client(clinician), treated_client(clinician)):
        OutboxMessage.objects.create(
            idempotency_key=f"test:{uuid.uuid4()}",
            audience="client",
            client=client.public_id,
            channel=Channel.SMS,
            recipient="+16175550134",
            subject="Reminder",
            body="Your group meets tomorrow at 18:00.",
            scheduled_for=timezone.now(),
            status=OutboxStatus.SENT,
        )
    web = client_as(admin_user)
    before = _last_id()
    assert web.get(reverse("notifications:outbox")).status_code == 200
    [page] = _rows_since(before)
    assert (page.action, page.client_id, _count(page)) == ("outbox.view", None, 2)
    assert "filters=" in page.detail


def test_the_appointment_form_counts_the_clients_it_offers(clinician, client_as):
    offered = [treated_client(clinician) for _ in range(2)]
    web = client_as(clinician)
    before = _last_id()
    html = web.get(reverse("scheduling:appointment_new")).content.decode()
    assert all(client.mrn in html for client in offered)  # the client choices
    [page] = _rows_since(before)
    assert (page.client_id, _count(page)) == (None, 2)


def test_the_emergency_review_names_each_client(admin_user, clinician, client_as):
    from clients.models import EmergencyAccess

    client = treated_client(clinician)
    EmergencyAccess.objects.create(
        client=client,
        staff=clinician,
        reason="Collapsed in the lobby; paramedics ask about medication.",
        expires_at=timezone.now() + timedelta(minutes=60),
    )
    web = client_as(admin_user)
    before = _last_id()
    assert web.get(reverse("clients:emergency_review")).status_code == 200
    assert [e.client_id for e in _rows_since(before) if e.client_id] == [client.public_id]


# --- Reports: every registered report says which clients it shows -------------------------


def test_each_report_says_which_clients_it_shows():
    """A report that lists clients declares them; the screening report (each client's
    last unexpected positive) is clinical content, the others names, MRNs and figures."""
    declared = {key for key, report in REPORTS.items() if report.clients is not None}
    assert declared == {"attendance", "billable-days", "documentation", "screening"}
    assert {key for key, report in REPORTS.items() if report.clinical} == {"screening"}
