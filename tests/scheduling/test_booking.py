"""Booking an appointment (issue 20, item 4): the person booking is the clinician when
they may be, the length starts from the kind's usual length (blank takes it), forged
input is refused with a message, and a clash says what it clashes with, naming a
client only to a viewer who may see them."""

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from iop import when
from scheduling import services
from scheduling.models import Appointment
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clock import TUESDAY, at, shown
from tests.scheduling.factories import GroupFactory, RoomFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = TUESDAY + timedelta(days=1)
URL = "/scheduling/appointments/new/"


@pytest.fixture(autouse=True)
def _tuesday_morning(time_machine):
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)


def _admitted(clinician, **names):
    client = ClientFactory(status="active", **names)
    EpisodeFactory(client=client, admitted_on=TUESDAY - timedelta(days=10))
    with_care_team(client, clinician)
    return client


def _data(client, staff, **changes):
    return {
        "client": client.public_id,
        "kind": "individual",
        "clinician": staff.pk,
        "day": WEDNESDAY.isoformat(),
        "start": "12:00",
        "minutes": "",
        **changes,
    }


def _selected(html, name):
    """The value of the option chosen in the select ``name`` (None or "" when none is)."""
    select = html[html.index(f'name="{name}"') :]
    select = select[: select.index("</select>")]
    for option in select.split("<option")[1:]:
        if " selected" in option.split(">")[0]:
            return option.split('value="')[1].split('"')[0]
    return None


def test_the_person_booking_is_the_clinician_when_they_may_be(
    clinician, supervisor, admin_user, client_as
):
    _admitted(clinician)
    html = client_as(clinician).get(URL).content.decode()
    assert reverse("scheduling:appointment_new") == URL
    assert _selected(html, "clinician") == str(clinician.pk)
    # A supervisor only reads and an admin books for others: nobody is chosen for them.
    for booker in (supervisor, admin_user):
        html = client_as(booker).get(URL).content.decode()
        assert _selected(html, "clinician") in (None, "")


def test_the_length_starts_from_the_kind_and_a_blank_length_takes_it(clinician, client_as):
    client = _admitted(clinician)
    html = client_as(clinician).get(URL).content.decode()
    assert 'name="minutes" value="50"' in html  # individual therapy, the first kind
    assert "data-lengths=" in html and "js/appointment.js" in html
    assert '<span id="id_minutes_unit">min</span>' in html
    assert 'aria-describedby="id_minutes_unit id_minutes_helptext"' in html

    response = client_as(clinician).post(URL, _data(client, clinician, kind="medication"))
    assert response.status_code == 302
    booked = Appointment.objects.get()
    assert booked.ends_at - booked.starts_at == timedelta(minutes=25)
    assert booked.starts_at == at(WEDNESDAY, "12:00")
    # A length typed is the length booked.
    client_as(clinician).post(
        URL, _data(client, clinician, kind="family", start="15:00", minutes="75")
    )
    family = Appointment.objects.get(kind="family")
    assert family.ends_at - family.starts_at == timedelta(minutes=75)


def test_the_clinic_sets_its_own_lengths(clinician, client_as, settings):
    settings.IOP_APPOINTMENT_MINUTES = {**settings.IOP_APPOINTMENT_MINUTES, "family": 60}
    client = _admitted(clinician)
    assert "&quot;family&quot;: 60" in client_as(clinician).get(URL).content.decode()
    client_as(clinician).post(URL, _data(client, clinician, kind="family"))
    family = Appointment.objects.get()
    assert family.ends_at - family.starts_at == timedelta(minutes=60)


def test_the_system_check_refuses_unknown_kinds_and_odd_lengths(settings):
    assert not [m for m in run_checks() if m.id == "scheduling.E001"]
    settings.IOP_APPOINTMENT_MINUTES = {
        **settings.IOP_APPOINTMENT_MINUTES,
        "massage": 30,
        "family": 0,
        "medication": "25",
    }
    problems = [m.msg for m in run_checks() if m.id == "scheduling.E001"]
    assert len(problems) == 3
    assert any("'massage', which is no appointment kind" in p for p in problems)
    assert any("['family'] must be a whole number of minutes from 5 to 240" in p for p in problems)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "massage"}, "Choose the kind of appointment from the list."),
        ({"kind": ""}, "This field is required."),
        ({"minutes": "ten"}, "The length is a whole number of minutes."),
        ({"minutes": "10000"}, "Ensure this value is less than or equal to 240."),
        ({"minutes": "-50"}, "Ensure this value is greater than or equal to 5."),
        ({"minutes": "5" * 10_000}, "The length is a whole number of minutes."),
        ({"clinician": "999999"}, "Choose a clinician from the list."),
        ({"clinician": "x\x00"}, "Null characters are not allowed."),
    ],
)
def test_forged_kind_length_or_clinician_is_refused_with_a_message(
    clinician, client_as, changes, message
):
    client = _admitted(clinician)
    response = client_as(clinician).post(URL, _data(client, clinician, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_clinician_not_offered_is_refused_with_the_reason(clinician, other_clinician, client_as):
    client = _admitted(clinician)
    response = client_as(clinician).post(URL, _data(client, other_clinician))
    assert response.status_code == 400
    assert "may not write this client&#x27;s notes" in response.content.decode()
    assert not Appointment.objects.exists()


def _booked(client, clinician, *, start="12:00", minutes=50, kind="individual", room=None):
    begins = at(WEDNESDAY, start)
    return Appointment.objects.create(
        client=client,
        clinician=clinician,
        kind=kind,
        starts_at=begins,
        ends_at=begins + timedelta(minutes=minutes),
        room=room,
        booked_by=clinician,
    )


def test_a_clash_names_the_other_appointment_its_day_time_kind_and_client(clinician, client_as):
    first = _admitted(clinician, legal_first_name="Rowan", legal_last_name="Quill")
    second = _admitted(clinician)
    _booked(first, clinician, start="11:30", kind="family")
    response = client_as(clinician).post(URL, _data(second, clinician))
    assert response.status_code == 400
    html = response.content.decode()
    said = (
        f"{clinician} is already booked at that time: Family session with "
        f"{first.display_name} (MRN {first.mrn}) on {when.day(WEDNESDAY)}, "
        f"{shown('11:30')}–{shown('12:20')}."
    )
    assert said.replace("'", "&#x27;") in html
    assert Appointment.objects.count() == 1


def test_a_clash_with_a_client_the_viewer_may_not_see_does_not_name_them(
    clinician, other_clinician, admin_user, client_as
):
    hidden = ClientFactory(status="active", legal_first_name="Zed", legal_last_name="Zebulon")
    EpisodeFactory(client=hidden)
    with_care_team(hidden, other_clinician)
    # Booked before alice lost her reason to see the client: still her time.
    _booked(hidden, clinician, start="12:30")
    mine = _admitted(clinician)
    html = client_as(clinician).post(URL, _data(mine, clinician)).content.decode()
    assert (
        f"is already booked at that time: another appointment of yours (Individual therapy) "
        f"on {when.day(WEDNESDAY)}, {shown('12:30')}–{shown('13:20')}."
    ) in html
    assert "Zebulon" not in html and hidden.mrn not in html
    # The program admin sees every client: the same clash names them.
    html = client_as(admin_user).post(URL, _data(mine, clinician)).content.decode()
    assert f"Individual therapy with {hidden.display_name} (MRN {hidden.mrn})" in html


def test_a_clash_with_a_group_session_names_the_group_day_and_time(
    clinician, admin_user, client_as
):
    group = GroupFactory(name="IOP 3 Midday", facilitator=clinician, weekdays=[2])
    services.sessions_generate(weeks=1, today=TUESDAY)
    session = group.sessions.get(date=WEDNESDAY)
    client = _admitted(clinician)
    start = timezone.localtime(session.starts_at)
    html = (
        client_as(clinician)
        .post(URL, _data(client, clinician, start=start.strftime("%H:%M")))
        .content.decode()
    )
    assert (
        f"is already booked at that time: IOP 3 Midday (group session) on "
        f"{when.day(WEDNESDAY)}, {when.clock(session.starts_at)}–{when.clock(session.ends_at)}."
    ) in html


def test_a_room_clash_names_what_holds_the_room(clinician, other_clinician, client_as):
    room = RoomFactory(name="Room Q")
    theirs = _admitted(other_clinician)
    _booked(theirs, other_clinician, start="12:00", kind="medication", minutes=25, room=room)
    mine = _admitted(clinician)
    html = client_as(clinician).post(URL, _data(mine, clinician, room=room.pk)).content.decode()
    assert (
        f"The room is already booked at that time: another appointment of {other_clinician} "
        f"(Medication management) on {when.day(WEDNESDAY)}, {shown('12:00')}–{shown('12:25')}."
    ) in html
    assert theirs.display_name not in html
