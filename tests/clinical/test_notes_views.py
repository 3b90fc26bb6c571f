"""The note pages: who reaches them, what they show, and bad input answered with a
message and a 4xx, never a 500 and never half-saved."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clinical.notes import services
from clinical.notes.models import Addendum, CosignStatus, NoteStatus, ProgressNote
from iop.audit.models import AuditEvent
from tests.clinical.notes_factories import (
    client_with_team,
    complete_content,
    group_session,
    individual_content,
    modality,
    past_appointment,
    section,
    signed_group_note,
)
from tests.clock import TUESDAY, at
from tests.iop.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(clinician, admin_user):
    return group_session(clinician, admin_user, 2, absent=1)


def _url(name, obj):
    return reverse(f"notes:{name}", args=[obj.public_id])


def _hhmm(moment):
    return f"{timezone.localtime(moment):%H:%M}"


def _post_data(clients, *, session=None, skip=(), **extra):
    """A complete group note's form; its times are ``session``'s when given."""
    data = {
        "time_in": _hhmm(session.starts_at) if session else "18:00",
        "time_out": _hhmm(session.ends_at) if session else "21:00",
        "modality": modality().pk,
        "interventions": ["psychoeducation"],
        "narrative": "Refusal skills practice.",
    }
    for client in clients:
        prefix = str(client.public_id)
        data |= {
            f"{prefix}-participation_level": "active",
            f"{prefix}-affect": "anxious",
            f"{prefix}-intervention_response": "receptive",
            # Each client's own words (the MRN): the same line in every section, or a
            # template with only the name changed, is copied text at signing.
            f"{prefix}-response": f"Response of {client.display_name} ({client.mrn})",
            f"{prefix}-plan_choice": "primary",
            f"{prefix}-risk": "none",
        }
    for key in skip:
        data.pop(key, None)
    return data | extra


def test_the_attendance_sheet_offers_the_group_note(group, clinician, client_as):
    session, _present, _absent = group
    html = client_as(clinician).get(
        reverse("scheduling:attendance_sheet", args=[session.public_id])
    )
    assert _url("group_note", session) in html.content.decode()


def test_the_group_note_page_has_sections_for_attending_clients_only(group, clinician, client_as):
    session, present, absent = group
    response = client_as(clinician).get(_url("group_note", session))
    html = response.content.decode()
    assert response.status_code == 200
    for client in present:
        assert f'name="{client.public_id}-response"' in html
    assert f'name="{absent[0].public_id}-response"' not in html
    assert "Unexcused absence" in html  # listed from attendance with the status
    assert absent[0].display_name in html


def test_autosave_keeps_the_draft_and_a_reload_shows_it(group, clinician, client_as):
    session, present, _ = group
    http = client_as(clinician)
    response = http.post(
        _url("group_autosave", session), _post_data(present), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert re.search(r"Saved \d{1,2}:\d\d:\d\d [AP]M", response.content.decode())
    html = http.get(_url("group_note", session)).content.decode()
    assert f"Response of {present[0].display_name}" in html
    assert (
        f'value="primary" class="btn-check" id="id_{present[0].public_id}-plan_choice_1" checked'
        in html
    )
    assert "Refusal skills practice." in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"narrative": "x" * 10_000}, "at most"),
        ({"narrative": "null\x00byte"}, "contains a null character"),
        ({"time_in": "21:00", "time_out": "18:00"}, "Time out is before time in"),
        ({"time_in": "25:99"}, "valid time"),
        ({"modality": "99999"}, "valid choice"),
        ({"interventions": ["hypnosis"]}, "valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(
    group, clinician, client_as, extra, message
):
    session, present, _ = group
    http = client_as(clinician)
    for url in (_url("group_autosave", session), _url("group_note", session)):
        response = http.post(url, _post_data(present, **extra), HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        assert message.lower() in response.content.decode().lower()
    assert not ProgressNote.objects.exists()


def test_a_section_for_an_absent_client_is_refused(group, clinician, client_as):
    session, present, absent = group
    data = _post_data(present) | {f"{absent[0].public_id}-response": "was not there"}
    response = client_as(clinician).post(_url("group_note", session), data)
    assert response.status_code == 400
    assert "did not attend" in response.content.decode()
    assert not ProgressNote.objects.exists()
    unknown = _post_data(present) | {"00000000-0000-0000-0000-000000000000-response": "who?"}
    response = client_as(clinician).post(_url("group_autosave", session), unknown)
    assert response.status_code == 400
    assert "not on this session" in response.content.decode()


def test_signing_from_the_page_and_a_double_submission(group, clinician, client_as):
    session, present, _ = group
    http = client_as(clinician)
    response = http.post(
        _url("group_note", session), _post_data(present, session=session) | {"then": "sign"}
    )
    assert response.status_code == 302 and response.url == _url("group_sign", session)
    assert "attestation" in http.get(_url("group_sign", session)).content.decode()
    wrong = http.post(_url("group_sign", session), {"password": "nope"})
    assert wrong.status_code == 400 and "password is not right" in wrong.content.decode()
    assert http.post(_url("group_sign", session), {"password": PASSWORD}).status_code == 302
    again = http.post(_url("group_sign", session), {"password": PASSWORD})
    assert again.status_code == 302  # lands on the first signature
    assert AuditEvent.objects.filter(action="note.sign", outcome="allowed").count() == 2
    assert ProgressNote.objects.get().status == NoteStatus.SIGNED
    # After signing, the page is read only and edits are refused.
    refused = http.post(_url("group_note", session), _post_data(present))
    assert refused.status_code == 400 and "add an addendum" in refused.content.decode()


def test_signing_an_empty_note_lists_what_is_missing_with_links(group, clinician, client_as):
    session, present, _ = group
    http = client_as(clinician)
    http.post(_url("group_autosave", session), {"narrative": "Started."})
    html = http.get(_url("group_sign", session)).content.decode()
    assert f"{_url('group_note', session)}#id_time_in" in html
    assert f"#id_{present[0].public_id}-response" in html
    assert http.post(_url("group_sign", session), {"password": PASSWORD}).status_code == 400
    assert ProgressNote.objects.get().status == NoteStatus.DRAFT


def test_an_addendum_on_a_draft_is_refused_on_the_page(group, clinician, client_as):
    session, present, _ = group
    http = client_as(clinician)
    http.post(_url("group_autosave", session), _post_data(present))
    response = http.post(_url("group_addendum", session), {"text": "x", "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert "draft" in response.content.decode()
    assert not ProgressNote.objects.get().addenda.exists()


def test_a_clients_chart_shows_the_narrative_and_only_their_own_section(
    group, clinician, client_as
):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    first, second = present
    http = client_as(clinician)
    html = http.get(reverse("clients:chart", args=[first.public_id])).content.decode()
    assert note.narrative in html
    assert f"{first.display_name} named two triggers" in html
    assert f"{second.display_name} named two triggers" not in html
    assert f"{second.display_name} practises" not in html
    assert second.display_name not in html  # not even the name of the other client
    full = http.get(_url("client_notes", first)).content.decode()
    assert f"{second.display_name} named two triggers" not in full


def test_a_facilitator_writes_the_group_note_but_does_not_read_the_clinical_chart(
    admin_user, client_as
):
    facilitator = UserFactory(username="finn", roles=["clinician"])
    session, present, _ = group_session(facilitator, admin_user, 2, care_team=False)
    http = client_as(facilitator)
    assert http.get(_url("group_note", session)).status_code == 200
    assert http.post(_url("group_autosave", session), _post_data(present)).status_code == 200
    assert http.get(reverse("clients:chart", args=[present[0].public_id])).status_code == 404
    assert http.get(_url("client_notes", present[0])).status_code == 404


def test_the_supervisor_cosigns_from_the_dashboard(group, clinician, supervisor, client_as):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    http = client_as(supervisor)
    dashboard = http.get(reverse("dashboard")).content.decode()
    assert _url("group_cosign", note) in dashboard
    page = http.get(_url("group_cosign", note)).content.decode()
    assert f"{present[1].display_name} named two triggers" in page
    response = http.post(_url("group_cosign", note), {"action": "cosign", "password": PASSWORD})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.cosign_status == CosignStatus.COSIGNED
    assert _url("group_cosign", note) not in http.get(reverse("dashboard")).content.decode()


def test_the_supervisor_returns_a_note_with_a_comment(group, clinician, supervisor, client_as):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    http = client_as(supervisor)
    empty = http.post(_url("group_cosign", note), {"action": "return", "comment": ""})
    assert empty.status_code == 400
    http.post(_url("group_cosign", note), {"action": "return", "comment": "Add the plan."})
    note.refresh_from_db()
    assert note.cosign_status == CosignStatus.RETURNED
    mine = client_as(clinician).get(reverse("dashboard")).content.decode()
    assert "returned: add an addendum" in mine


def test_a_stranger_cannot_cosign(group, clinician, other_clinician, client_as):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    response = client_as(other_clinician).get(_url("group_cosign", note))
    assert response.status_code == 404


def test_an_individual_note_from_the_appointment_then_no_show_is_gone(clinician, client_as):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    http = client_as(clinician)
    page = http.get(_url("appointment_note", appointment)).content.decode()
    assert "Record a no-show" in page and 'name="body_assessment"' in page
    data = {
        "time_in": _hhmm(appointment.starts_at),
        "time_out": _hhmm(appointment.ends_at),
        "modality": modality().pk,
        "interventions": ["motivational_interviewing"],
        "body_data": "Reports cravings at work.",
        "body_assessment": "Engaged.",
        "plan": "Weekly.",
        "risk": "none",
    }
    assert http.post(_url("appointment_autosave", appointment), data).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    refused = http.post(_url("appointment_no_show", appointment))
    assert refused.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    http.post(_url("appointment_sign", appointment), {"password": PASSWORD})
    note = ProgressNote.objects.get()
    assert note.status == NoteStatus.SIGNED
    chart = http.get(reverse("clients:chart", args=[client.public_id])).content.decode()
    assert "Reports cravings at work." in chart
    assert AuditEvent.objects.filter(action="note.sign", client_id=client.public_id).exists()


def test_a_no_show_from_the_appointment(clinician, client_as):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    response = client_as(clinician).post(_url("appointment_no_show", appointment))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "no_show"


# --- A group note's addendum: the narrative or one client's section ----------------------


def _add(http, session, target, *, text="Late detail.", password=PASSWORD):
    data = {"text": text, "password": password}
    if target is not None:
        data["target"] = target
    return http.post(_url("group_addendum", session), data)


def _section_card(html, client):
    """The read-only card of ``client``'s section on the group note page: from its header
    to the next card (or the signature)."""
    start = html.index(f"MRN {client.mrn}")
    end = min(i for i in (html.find("<section", start), html.find("signature", start)) if i > 0)
    return html[start:end]


def test_the_group_addendum_form_asks_the_narrative_or_one_clients_section(
    clinician, admin_user, client_as
):
    session, present, absent = group_session(
        clinician, admin_user, 2, absent=1, names=["Sam", "Sam"]
    )
    Client.objects.filter(pk__in=[c.pk for c in present]).update(legal_last_name="Lee")
    signed_group_note(session, present, clinician)
    response = client_as(clinician).get(_url("group_addendum", session))
    html = response.content.decode()
    assert response.status_code == 200
    radios = re.findall(r'<input type="radio" name="target" value="([^"]+)"[^>]*>', html)
    assert sorted(radios) == sorted(["narrative", *(str(c.public_id) for c in present)])
    assert "The group narrative (shown on every member&#x27;s chart)" in html
    # Two clients named Sam Lee are told apart by their MRN.
    for client in present:
        assert f"Sam Lee&#x27;s section, MRN {client.mrn}" in html
    assert str(absent[0].public_id) not in html and f"MRN {absent[0].mrn}" not in html
    # Nothing is chosen for the author: an addendum about one client does not fall
    # onto every member's chart by default.
    assert not re.search(r'<input type="radio" name="target"[^>]*checked', html)


def test_a_section_addendum_from_the_page_shows_under_that_section(
    group, clinician, supervisor, client_as
):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    first, second = present
    http = client_as(clinician)
    response = _add(http, session, str(first.public_id), text="Sponsor found after group.")
    assert response.status_code == 302
    assert _add(http, session, "narrative", text="Room changed mid-session.").status_code == 302
    assert Addendum.objects.get(text="Sponsor found after group.").section.client == first
    assert Addendum.objects.get(text="Room changed mid-session.").section is None
    # The group note page (and its printout) and the co-sign page: under the section.
    for page in (
        http.get(_url("group_note", session)).content.decode(),
        client_as(supervisor).get(_url("group_cosign", note)).content.decode(),
    ):
        assert "Sponsor found after group." in _section_card(page, first)
        assert "Sponsor found after group." not in _section_card(page, second)
        assert page.count("Sponsor found after group.") == 1
        assert "Addendum to the group narrative" in page and "Room changed mid-session." in page
        assert "Room changed mid-session." not in _section_card(page, first)


@pytest.mark.parametrize(
    "target",
    ["missing", "", "absent", "other group", "not-a-uuid", "narrative-ish"],
)
def test_a_bad_addendum_target_is_refused_and_nothing_saved(
    group, clinician, admin_user, client_as, target
):
    session, present, absent = group
    signed_group_note(session, present, clinician)
    other_session, other_present, _ = group_session(clinician, admin_user, 1)
    signed_group_note(other_session, other_present, clinician)
    value = {
        "missing": None,
        "absent": str(absent[0].public_id),
        "other group": str(other_present[0].public_id),
    }.get(target, target)
    # A wrong password as well: the choice is refused first, no attempt is spent on it.
    response = _add(client_as(clinician), session, value, password="wrong")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="error-target"' in html
    assert "narrative" in html and "section" in html  # the message says what to choose
    assert not Addendum.objects.exists()
    assert not AuditEvent.objects.filter(action="note.addendum").exists()


def test_an_appointment_notes_addendum_page_asks_no_target(clinician, client_as):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    services.note_sign(note=note, actor=clinician, password=PASSWORD)
    http = client_as(clinician)
    assert (
        'name="target"' not in http.get(_url("appointment_addendum", appointment)).content.decode()
    )
    response = http.post(
        _url("appointment_addendum", appointment), {"text": "Late.", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert Addendum.objects.get().section is None
    chart = http.get(reverse("clients:chart", args=[client.public_id])).content.decode()
    assert "Late." in chart and "group narrative" not in chart


def test_a_section_addendum_shows_on_that_clients_chart_only(group, clinician, client_as):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    first, second = present
    for client, text in ((first, "First's follow-up call."), (second, "Second's sponsor.")):
        services.addendum_add(
            note=note, text=text, section_client=client, actor=clinician, password=PASSWORD
        )
    services.addendum_add(
        note=note, text="Room changed mid-session.", actor=clinician, password=PASSWORD
    )
    http = client_as(clinician)
    for client, own, others in (
        (first, "First's follow-up call.", "Second's sponsor."),
        (second, "Second's sponsor.", "First's follow-up call."),
    ):
        for url in (
            reverse("clients:chart", args=[client.public_id]),
            _url("client_notes", client),
        ):
            html = http.get(url).content.decode()
            assert "Room changed mid-session." in html  # the narrative's: every member's
            assert own.replace("'", "&#x27;") in html
            assert others.replace("'", "&#x27;") not in html
    other_name = second.display_name
    assert other_name not in http.get(_url("client_notes", first)).content.decode()


# --- My sessions today: each session's note ------------------------------------------------


def test_my_sessions_today_shows_each_sessions_note(
    clinician, admin_user, client_as, django_assert_max_num_queries, read_audit_queries,
    time_machine,
):  # fmt: skip
    """The facilitator sees, for each session of the day that has begun, whether its note
    is done, a draft or not written; the count of queries does not grow with sessions.
    At 21:30: the sessions end at 21:25, today's (just after midnight they are
    yesterday's, and not on today's list)."""

    from clinical.notes.services import group_note_save

    time_machine.move_to(at(TUESDAY, "21:30"), tick=False)

    def today_states(web):
        html = web.get(reverse("dashboard")).content.decode()
        return sorted(re.findall(r'data-testid="note-state" data-state="([a-z]+)"', html))

    web = client_as(clinician)
    none, _ = group_session(clinician, admin_user, 1)[:2]
    web.get(reverse("dashboard"))
    # session, user, OTP (3); today's sessions, their facilitators, their notes (3); plans
    # due, safety flags, my notes, follow-ups (4); the caseload with its episodes and
    # primary clinicians (3): 13; the read audit of the clients shown.
    with django_assert_max_num_queries(13 + read_audit_queries) as few:
        assert today_states(web) == ["none"]
    draft, clients, _ = group_session(clinician, admin_user, 2)
    group_note_save(
        session=draft, content=complete_content(draft),
        sections={c: section(c) for c in clients}, actor=clinician,
    )  # fmt: skip
    signed, present, _ = group_session(clinician, admin_user, 1)
    signed_group_note(signed, present, clinician)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert today_states(web) == ["draft", "none", "signed"]
    html = web.get(reverse("dashboard")).content.decode()
    assert "note done" in html and "note draft" in html and "no note" in html
    assert reverse("notes:group_note", args=[none.public_id]) in html
