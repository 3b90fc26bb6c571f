"""Query counts of the group note form and of the notes timeline do not grow with
the size of the group or the length of the chart."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinical.notes.models import Addendum, GroupNoteSection, ProgressNote, service_start
from clinical.notes.selectors import chart_notes
from clinical.notes.services import ADDENDUM_ATTESTATION, ATTESTATION, group_note_save
from scheduling.models import Appointment, GroupSession, local_datetime
from tests.clients.factories import ClientFactory
from tests.clinical.notes_factories import (
    client_with_team,
    complete_content,
    group_session,
    modality,
    section,
    signed_group_note,
)
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db

# Every page: the session row, the user with their roles, their authenticator devices (3);
# the access rows, one per client shown in one INSERT: savepoint, chain lock, chain head,
# insert, release (5 on PostgreSQL).
# The group note page adds: the session with its group (1) and the facilitator check
# of the access path (1); the note with author, modality and topic (1), its sections
# with their clients and its addenda (2); the roster with each client's last plan (1)
# and this session's attendance (1); the objectives of every client's plan in force
# (1, clinical.plans.objectives); the session plan (1), the page's facilitator check (1), the
# modality and topic choices (2).
GROUP_NOTE_QUERIES = 20
# The notes timeline adds: the client with every grant (1); the notes with author,
# signer, co-signer, modality, topic, session and appointment (1), this client's
# sections (1), the addenda with their authors (1).
TIMELINE_QUERIES = 12


def _count(http, url):
    # A request first: building the group may take over 5 s on a busy machine, and the
    # request after that saves the session's last-seen time (SessionLimitsMiddleware).
    http.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries), response


def _group_note_url(session):
    return reverse("notes:group_note", args=[session.public_id])


def test_the_group_note_form_does_not_grow_with_the_group(
    clinician, admin_user, client_as, django_assert_max_num_queries
):
    http = client_as(clinician)
    counts = {}
    for size in (2, 12):
        session, present, _ = group_session(clinician, admin_user, size)
        group_note_save(
            session=session,
            content=complete_content(session),
            sections={c: section(c) for c in present},
            actor=clinician,
        )
        counts[size], response = _count(http, _group_note_url(session))
        assert len(re.findall(r'name="[0-9a-f-]{36}-response"', response.content.decode())) == size
        with django_assert_max_num_queries(GROUP_NOTE_QUERIES):
            http.get(_group_note_url(session))
    print(f"group note form queries: 2 clients={counts[2]}, 12 clients={counts[12]}")
    assert counts[2] == counts[12]


def _notes_for(client, clinician, count):
    """``count`` signed notes in ``client``'s chart: half from appointments, half group
    notes with this client's section and another client's."""
    now = timezone.now().replace(microsecond=0)
    other = ClientFactory(status="active")
    group = GroupFactory(facilitator=clinician)
    existing = ProgressNote.objects.count()
    appointments = Appointment.objects.bulk_create(
        Appointment(
            kind="individual",
            client=client,
            clinician=clinician,
            starts_at=now - timedelta(days=400 + existing + i),
            ends_at=now - timedelta(days=400 + existing + i) + timedelta(hours=1),
            status="completed",
            booked_by=clinician,
        )
        for i in range(count // 2)
    )
    today = timezone.localdate()
    sessions = GroupSession.objects.bulk_create(
        GroupSession(
            group=group,
            date=today - timedelta(days=1 + i),
            starts_at=local_datetime(today - timedelta(days=1 + i), group.slot.start_time),
            ends_at=local_datetime(today - timedelta(days=1 + i), group.slot.end_time),
            room=group.room,
        )
        for i in range(count - count // 2)
    )
    signed = {
        "status": "signed",
        "signed_at": now,
        "signed_by": clinician,
        "attestation": ATTESTATION,
        "author": clinician,
        "modality": modality(),
        "interventions": ["psychoeducation"],
        "plan": "Plan.",
    }
    notes = [
        ProgressNote(kind="individual", format="DAP", appointment=a, client=client, **signed)
        for a in appointments
    ]
    group_notes = [
        ProgressNote(kind="group", format="BIRP", session=s, narrative="Group.", **signed)
        for s in sessions
    ]
    # Sections go in while the notes are drafts (the trigger refuses sections of a
    # signed note), so the group notes are written as drafts and signed after.
    for note in group_notes:
        note.status, note.signed_at, note.signed_by = "draft", None, None
    ProgressNote.objects.bulk_create(notes + group_notes)
    GroupNoteSection.objects.bulk_create(
        GroupNoteSection(note=n, client=c, response=f"{c.pk} response", plan="p")
        for n in group_notes
        for c in (client, other)
    )
    # Signed as the service signs: the author's account needs a co-signature.
    ProgressNote.objects.filter(pk__in=[n.pk for n in group_notes]).update(
        status="signed",
        signed_at=now,
        signed_by=clinician,
        cosign_required=True,
        cosign_status="pending",
    )
    return other


def test_the_notes_timeline_does_not_grow_with_the_chart(
    clinician, client_as, django_assert_max_num_queries
):
    client = client_with_team(clinician)
    http = client_as(clinician)
    timeline = reverse("notes:client_notes", args=[client.public_id])
    chart = reverse("clients:chart", args=[client.public_id])
    counts = {}
    other = _notes_for(client, clinician, 10)
    counts[10] = (_count(http, timeline)[0], _count(http, chart)[0])
    _notes_for(client, clinician, 190)
    (counts[200], response) = _count(http, timeline)[0], _count(http, timeline)[1]
    counts[200] = (counts[200], _count(http, chart)[0])
    assert len(re.findall(r'data-testid="note-[0-9a-f]{8}-', response.content.decode())) == 200
    assert f"{other.pk} response" not in response.content.decode()
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        http.get(timeline)
    print(f"notes timeline queries (page, chart): 10 notes={counts[10]}, 200 notes={counts[200]}")
    assert counts[10] == counts[200]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_charts_notes_are_found_by_index_not_by_reading_every_note(clinician):
    """Issue 13: "client = x OR id IN (x's sections)" cannot be answered from an index,
    so PostgreSQL read every note in the clinic for each chart. The chart's notes are
    now the UNION of two index lookups, the newest picked among those ids: no note of
    another client is read and filtered out."""
    import json

    from clinical.notes.selectors import chart_notes

    client = client_with_team(clinician)
    _notes_for(client, clinician, 6)
    _notes_for(client_with_team(clinician), clinician, 6)  # someone else's notes
    notes = chart_notes(client, limit=4)
    sql, params = notes.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def note_scans(node):
        if node.get("Relation Name") == "clinical_progressnote":
            yield node
        for child in node.get("Plans", []):
            yield from note_scans(child)

    scans = list(note_scans(plan[0]["Plan"]))
    # Every read of the notes table finds its rows by key: none is read and thrown away.
    assert scans and all(scan.get("Rows Removed by Filter", 0) == 0 for scan in scans), [
        (scan["Node Type"], scan.get("Rows Removed by Filter")) for scan in scans
    ]
    mine = set(ProgressNote.objects.filter(client=client).values_list("pk", flat=True))
    mine |= set(GroupNoteSection.objects.filter(client=client).values_list("note_id", flat=True))
    # The newest by date of service (not by when written).
    newest = ProgressNote.objects.filter(pk__in=mine).order_by(service_start().desc(), "-pk")
    assert [n.pk for n in notes] == list(newest.values_list("pk", flat=True)[:4])


def _addenda(other, clinician):
    """On each group note ``other`` is in: an addendum to the narrative and one to each
    client's section (the chart's client and ``other``)."""
    now = timezone.now()
    notes = list(ProgressNote.objects.filter(sections__client=other))
    sections = GroupNoteSection.objects.filter(note__in=notes)
    signed = {"author": clinician, "signed_at": now, "attestation": ADDENDUM_ATTESTATION}
    Addendum.objects.bulk_create(
        [Addendum(note=n, text="Narrative addendum.", **signed) for n in notes]
        + [
            Addendum(note_id=s.note_id, section=s, text=f"{s.client_id} section addendum", **signed)
            for s in sections
        ]
    )


def test_section_addenda_stay_on_their_own_chart_in_the_same_queries(
    clinician, client_as, django_assert_max_num_queries
):
    """The chart's one addenda query brings the narrative's addenda and this client's
    sections' only: another client's section addendum never leaves the database, and
    the count does not grow with the chart or its addenda."""
    client = client_with_team(clinician)
    http = client_as(clinician)
    timeline = reverse("notes:client_notes", args=[client.public_id])
    chart = reverse("clients:chart", args=[client.public_id])
    others = [_notes_for(client, clinician, 10)]
    _addenda(others[0], clinician)
    counts = {10: (_count(http, timeline)[0], _count(http, chart)[0])}
    others.append(_notes_for(client, clinician, 190))
    _addenda(others[1], clinician)
    timeline_queries, response = _count(http, timeline)
    chart_queries, chart_response = _count(http, chart)
    counts[200] = (timeline_queries, chart_queries)
    html = response.content.decode()
    assert html.count("Narrative addendum.") == 100  # one per group note
    assert html.count(f"{client.pk} section addendum") == 100
    for other in others:
        assert f"{other.pk} section addendum" not in html
        assert f"{other.pk} section addendum" not in chart_response.content.decode()
    # Not only hidden by the page: the chart's query never loads them.
    own_sections = set(GroupNoteSection.objects.filter(client=client).values_list("pk", flat=True))
    loaded = {a.section_id for note in chart_notes(client) for a in note.addenda.all()}
    assert None in loaded and loaded - {None} <= own_sections
    with django_assert_max_num_queries(TIMELINE_QUERIES):
        http.get(timeline)
    print(f"notes timeline with addenda (page, chart): 10 notes={counts[10]}, 200={counts[200]}")
    assert counts[10] == counts[200]


def test_a_signed_group_notes_addenda_add_no_query_per_client(
    clinician, supervisor, admin_user, client_as, django_assert_max_num_queries
):
    """The group note page (read, or printed) and the co-sign page place each addendum
    under the narrative or its section from the addenda loaded once."""
    counts = {}
    for size in (2, 12):
        session, present, _ = group_session(clinician, admin_user, size)
        note = signed_group_note(session, present, clinician)
        _addenda(present[0], clinician)
        note_page = _count(client_as(clinician), _group_note_url(session))
        cosign_page = _count(
            client_as(supervisor), reverse("notes:group_cosign", args=[note.public_id])
        )
        for _queries, response in (note_page, cosign_page):
            html = response.content.decode()
            assert html.count('data-testid="section-addendum"') == size
            assert html.count("Narrative addendum.") == 1
        counts[size] = (note_page[0], cosign_page[0])
        http = client_as(clinician)
        http.get(_group_note_url(session))  # the first request after signing in
        with django_assert_max_num_queries(GROUP_NOTE_QUERIES):
            http.get(_group_note_url(session))
    print(f"signed group note (page, co-sign): 2 clients={counts[2]}, 12 clients={counts[12]}")
    assert counts[2] == counts[12]
