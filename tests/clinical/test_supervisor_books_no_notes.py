"""Issue 18 #6: a supervisor reads a supervisee's clients and never writes their notes.

An appointment is booked only with a clinician who may write the client's notes
(EDIT and CLINICAL through clients.access), and the note service asks the same of the
appointment's clinician now, so an appointment booked with a supervisor before the
rule (old data) takes no note from them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients.access import Purpose, access_for
from clients.models import CareTeamMember
from clients.services import care_team_end
from clinical.notes import services as notes
from clinical.notes.models import ProgressNote
from scheduling import services as scheduling
from scheduling.models import Appointment
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clinical.notes_factories import individual_content, past_appointment
from tests.iop.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_client(clinician, supervisor):
    """Alice's client; carol (alice's supervisor) reaches it only as supervisor."""
    client = ClientFactory(status="active", legal_last_name="Quill")
    EpisodeFactory(client=client)
    with_care_team(client, clinician)
    access = access_for(supervisor, client)
    assert access.allows(Purpose.CLINICAL) and not access.allows(Purpose.EDIT)
    return client


def _form_data(client, clinician):
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    return {
        "client": client.public_id,
        "kind": "individual",
        "clinician": clinician.pk,
        "day": day,
        "start": "12:00",
        "minutes": "60",
    }


def _old_appointment(client, staff, *, hours_ago=2):
    """An appointment booked with ``staff`` before booking checked write access."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    return Appointment.objects.create(
        client=client,
        clinician=staff,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        booked_by=staff,
    )


# --- Booking -----------------------------------------------------------------------------


def test_the_booking_service_refuses_a_supervisor_and_saves_nothing(
    alices_client, clinician, supervisor
):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    with pytest.raises(ValidationError, match="may not write this client's notes") as refused:
        scheduling.appointment_book(
            client=alices_client,
            clinician=supervisor,
            kind="individual",
            starts_at=start,
            ends_at=start + timedelta(minutes=50),
            actor=clinician,
        )
    assert "clinician" in refused.value.error_dict
    assert not Appointment.objects.exists()
    booked = scheduling.appointment_book(
        client=alices_client,
        clinician=clinician,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )
    assert booked.clinician == clinician


def test_the_booking_form_offers_only_who_may_write_the_clients_notes(
    alices_client, clinician, supervisor, client_as
):
    web = client_as(clinician)
    url = reverse("scheduling:appointment_new")
    page = web.get(f"{url}?client={alices_client.public_id}")
    assert page.status_code == 200
    offered = set(page.context["form"].fields["clinician"].queryset)
    assert clinician in offered
    assert supervisor not in offered
    # Without a client asked for, a supervisor who writes nobody's notes is not offered.
    assert supervisor not in set(web.get(url).context["form"].fields["clinician"].queryset)


def test_the_booking_page_refuses_a_supervisor_with_a_400_and_saves_nothing(
    alices_client, clinician, supervisor, client_as
):
    web = client_as(clinician)
    url = reverse("scheduling:appointment_new")
    response = web.post(url, _form_data(alices_client, supervisor))
    assert response.status_code == 400
    assert "may not write this client&#x27;s notes" in response.content.decode()
    assert not Appointment.objects.exists()
    assert web.post(url, _form_data(alices_client, clinician)).status_code == 302
    assert Appointment.objects.get().clinician == clinician


def test_a_supervisor_on_the_care_team_is_booked(alices_client, clinician, supervisor):
    """The rule is write access, not the role: a supervisor on the care team writes."""
    with_care_team(alices_client, supervisor, role="counsellor")
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    booked = scheduling.appointment_book(
        client=alices_client,
        clinician=supervisor,
        kind="individual",
        starts_at=start,
        ends_at=start + timedelta(minutes=50),
        actor=clinician,
    )
    assert booked.clinician == supervisor


# --- The note of an appointment booked with them before ---------------------------------


def test_a_supervisor_cannot_write_the_note_of_an_old_appointment(
    alices_client, supervisor, client_as
):
    appointment = _old_appointment(alices_client, supervisor)
    with pytest.raises(ValidationError, match="clinician writes its note"):
        notes.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=supervisor
        )
    assert not ProgressNote.objects.exists()
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"
    # The page reads (a supervisor's reason) and offers no writing.
    page = client_as(supervisor).get(
        reverse("notes:appointment_note", args=[appointment.public_id])
    )
    assert page.status_code == 200
    assert page.context["editable"] is False


def test_a_supervisor_cannot_save_or_sign_a_draft_written_while_on_the_team(
    alices_client, clinician, supervisor
):
    member = with_care_team(alices_client, supervisor, role="counsellor")
    appointment = past_appointment(alices_client, supervisor)
    note = notes.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=supervisor
    )
    care_team_end(member=CareTeamMember.objects.get(pk=member.pk), actor=clinician)
    assert not access_for(supervisor, alices_client).allows(Purpose.EDIT)
    with pytest.raises(ValidationError):
        notes.appointment_note_save(
            appointment=appointment,
            content=individual_content(appointment, plan="Changed"),
            actor=supervisor,
        )
    with pytest.raises(ValidationError):
        notes.note_sign(note=note, actor=supervisor, password=PASSWORD)
    note.refresh_from_db()
    assert not note.is_signed and note.plan != "Changed"


def test_the_care_team_clinician_still_writes_and_signs(alices_client, clinician):
    appointment = past_appointment(alices_client, clinician)
    note = notes.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    assert notes.note_sign(note=note, actor=clinician, password=PASSWORD).is_signed
