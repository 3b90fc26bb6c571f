"""The note pages: who reaches them, what they show, and bad input answered with a
message and a 4xx, never a 500 and never half-saved."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical.notes.models import CosignStatus, NoteStatus, ProgressNote
from iop.audit.models import AuditEvent
from tests.clinical.notes_factories import (
    client_with_team,
    group_session,
    modality,
    past_appointment,
    signed_group_note,
)
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
            f"{prefix}-participation": "Active",
            f"{prefix}-response": f"Response of {client.display_name}",
            f"{prefix}-progress": "",
            f"{prefix}-plan": f"Plan of {client.display_name}",
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
    assert re.search(r"Saved \d\d:\d\d:\d\d", response.content.decode())
    html = http.get(_url("group_note", session)).content.decode()
    assert f"Plan of {present[0].display_name}" in html
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
    unknown = _post_data(present) | {"00000000-0000-0000-0000-000000000000-plan": "who?"}
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
