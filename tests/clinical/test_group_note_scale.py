"""The group note form at clinic scale (issue 13): its roster is read by key, not by
reading every client in the clinic, and each attending client's "last plan" is the
plan of their latest signed note, group or individual, for a viewer holding CLINICAL
on the client; of their latest group note for a facilitator who does not (issue 18)."""

import json
from datetime import time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinical.notes import services
from clinical.notes.selectors import group_note_rows
from scheduling import services as scheduling
from scheduling.models import local_datetime
from tests.clients.factories import ClientFactory, with_care_team
from tests.clinical.notes_factories import (
    complete_content,
    group_session,
    individual_content,
    section,
)
from tests.iop.factories import PASSWORD
from tests.scheduling.factories import GroupSessionFactory

pytestmark = pytest.mark.django_db


def _scans(node, table):
    if node.get("Relation Name") == table:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child, table)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_group_note_roster_reads_its_own_clients_only(clinician, admin_user, client_as):
    """ "In the roster OR marked on the sheet" cannot be answered from an index: the
    roster query read every client in the clinic and priced its plan subqueries for
    each, which at 5,000 clients made PostgreSQL JIT-compile it (about half a second
    for a 12-client group). It is now a UNION of two index lookups: no client outside
    the session is read and thrown away."""
    session, present, absent = group_session(clinician, admin_user, 3, absent=1)
    ClientFactory.create_batch(20, status="active")  # the rest of the clinic
    url = reverse("notes:group_note", args=[session.public_id])
    http = client_as(clinician)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    [roster] = [q["sql"] for q in queries if q["sql"].startswith('SELECT "clients_client"."id"')]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + roster)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = list(_scans(plan[0]["Plan"], "clients_client"))
    assert scans and all(scan.get("Rows Removed by Filter", 0) == 0 for scan in scans), [
        (scan["Node Type"], scan.get("Rows Removed by Filter")) for scan in scans
    ]
    assert sum(scan["Actual Rows"] * scan["Actual Loops"] for scan in scans) == len(present) + len(
        absent
    )


def _past_session(group, days_ago):
    return GroupSessionFactory(group=group, date=timezone.localdate() - timedelta(days=days_ago))


def _sign_individual(client, clinician, plan, *, at, kind="individual"):
    """An individual note, signed now, for a session yesterday at ``at`` local time:
    a fixed hour, away from the group's daily evening slot whenever the test runs."""
    start = local_datetime(timezone.localdate() - timedelta(days=1), at)
    appointment = scheduling.appointment_book(
        client=client,
        clinician=clinician,
        kind=kind,
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )
    body = {"subjective": "Cravings in the evening.", "assessment": "Engaged."}
    content = individual_content(
        appointment, plan=plan, **({"body": body} if kind == "medication" else {})
    )
    note = services.appointment_note_save(appointment=appointment, content=content, actor=clinician)
    return services.note_sign(note=note, actor=clinician, password=PASSWORD)


def test_each_clients_last_plan_is_from_their_latest_signed_note_of_either_kind(
    clinician, admin_user, client_as
):
    session, (ana, ben, cy), _ = group_session(clinician, admin_user, 3, names=["Ana", "Ben", "Cy"])
    earlier = _past_session(session.group, days_ago=2)
    for client in (ana, ben):
        scheduling.attendance_record(
            session=earlier, client=client, status="present", minutes=None, actor=clinician
        )
    # Ana: an individual note, then the earlier group note. Ben: the other way round.
    _sign_individual(ana, clinician, "Ana's individual plan", at=time(9))
    group_note = services.group_note_save(
        session=earlier,
        content=complete_content(earlier),
        sections={c: section(c, plan=f"{c.preferred_name}'s group plan") for c in (ana, ben)},
        actor=clinician,
    )
    services.note_sign(note=group_note, actor=clinician, password=PASSWORD)
    _sign_individual(ben, clinician, "Ben's individual plan", at=time(15))
    # Today's own draft is not anyone's last plan.
    services.group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c, plan="Today's draft plan") for c in (ana, ben, cy)},
        actor=clinician,
    )

    response = client_as(clinician).get(reverse("notes:group_note", args=[session.public_id]))
    assert response.status_code == 200
    page = response.content.decode()
    shown = [
        line.split("Last plan:", 1)[1].split("<", 1)[0].strip()
        for line in page.splitlines()
        if 'data-testid="last-plan"' in line
    ]
    # Rows in the roster's order (last name, first name).
    by_name = dict(
        zip(
            sorted((ana, ben, cy), key=lambda c: (c.legal_last_name, c.legal_first_name)),
            shown,
            strict=True,
        )
    )
    assert unescape(by_name[ana]) == "Ana's group plan"
    assert unescape(by_name[ben]) == "Ben's individual plan"
    assert by_name[cy] == "none yet"


def _last_plan_shown(http, session) -> str:
    response = http.get(reverse("notes:group_note", args=[session.public_id]))
    assert response.status_code == 200
    [line] = [
        line for line in response.content.decode().splitlines() if 'data-testid="last-plan"' in line
    ]
    return unescape(line.split("Last plan:", 1)[1].split("<", 1)[0].strip())


def test_a_facilitator_without_clinical_access_sees_the_plan_of_group_notes_only(
    clinician, other_clinician, medical_user, admin_user, client_as
):
    """Bob facilitates the group and is on no care team (attendance only): another
    clinician's later medication note is not his to read, so Ana's last plan for him is
    her last group note's. Alice, her primary clinician and a co-facilitator, holds
    CLINICAL and sees the latest of any kind."""
    session, (ana,), _ = group_session(
        other_clinician, admin_user, 1, names=["Ana"], care_team=False
    )
    session.group.facilitators.add(clinician)
    with_care_team(ana, clinician)
    with_care_team(ana, medical_user, "prescriber")
    earlier = _past_session(session.group, days_ago=2)
    scheduling.attendance_record(
        session=earlier, client=ana, status="present", minutes=None, actor=other_clinician
    )
    group_note = services.group_note_save(
        session=earlier,
        content=complete_content(earlier),
        sections={ana: section(ana, plan="Ana's group plan")},
        actor=other_clinician,
    )
    services.note_sign(note=group_note, actor=other_clinician, password=PASSWORD)
    _sign_individual(ana, medical_user, "start naltrexone 50 mg", at=time(9), kind="medication")

    bobs = client_as(other_clinician)
    assert _last_plan_shown(bobs, session) == "Ana's group plan"
    assert (
        "naltrexone"
        not in bobs.get(reverse("notes:group_note", args=[session.public_id])).content.decode()
    )
    assert _last_plan_shown(client_as(clinician), session) == "start naltrexone 50 mg"
    # The selector, asked for an admin (every purpose) and for no one in particular.
    for viewer in (admin_user, None):
        [row], _ = group_note_rows(session, None, viewer=viewer)
        assert row.last_plan == "start naltrexone 50 mg"
    [row], _ = group_note_rows(session, None, viewer=other_clinician)
    assert row.last_plan == "Ana's group plan"


def _structured_group(clinician, admin_user, size):
    """A session of ``size`` clients, each with a plan in force and a section of choices
    with progress on one of its objectives (issue 20)."""
    from clinical.plans.objectives import plan_objectives
    from tests.clinical.plans_factories import signed_plan

    session, present, _ = group_session(clinician, admin_user, size)
    for client in present:
        signed_plan(client, clinician, "Attend 3 groups a week", "Call a sponsor daily")
    objectives = plan_objectives([c.pk for c in present])
    sections = {
        c: section(c, objective=objectives[c.pk].key(1), progress_rating="progressing")
        for c in present
    }
    note = services.group_note_save(
        session=session, content=complete_content(session), sections=sections, actor=clinician
    )
    return session, present, note


def _queries(http, url):
    http.get(url)  # the session's last-seen write happens on the first request
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_group_note_of_choices_reads_in_the_same_queries_for_3_or_10_clients(
    clinician, admin_user, client_as, settings
):
    """The form (each client's objectives to choose from, the completeness list), the
    signed note's sentences (each objective's words read from its plan version) and the
    sign page: none asks the database once per client."""
    # The session's last-seen write is not the page's (conftest: pinned counts).
    settings.IOP_SESSION_TOUCH_SECONDS = 24 * 3600
    http = client_as(clinician)
    counts = {}
    for size in (3, 10):
        session, present, note = _structured_group(clinician, admin_user, size)
        form, html = _queries(http, reverse("notes:group_note", args=[session.public_id]))
        assert html.count("Call a sponsor daily") >= size  # each client's choice, checked
        sign, _ = _queries(http, reverse("notes:group_sign", args=[session.public_id]))
        services.note_sign(note=note, actor=clinician, password=PASSWORD)
        signed, html = _queries(http, reverse("notes:group_note", args=[session.public_id]))
        assert html.count("Progress toward \u201cCall a sponsor daily\u201d: progressing") == size
        counts[size] = (form, sign, signed)
    print(f"group note queries (form, sign, signed) 3 clients={counts[3]}, 10={counts[10]}")
    assert counts[3] == counts[10]
