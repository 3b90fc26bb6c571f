"""A group section in clicks (issue 20): structured choices rendered as sentences, one
line of the client's own, progress toward one objective of the client's plan in force;
completeness with them; forged choices and another client's objective refused; the
missing-items list tells same-named clients apart by MRN."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from clinical.notes import services
from clinical.notes.models import GroupNoteSection, NoteStatus, ProgressNote, SignedNoteLocked
from clinical.plans.objectives import plan_objectives
from scheduling import services as scheduling
from tests.clinical.notes_factories import (
    complete_content,
    group_session,
    legacy_section,
    modality,
    section,
    signed_group_note,
)
from tests.clinical.plans_factories import signed_plan
from tests.iop.factories import PASSWORD
from tests.scheduling.factories import GroupSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(clinician, admin_user):
    return group_session(clinician, admin_user, 2, names=["Ana", "Ben"])


def _save(session, clinician, sections, **content):
    return services.group_note_save(
        session=session,
        content=complete_content(session, **content),
        sections=sections,
        actor=clinician,
    )


def _url(name, obj):
    return reverse(f"notes:{name}", args=[obj.public_id])


# --- Completeness --------------------------------------------------------------------------


def test_a_section_of_choices_and_its_own_line_is_complete(group, clinician):
    session, present, _ = group
    note = _save(session, clinician, {c: section(c) for c in present})
    assert services.note_missing(note) == []


def test_each_choice_and_the_clients_own_line_are_asked_for(group, clinician):
    session, (ana, ben), _ = group
    sections = {
        ana: section(ana, affect="", response="   "),
        ben: section(ben, intervention_response="", plan_choice=""),
    }
    note = _save(session, clinician, sections)
    missing = {m.message for m in services.note_missing(note)}
    assert missing == {
        f"{ana.display_name} (MRN {ana.mrn}): affect",
        f"{ana.display_name} (MRN {ana.mrn}): what the client said or did",
        f"{ben.display_name} (MRN {ben.mrn}): response to the intervention",
        f"{ben.display_name} (MRN {ben.mrn}): plan",
    }


def test_a_progress_objective_is_asked_for_only_when_the_client_has_current_objectives(
    group, clinician
):
    session, (ana, ben), _ = group
    signed_plan(ana, clinician, "Attend 3 groups a week", "Call a sponsor daily")
    note = _save(session, clinician, {c: section(c) for c in (ana, ben)})
    missing = {m.anchor: m.message for m in services.note_missing(note)}
    prefix = f"id_{ana.public_id}"
    assert set(missing) == {f"{prefix}-objective", f"{prefix}-progress_rating"}
    assert (
        missing[f"{prefix}-objective"] == f"{ana.display_name} (MRN {ana.mrn}): progress objective"
    )

    objectives = plan_objectives([ana.pk])[ana.pk]
    note = _save(
        session,
        clinician,
        {ana: section(ana, objective=objectives.key(1), progress_rating="maintaining")},
    )
    assert services.note_missing(note) == []
    saved = GroupNoteSection.objects.get(note=note, client=ana)
    assert saved.objective_text() == "Call a sponsor daily"
    # Ben's section was not sent again: it stays as it was.
    kept = GroupNoteSection.objects.get(note=note, client=ben).response
    assert kept.startswith(f"{ben.display_name} named two triggers")


def test_same_named_clients_are_told_apart_by_their_mrn(clinician, admin_user, client_as):
    session, (one, two), _ = group_session(clinician, admin_user, 2, names=["Alex", "Alex"])
    for client in (one, two):
        client.legal_first_name, client.legal_last_name = "Alex", "Abbott"
        client.save(update_fields=["legal_first_name", "legal_last_name"])
    _save(session, clinician, {c: section(c, response="") for c in (one, two)})
    html = client_as(clinician).get(_url("group_sign", session)).content.decode()
    for client in (one, two):
        assert f"{client.display_name} (MRN {client.mrn}): what the client said or did" in html
    assert one.mrn != two.mrn


# --- Refusals ------------------------------------------------------------------------------


def test_an_objective_of_another_clients_plan_is_refused_and_nothing_saved(group, clinician):
    session, (ana, ben), _ = group
    signed_plan(ana, clinician, "Attend 3 groups a week")
    signed_plan(ben, clinician, "Sleep 7 hours")
    bens = plan_objectives([ben.pk])[ben.pk].key(0)
    with pytest.raises(ValidationError, match="current treatment plan"):
        _save(session, clinician, {ana: section(ana, objective=bens)})
    assert not ProgressNote.objects.exists()
    anas = plan_objectives([ana.pk])[ana.pk]
    for forged in (f"{anas.version_public_id}:7", f"{anas.version_public_id}:x", "nonsense"):
        with pytest.raises(ValidationError, match="current treatment plan"):
            _save(session, clinician, {ana: section(ana, objective=forged)})
    assert not GroupNoteSection.objects.exists()


def test_an_objective_of_a_superseded_plan_version_is_refused(group, clinician):
    session, (ana, _ben), _ = group
    signed_plan(ana, clinician, "Attend 3 groups a week")
    old = plan_objectives([ana.pk])[ana.pk].key(0)
    signed_plan(ana, clinician, "Attend 3 groups a week")  # a review: version 2 in force
    with pytest.raises(ValidationError, match="reviewed since"):
        _save(session, clinician, {ana: section(ana, objective=old)})


@pytest.mark.parametrize(
    "part", ["participation_level", "affect", "intervention_response", "plan_choice", "risk"]
)
def test_a_forged_choice_answers_400_with_a_message_and_saves_nothing(
    group, clinician, client_as, part
):
    session, present, _ = group
    http = client_as(clinician)
    data = {"narrative": "Refusal skills.", f"{present[0].public_id}-{part}": "<script>"}
    for url in (_url("group_note", session), _url("group_autosave", session)):
        response = http.post(url, data)
        assert response.status_code == 400
        assert "not one of the choices" in response.content.decode()
    assert not ProgressNote.objects.exists()
    # The service refuses the same value from any other path.
    with pytest.raises(ValidationError, match="Choose an answer from the list"):
        _save(session, clinician, {present[0]: section(present[0], **{part: "forged"})})
    assert not ProgressNote.objects.exists()


def test_another_clients_objective_posted_on_the_page_answers_400(group, clinician, client_as):
    session, (ana, ben), _ = group
    signed_plan(ana, clinician, "Attend 3 groups a week")
    signed_plan(ben, clinician, "Sleep 7 hours")
    bens = plan_objectives([ben.pk])[ben.pk].key(0)
    response = client_as(clinician).post(
        _url("group_note", session), {f"{ana.public_id}-objective": bens}
    )
    assert response.status_code == 400
    assert "not one of the choices" in response.content.decode()
    assert not ProgressNote.objects.exists()


# --- Sentences on the note, the chart, the co-sign page ------------------------------------


def _structured_note(session, clinician, ana, ben):
    signed_plan(ana, clinician, "Use a grounding skill before each shift")
    key = plan_objectives([ana.pk])[ana.pk].key(0)
    sections = {
        ana: section(
            ana,
            participation_level="active",
            affect="anxious",
            intervention_response="practising",
            response="Rehearsed saying no to a colleague's drink offer",
            objective=key,
            progress_rating="progressing",
            plan_choice="individual",
        ),
        ben: section(ben, response="Said the drive home is the hardest hour"),
    }
    topic = session.group.track.curriculum.order_by("order").first()
    note = _save(session, clinician, sections, topic=topic)
    return services.note_sign(note=note, actor=clinician, password=PASSWORD)


ANA_SENTENCES = [
    "Participation: active, contributed without prompting.",
    "Affect: anxious.",
    "Response to the session's intervention ({topic}, Cognitive behavioural "
    "therapy (CBT)): receptive; needs more practice with the skill.",
    "In the client's words / what they said or did: Rehearsed saying no to a colleague's "
    "drink offer.",
    "Progress toward \u201cUse a grounding skill before each shift\u201d: progressing.",
    "Plan: schedule an individual session.",
    "Risk screen: Denies SI and HI.",
]


def _text(html):
    from html import unescape

    from django.utils.html import strip_tags

    return " ".join(unescape(strip_tags(html)).split())


def test_the_choices_read_as_sentences_on_the_note_the_chart_and_the_cosign_page(
    group, clinician, supervisor, client_as
):
    session, (ana, ben), _ = group
    note = _structured_note(session, clinician, ana, ben)
    modality()
    pages = {
        "note (and its printout)": client_as(clinician).get(_url("group_note", session)),
        "chart": client_as(clinician).get(reverse("clients:chart", args=[ana.public_id])),
        "all notes": client_as(clinician).get(_url("client_notes", ana)),
        "co-sign": client_as(supervisor).get(reverse("notes:group_cosign", args=[note.public_id])),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        text = _text(response.content.decode())
        for sentence in ANA_SENTENCES:
            sentence = sentence.format(topic=note.topic.title)
            assert sentence in text, (where, sentence)
    chart = _text(pages["chart"].content.decode())
    assert "drive home" not in chart  # Ben's line stays on Ben's chart


def test_a_draft_begun_before_the_choices_keeps_its_text_and_asks_for_them(
    group, clinician, client_as
):
    session, (ana, ben), _ = group
    note = _save(session, clinician, {c: legacy_section(c) for c in (ana, ben)})
    assert not GroupNoteSection.objects.get(note=note, client=ana).is_structured
    assert f"{ana.display_name} (MRN {ana.mrn}): participation" in {
        m.message for m in services.note_missing(note)
    }
    html = _text(client_as(clinician).get(_url("group_note", session)).content.decode())
    assert "Written before the choices" in html
    assert f"Plan: {ana.display_name} practises refusal skills" in html
    # The page's form sends the choices only: the earlier text stays with the note.
    for c in (ana, ben):
        _save(session, clinician, {c: section(c)})
    note = services.note_sign(note=note, actor=clinician, password=PASSWORD)
    saved = GroupNoteSection.objects.get(note=note, client=ana)
    assert saved.participation.startswith(f"{ana.display_name} took part actively")
    assert saved.plan.startswith(f"{ana.display_name} practises refusal skills")


def test_a_signed_note_of_text_only_reads_as_it_did(group, clinician, client_as):
    """A note signed before the choices existed (made here by signing the row itself)."""
    session, (ana, ben), _ = group
    note = _save(session, clinician, {c: legacy_section(c) for c in (ana, ben)})
    ProgressNote.objects.filter(pk=note.pk).update(
        status=NoteStatus.SIGNED,
        signed_at=timezone.now(),
        signed_by=clinician,
        attestation=services.ATTESTATION,
        cosign_required=True,
        cosign_status="pending",
    )
    for url in (_url("group_note", session), _url("client_notes", ana)):
        text = _text(client_as(clinician).get(url).content.decode())
        assert f"Participation{ana.display_name} took part actively" in text
        assert "Progress toward goalsOn track" in text
        assert f"Plan{ana.display_name} practises refusal skills" in text
        assert "Response to the session's intervention" not in text


def test_each_section_heading_names_the_sessions_topic_and_modality(group, clinician, client_as):
    session, present, _ = group
    topic = session.group.track.curriculum.order_by("-order").first()
    _save(session, clinician, {c: section(c) for c in present}, topic=topic)
    html = client_as(clinician).get(_url("group_note", session)).content.decode()
    heading = f"Topic: {topic.title} · Modality: Cognitive behavioural therapy (CBT)"
    assert _text(html).count(heading) == len(present)
    # Read at render time: nothing of it is stored in a section.
    assert not GroupNoteSection.objects.filter(response__contains=topic.title).exists()


# --- The lock ------------------------------------------------------------------------------


def test_a_signed_sections_choices_cannot_change(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    saved = note.sections.first()
    saved.affect = "elevated"
    with pytest.raises(SignedNoteLocked):
        saved.save()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_database_refuses_a_change_to_a_signed_sections_choices(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    for column, value in (("affect", "'elevated'"), ("objective_index", "3")):
        with (
            pytest.raises(DatabaseError, match="locked"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"UPDATE clinical_groupnotesection SET {column} = {value} "  # noqa: S608
                "WHERE note_id = %s",
                [note.pk],
            )


def test_the_next_sessions_last_plan_reads_the_chosen_plan(clinician, admin_user, client_as):
    session, (ana,), _ = group_session(clinician, admin_user, 1, names=["Ana"])
    earlier = GroupSessionFactory(
        group=session.group, date=timezone.localdate() - timedelta(days=2)
    )
    scheduling.attendance_record(
        session=earlier, client=ana, status="present", minutes=None, actor=clinician
    )
    note = _save(earlier, clinician, {ana: section(ana, plan_choice="individual")})
    services.note_sign(note=note, actor=clinician, password=PASSWORD)
    html = _text(client_as(clinician).get(_url("group_note", session)).content.decode())
    assert "Last plan: schedule an individual session" in html
