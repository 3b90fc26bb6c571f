"""Before a note is signed: copied text and another member's name (clinical/notes/checks.py),
each warning acknowledged on the sign page, kept as a code (never the text, never a name)
and counted by the documentation compliance report."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clinical import reports
from clinical.notes import checks, services
from clinical.notes.models import NoteStatus, ProgressNote, SignedNoteLocked, SignWarning
from iop.audit.models import AuditEvent
from scheduling import services as scheduling
from scheduling.models import local_datetime
from tests.clinical.notes_factories import (
    client_with_team,
    complete_content,
    group_session,
    individual,
    individual_content,
    past_appointment,
    section,
    sign_acknowledging,
)
from tests.iop.factories import PASSWORD
from tests.iop.report_csv import report_csv_rows
from tests.scheduling.factories import GroupSessionFactory

TEN_SAME = "Engaged in the role play and named a plan for the weekend."


def _named(clients, names):
    """Give ``clients`` these (first, last, preferred) names, so no random name of a
    test's fake people meets a word of its text."""
    for client, (first, last, preferred) in zip(clients, names, strict=True):
        Client.objects.filter(pk=client.pk).update(
            legal_first_name=first, legal_last_name=last, preferred_name=preferred
        )
        client.refresh_from_db()
    return clients


def _plain_names(clients):
    return _named(clients, [(f"Zed{i}x", f"Quorn{i}y", "") for i in range(len(clients))])


def _draft(session, clients, clinician, *, narrative=None, **per_client):
    """A complete draft whose sections are each client's own, except the fields given:
    ``per_client[field]`` maps a client to that field's text."""
    sections = {}
    for client in clients:
        overrides = {k: v[client] for k, v in per_client.items() if client in v}
        sections[client] = section(client, **overrides)
    content = complete_content(session)
    if narrative is not None:
        content.narrative = narrative
    return services.group_note_save(
        session=session, content=content, sections=sections, actor=clinician
    )


def _kinds(warnings):
    return [(w.kind, w.field, len(w.places)) for w in warnings]


# --- Copied text -------------------------------------------------------------------------


def test_ten_identical_responses_give_one_warning_naming_ten_sections(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 10)
    _plain_names(clients)
    note = _draft(session, clients, clinician, response=dict.fromkeys(clients, TEN_SAME))
    warnings = checks.copied_text_warnings(note)
    assert _kinds(warnings) == [("copied_text", "response", 10)]
    labels = {p.label for p in warnings[0].places}
    assert labels == {f"{c.display_name} (MRN {c.mrn}): response" for c in clients}
    assert {p.anchor for p in warnings[0].places} == {f"id_{c.public_id}-response" for c in clients}


def test_near_identical_and_name_swapped_responses_are_copies(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 3)
    a, b, c = _named(clients, [("Ana", "Ames", ""), ("Ben", "Bryce", ""), ("Cy", "Cole", "")])
    note = _draft(
        session,
        clients,
        clinician,
        response={
            # one word dropped, case and punctuation changed: ratio above 90
            a: "Client was engaged and participated actively in the discussion of triggers.",
            b: "client was engaged and participated actively in discussion of triggers",
            # the same once normalised
            c: "Client was engaged and participated actively in the discussion of triggers!",
        },
        # a template with only the client's name changed
        plan={
            a: "Ana will call her sponsor every evening and bring the triggers log.",
            b: "Ben will call her sponsor every evening and bring the triggers log.",
        },
    )
    assert _kinds(checks.copied_text_warnings(note)) == [
        ("copied_text", "response", 3),
        ("copied_text", "plan", 2),
    ]


def test_ten_different_short_lines_give_none(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 10)
    _plain_names(clients)
    lines = [
        "Named two triggers.",
        "Named three triggers.",
        "Slept 5 hours.",
        "Slept 6 hours.",
        "Shared about work stress.",
        "Shared about family stress.",
        "Quiet, left early for a shift.",
        "Quiet, stayed to the end.",
        "Practised the breathing exercise.",
        "Asked about the next step down.",
    ]
    note = _draft(session, clients, clinician, response=dict(zip(clients, lines, strict=True)))
    assert checks.copied_text_warnings(note) == []
    assert checks.sign_warnings(note) == []


def test_empty_and_structured_fields_are_never_compared(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 4)
    _plain_names(clients)
    # the same risk screen everywhere, and an empty progress line everywhere
    note = _draft(session, clients, clinician, progress=dict.fromkeys(clients, "  "))
    assert checks.copied_text_warnings(note) == []


def _last_week(session, clients, clinician, **fields):
    earlier = GroupSessionFactory(
        group=session.group, date=timezone.localdate() - timedelta(days=7)
    )
    for client in clients:
        scheduling.attendance_record(
            session=earlier, client=client, status="present", minutes=None, actor=clinician
        )
    note = services.group_note_save(
        session=earlier,
        content=complete_content(earlier),
        sections={c: section(c, **{k: v[c] for k, v in fields.items() if c in v}) for c in clients},
        actor=clinician,
    )
    return services.note_sign(note=note, actor=clinician, password=PASSWORD)


def test_a_response_equal_to_last_weeks_gives_one_warning(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 3)
    first, *_ = _plain_names(clients)
    _last_week(session, clients, clinician, response={first: TEN_SAME})
    note = _draft(session, clients, clinician, response={first: TEN_SAME})
    warnings = checks.copied_text_warnings(note)
    assert _kinds(warnings) == [("copied_earlier", "response", 1)]
    ((place, earlier),) = warnings[0].entries
    assert place.client == first
    assert timezone.localtime(earlier).date() == timezone.localdate() - timedelta(days=7)


def test_only_the_five_previous_notes_count(clinician, admin_user):
    client = client_with_team(clinician)
    old = past_appointment(client, clinician, hours_ago=24 * 8)
    services.note_sign(
        note=services.appointment_note_save(
            appointment=old, content=individual_content(old, plan=TEN_SAME), actor=clinician
        ),
        actor=clinician,
        password=PASSWORD,
    )
    for days in (7, 6, 5, 4, 3):
        appointment = past_appointment(client, clinician, hours_ago=24 * days)
        services.note_sign(
            note=services.appointment_note_save(
                appointment=appointment, content=individual_content(appointment), actor=clinician
            ),
            actor=clinician,
            password=PASSWORD,
        )
    today = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=today, content=individual_content(today, plan=TEN_SAME), actor=clinician
    )
    # the sixth note back said the same: out of reach
    assert checks.copied_text_warnings(note) == []


def test_an_individual_note_is_compared_with_the_clients_previous_notes(clinician):
    client = client_with_team(clinician)
    last = past_appointment(client, clinician, hours_ago=24 * 7)
    content = individual_content(last, body={"data": "Reports 20 days.", "assessment": TEN_SAME})
    services.note_sign(
        note=services.appointment_note_save(appointment=last, content=content, actor=clinician),
        actor=clinician,
        password=PASSWORD,
    )
    today = past_appointment(client, clinician)
    body = {"data": "Reports 27 days.", "assessment": TEN_SAME}
    note = services.appointment_note_save(
        appointment=today, content=individual_content(today, body=body), actor=clinician
    )
    warnings = checks.sign_warnings(note)
    assert _kinds(warnings) == [("copied_earlier", "response", 1)]
    assert warnings[0].places[0].anchor == "id_body_assessment"
    assert warnings[0].places[0].label == "Assessment (client's response)"


# --- Names -------------------------------------------------------------------------------


def test_a_section_naming_another_member(clinician, admin_user):
    session, clients, absent = group_session(clinician, admin_user, 2, absent=1)
    ana, ben, cy = _named(
        [*clients, *absent],
        [("Anastasia", "Ames", "Ana"), ("Benedikt", "Bryce", ""), ("Zoë", "Čapek", "")],
    )
    note = _draft(
        session,
        [ana, ben],
        clinician,
        response={
            # Ana's own preferred name is no hit in her own section
            ana: individual("ana said BRYCE helped her; Ana named two triggers"),
            # an absent member is on the session's list too; Unicode, case-insensitive
            ben: individual("Ben sat next to zoë ČAPEK"),
        },
    )
    hits = checks.name_hits(note)
    assert [(w.kind, w.field) for w in hits] == [
        ("name_hit", "response"),
        ("name_hit", "response"),
        ("name_hit", "response"),
    ]
    found = {w.message.split("”")[0].lstrip("“"): [p.label for p in w.places] for w in hits}
    assert found == {
        "Bryce": [f"{ana.display_name} (MRN {ana.mrn}): response"],
        "Zoë": [f"{ben.display_name} (MRN {ben.mrn}): response"],
        "Čapek": [f"{ben.display_name} (MRN {ben.mrn}): response"],
    }
    assert all(w.bearers for w in hits)


def test_a_narrative_naming_a_member(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 2)
    ana, ben = _named(clients, [("Anastasia", "Ames", "Ana"), ("Benedikt", "Bryce", "")])
    note = _draft(session, clients, clinician, narrative="Role play of refusal skills led by Ana.")
    (hit,) = checks.name_hits(note)
    assert [(p.field, p.anchor, p.label) for p in hit.places] == [
        ("narrative", "id_narrative", "Group narrative")
    ]
    assert hit.bearers == [ana]
    assert hit.code == "name_hit:note:places=1"


def test_names_are_whole_words(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 2)
    _named(clients, [("Ann", "Ames", ""), ("Ben", "Bryce", "")])
    note = _draft(
        session, clients, clinician, narrative="An annual review; Benson's plan; Bryceville."
    )
    assert checks.name_hits(note) == []


def test_a_name_that_is_also_a_word_is_acknowledged_and_signed(clinician, admin_user):
    session, clients, _ = group_session(clinician, admin_user, 3)
    will, hope, cy = _named(
        clients, [("William", "Ames", "Will"), ("Hope", "Bryce", ""), ("Cyrus", "Cole", "")]
    )
    note = _draft(
        session,
        clients,
        clinician,
        plan={cy: individual("Cy will keep hope and call his sponsor")},
    )
    hits = checks.name_hits(note)
    assert sorted(w.message.split("”")[0].lstrip("“") for w in hits) == ["Hope", "Will"]
    with pytest.raises(ValidationError, match="2 warnings"):
        services.note_sign(note=note, actor=clinician, password=PASSWORD)
    signed = services.note_sign(
        note=note, actor=clinician, password=PASSWORD, acknowledged=[w.key for w in hits]
    )
    assert signed.status == NoteStatus.SIGNED
    assert sorted(SignWarning.objects.filter(note=note).values_list("kind", "field")) == [
        ("name_hit", "plan"),
        ("name_hit", "plan"),
    ]


# --- Signing -----------------------------------------------------------------------------


@pytest.fixture
def copied(clinician, admin_user):
    """A group of ten whose responses are all the same and whose one section names
    another member."""
    session, clients, _ = group_session(clinician, admin_user, 10)
    _plain_names(clients)
    _named(clients[:2], [("Zed0x", "Quorn0y", ""), ("Rowena", "Quorn1y", "")])
    note = _draft(
        session,
        clients,
        clinician,
        response=dict.fromkeys(clients, TEN_SAME),
        plan={clients[0]: individual("Check in with Rowena's ride home")},
    )
    return session, clients, note


def _sign_url(session):
    return reverse("notes:group_sign", args=[session.public_id])


def test_the_sign_page_lists_each_warning_with_a_link_and_a_tick(copied, clinician, client_as):
    session, clients, note = copied
    html = client_as(clinician).get(_sign_url(session)).content.decode()
    assert html.count('data-testid="sign-warning"') == 2
    edit = reverse("notes:group_note", args=[session.public_id])
    for client in clients:
        assert f'href="{edit}#id_{client.public_id}-response"' in html
    assert f'href="{edit}#id_{clients[0].public_id}-plan"' in html
    assert "“Rowena” is the name of a member" in html
    for w in checks.sign_warnings(note):
        assert f'name="ack" value="{w.key}"' in html


def test_signing_without_every_acknowledgment_is_refused(copied, clinician, client_as):
    session, _clients, note = copied
    http = client_as(clinician)
    (one, _other) = checks.sign_warnings(note)
    response = http.post(_sign_url(session), {"password": PASSWORD, "ack": [one.key]})
    assert response.status_code == 400
    assert "1 warning before signing" in response.content.decode()
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
    assert not SignWarning.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["note.sign", "note.sign_warning"]).exists()


def test_signing_with_acknowledgments_records_codes_only(copied, clinician, client_as):
    session, clients, note = copied
    http = client_as(clinician)
    keys = [w.key for w in checks.sign_warnings(note)]
    response = http.post(_sign_url(session), {"password": PASSWORD, "ack": keys})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert sorted(SignWarning.objects.filter(note=note).values_list("kind", "field", "places")) == [
        ("copied_text", "response", 10),
        ("name_hit", "plan", 1),
    ]
    acks = AuditEvent.objects.filter(action="note.sign_warning")
    # the copied response is in every section's record; the name hit in Zed's only
    assert sorted(set(acks.values_list("detail", flat=True))) == [
        "copied_text:response:sections=10",
        "name_hit:section:places=1",
    ]
    assert acks.filter(detail__startswith="copied_text").count() == 10
    assert list(acks.filter(detail__startswith="name_hit").values_list("client_id", flat=True)) == [
        clients[0].public_id
    ]
    sign = AuditEvent.objects.filter(action="note.sign").first()
    assert "warnings=2" in sign.detail
    trail = " ".join(AuditEvent.objects.values_list("detail", flat=True)).casefold()
    assert "rowena" not in trail and "role play" not in trail


def test_forged_and_stale_keys_count_for_nothing(copied, clinician, client_as):
    session, clients, note = copied
    http = client_as(clinician)
    keys = [w.key for w in checks.sign_warnings(note)]
    forged = ["x" * 10_000, "bad\x00key", *(str(i) for i in range(300))]
    response = http.post(_sign_url(session), {"password": PASSWORD, "ack": forged})
    assert response.status_code == 400
    # The note changes after the page was read: the old ticks no longer hold.
    services.group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c, response=TEN_SAME + " Again.") for c in clients},
        actor=clinician,
    )
    response = http.post(_sign_url(session), {"password": PASSWORD, "ack": keys})
    assert response.status_code == 400
    assert ProgressNote.objects.get(pk=note.pk).status == NoteStatus.DRAFT


def test_a_double_submission_signs_once(copied, clinician, client_as):
    session, _clients, note = copied
    http = client_as(clinician)
    data = {"password": PASSWORD, "ack": [w.key for w in checks.sign_warnings(note)]}
    assert http.post(_sign_url(session), data).status_code == 302
    again = http.post(_sign_url(session), data)
    assert again.status_code == 302
    assert SignWarning.objects.filter(note=note).count() == 2
    assert AuditEvent.objects.filter(action="note.sign").count() == 10


def test_a_note_with_no_warning_signs_as_before(clinician, admin_user, client_as):
    session, clients, _ = group_session(clinician, admin_user, 3)
    _plain_names(clients)
    _draft(session, clients, clinician)
    response = client_as(clinician).post(
        _sign_url(session), {"password": PASSWORD, "ack": ["anything"]}
    )
    assert response.status_code == 302
    assert ProgressNote.objects.get(session=session).status == NoteStatus.SIGNED
    assert not SignWarning.objects.exists()


def test_the_sign_page_query_count_does_not_grow_with_the_group(
    clinician, admin_user, client_as, django_assert_max_num_queries
):
    counts = []
    for n in (3, 12):
        session, clients, _ = group_session(clinician, admin_user, n)
        _plain_names(clients)
        _draft(session, clients, clinician, response=dict.fromkeys(clients, TEN_SAME))
        http = client_as(clinician)
        with django_assert_max_num_queries(60) as captured:
            assert http.get(_sign_url(session)).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


# --- The documentation compliance report -----------------------------------------------------


def test_the_report_counts_notes_signed_over_copied_text(
    clinician, admin_user, client_as, django_assert_max_num_queries
):
    session, clients, _ = group_session(clinician, admin_user, 3)
    _plain_names(clients)
    note = _draft(session, clients, clinician, response=dict.fromkeys(clients, TEN_SAME))
    sign_acknowledging(note, clinician)
    clean = client_with_team(clinician)
    # yesterday at 09:00, away from the group's evening slot
    start = local_datetime(timezone.localdate() - timedelta(days=1), time(9))
    appointment = scheduling.appointment_book(
        client=clean,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )
    services.note_sign(
        note=services.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=clinician
        ),
        actor=clinician,
        password=PASSWORD,
    )
    today = timezone.localdate()
    f = {"start": today - timedelta(days=2), "end": today}
    rows = reports.documentation_figures(admin_user, f)["rows"]
    (alice,) = [r for r in rows if r["clinician"] == clinician.username]
    assert (alice["signed"], alice["signed_copied_text"]) == (2, 1)
    query = {"start": f["start"].isoformat(), "end": f["end"].isoformat()}
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["documentation"]), query)
    assert 'data-testid="copied-text">1<' in page.content.decode()
    csv = web.get(reverse("reports:csv", args=["documentation"]), query)
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].endswith(",Signed over a copied-text warning")
    rows = {row["clinician"]: row for row in report_csv_rows(text, "documentation")}
    assert rows[clinician.username]["signed_copied_text"] == "1"


# --- The database keeps the acknowledgments -------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger")
def test_an_acknowledgment_is_append_only_and_its_signers(copied, clinician, supervisor):
    session, _clients, note = copied
    draft_id = note.pk
    refused = pytest.raises(DatabaseError, match="acknowledged by the note's signer")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clinical_signwarning (note_id, kind, field, places, "
            "acknowledged_by_id, acknowledged_at) VALUES (%s, 'copied_text', 'response', "
            "10, %s, now())",
            [draft_id, clinician.pk],
        )
    sign_acknowledging(note, clinician)
    for sql in (
        "UPDATE clinical_signwarning SET kind = 'name_hit'",
        "DELETE FROM clinical_signwarning",
    ):
        refused = pytest.raises(DatabaseError, match="append-only")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert SignWarning.objects.filter(note=note).count() == 2


def test_an_acknowledgment_cannot_change_through_the_model(copied, clinician):
    _session, _clients, note = copied
    sign_acknowledging(note, clinician)
    warning = SignWarning.objects.filter(note=note).first()
    warning.kind = "name_hit"
    with pytest.raises(SignedNoteLocked):
        warning.save()
    with pytest.raises(SignedNoteLocked):
        warning.delete()


def test_an_appointment_notes_sign_page_asks_for_its_warnings(clinician, client_as):
    client = client_with_team(clinician)
    last = past_appointment(client, clinician, hours_ago=24 * 7)
    services.note_sign(
        note=services.appointment_note_save(
            appointment=last, content=individual_content(last, plan=TEN_SAME), actor=clinician
        ),
        actor=clinician,
        password=PASSWORD,
    )
    today = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=today, content=individual_content(today, plan=TEN_SAME), actor=clinician
    )
    url = reverse("notes:appointment_sign", args=[today.public_id])
    http = client_as(clinician)
    html = http.get(url).content.decode()
    edit = reverse("notes:appointment_note", args=[today.public_id])
    assert "The plan repeats the same client&#x27;s earlier note" in html
    assert f'href="{edit}#id_plan"' in html
    assert http.post(url, {"password": PASSWORD}).status_code == 400
    (warning,) = checks.sign_warnings(note)
    assert http.post(url, {"password": PASSWORD, "ack": warning.key}).status_code == 302
    assert AuditEvent.objects.get(action="note.sign_warning").detail == (
        "copied_earlier:plan:sections=1"
    )
    assert AuditEvent.objects.get(action="note.sign_warning").client_id == client.public_id
