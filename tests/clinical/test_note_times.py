"""Nothing is attested before it happened (issue 19 #1): a group or appointment note
is drafted once its session has begun and signed, or co-signed, only once it is
over: at its recorded time out (which is never in the future, nor before the start),
else at its scheduled end. The clock is driven a minute either side of each edge, on
an ordinary day, across midnight and on both daylight-saving days; the sign page says
when signing opens and a forged post is refused with the same words."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinical.notes import services
from clinical.notes.models import CosignStatus, NoteStatus, ProgressNote
from iop import when
from iop.audit.models import AuditEvent
from scheduling import services as scheduling
from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team
from tests.clinical.notes_factories import complete_content, individual_content, section
from tests.clock import FALL_BACK, SPRING_FORWARD, TUESDAY, at, shown
from tests.iop.factories import PASSWORD
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

pytestmark = pytest.mark.django_db


def _group(clinician, admin_user, time_machine, start, end):
    """A session from ``start`` to ``end`` with one client, marked present once the
    session is under way; the clock is left at ``start`` + 20 minutes."""
    time_machine.move_to(start - timedelta(days=1), tick=False)
    group = GroupFactory(facilitator=clinician)
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=start.date() - timedelta(days=30))
    with_care_team(client, clinician)
    scheduling.enrollment_create(
        client=client, group=group, start_on=start.date() - timedelta(days=7), actor=admin_user
    )
    session = GroupSessionFactory(group=group, date=start.date(), starts_at=start, ends_at=end)
    time_machine.move_to(start + timedelta(minutes=20), tick=False)
    scheduling.attendance_record(
        session=session, client=client, status="present", minutes=None, actor=clinician
    )
    return session, client


def _draft(session, client, clinician, **times):
    return services.group_note_save(
        session=session,
        content=complete_content(session, **times),
        sections={client: section(client)},
        actor=clinician,
    )


def _sign(note, clinician, password=PASSWORD):
    return services.note_sign(note=note, actor=clinician, password=password)


@pytest.fixture
def tuesday(clinician, admin_user, time_machine):
    return _group(clinician, admin_user, time_machine, at(TUESDAY, "18:00"), at(TUESDAY, "21:00"))


# --- Drafting -------------------------------------------------------------------------------


def test_a_group_note_is_drafted_once_the_session_has_begun(tuesday, clinician, time_machine):
    session, client = tuesday
    time_machine.move_to(at(TUESDAY, "17:59"), tick=False)
    with pytest.raises(ValidationError) as refusal:
        _draft(session, client, clinician)
    assert refusal.value.messages == [
        f"This session begins at {shown('18:00')}: its note is written once it has begun."
    ]
    assert not ProgressNote.objects.exists()
    time_machine.move_to(at(TUESDAY, "18:01"), tick=False)
    assert _draft(session, client, clinician).status == NoteStatus.DRAFT


# --- Signing at the time out, a minute either side ------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (TUESDAY, "18:00", "21:00"),
        (FALL_BACK, "18:00", "21:00"),  # evening of the day the clocks went back (EST)
        (SPRING_FORWARD, "07:00", "10:00"),  # morning of the day they went forward (EDT)
    ],
    ids=["ordinary", "clocks-back", "clocks-forward"],
)
def test_a_note_is_signed_only_after_its_end(clinician, admin_user, time_machine, day, start, end):
    session, client = _group(clinician, admin_user, time_machine, at(day, start), at(day, end))
    note = _draft(session, client, clinician)
    minute_before = at(day, end) - timedelta(minutes=1)
    time_machine.move_to(minute_before, tick=False)
    with pytest.raises(ValidationError) as refusal:
        _sign(note, clinician)
    assert refusal.value.messages == [
        f"This note can be signed from {shown(end)}, its recorded time out."
    ]
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
    time_machine.move_to(at(day, end) + timedelta(minutes=1), tick=False)
    signed = _sign(note, clinician)
    assert signed.status == NoteStatus.SIGNED
    assert signed.signed_at == at(day, end) + timedelta(minutes=1)


def test_a_session_that_ended_early_is_signed_after_its_recorded_time_out(
    tuesday, clinician, time_machine
):
    session, client = tuesday
    note = _draft(session, client, clinician, time_out=time(20, 30))
    time_machine.move_to(at(TUESDAY, "20:29"), tick=False)
    with pytest.raises(ValidationError, match=f"from {shown('20:30')}, its recorded time out"):
        _sign(note, clinician)
    time_machine.move_to(at(TUESDAY, "20:31"), tick=False)
    assert _sign(note, clinician).status == NoteStatus.SIGNED


def test_a_time_out_after_the_scheduled_end_is_not_in_the_future_when_signed(
    tuesday, clinician, time_machine
):
    session, client = tuesday
    note = _draft(session, client, clinician, time_out=time(21, 20))
    time_machine.move_to(at(TUESDAY, "21:19"), tick=False)  # the session is over, on paper
    with pytest.raises(ValidationError, match=f"from {shown('21:20')}, its recorded time out"):
        _sign(note, clinician)
    time_machine.move_to(at(TUESDAY, "21:21"), tick=False)
    assert _sign(note, clinician).status == NoteStatus.SIGNED


def test_a_time_out_before_the_session_began_is_refused(tuesday, clinician, time_machine):
    session, client = tuesday
    note = _draft(session, client, clinician, time_in=time(9, 0), time_out=time(9, 30))
    time_machine.move_to(at(TUESDAY, "21:30"), tick=False)
    with pytest.raises(ValidationError) as refusal:
        _sign(note, clinician)
    assert refusal.value.messages == [
        f"The time out ({shown('09:30')}) is not after the session began "
        f"({shown('18:00')}): correct it before the note is signed."
    ]


def test_a_refused_signature_checks_no_password(tuesday, clinician, time_machine):
    """Too early is said before the password is compared: no wrong entry is counted
    and no denied signature is written for a note that could not be signed anyway."""
    session, client = tuesday
    note = _draft(session, client, clinician)
    time_machine.move_to(at(TUESDAY, "20:59"), tick=False)
    with pytest.raises(ValidationError, match=f"can be signed from {shown('21:00')}"):
        _sign(note, clinician, password="wrong")
    assert not AuditEvent.objects.filter(action__in=["note.sign", "auth.reentry"]).exists()


# --- Across midnight: an appointment that ends a minute before it -----------------------------


def test_an_appointment_ending_at_23_59_is_signed_after_midnight(clinician, time_machine):
    wednesday = TUESDAY + timedelta(days=1)
    time_machine.move_to(at(TUESDAY, "09:00"), tick=False)
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=TUESDAY - timedelta(days=10))
    with_care_team(client, clinician)
    appointment = scheduling.appointment_book(
        client=client,
        clinician=clinician,
        kind="individual",
        starts_at=at(TUESDAY, "22:59"),
        ends_at=at(TUESDAY, "23:59"),
        actor=clinician,
    )
    time_machine.move_to(at(TUESDAY, "22:58"), tick=False)
    with pytest.raises(ValidationError, match="not started yet"):
        services.appointment_note_save(
            appointment=appointment, content=individual_content(appointment), actor=clinician
        )
    time_machine.move_to(at(TUESDAY, "23:00"), tick=False)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    time_machine.move_to(at(TUESDAY, "23:58"), tick=False)
    with pytest.raises(ValidationError) as refusal:
        _sign(note, clinician)
    assert refusal.value.messages == [
        f"This note can be signed from {shown('23:59')}, its recorded time out."
    ]
    # A minute after the end is the next day: the time out is of the appointment's day.
    time_machine.move_to(at(wednesday, "00:00"), tick=False)
    assert _sign(note, clinician).status == NoteStatus.SIGNED


# --- The pages ---------------------------------------------------------------------------------


def test_the_sign_page_says_when_signing_opens_and_refuses_a_forged_post(
    tuesday, clinician, client_as, time_machine
):
    session, client = tuesday
    _draft(session, client, clinician)
    url = reverse("notes:group_sign", args=[session.public_id])
    time_machine.move_to(at(TUESDAY, "20:59"), tick=False)
    http = client_as(clinician)
    page = http.get(url).content.decode()
    assert f"This note can be signed from {shown('21:00')}, its recorded time out." in page
    assert 'name="password"' not in page
    note_page = http.get(reverse("notes:group_note", args=[session.public_id])).content.decode()
    assert f"This note can be signed from {shown('21:00')}" in note_page
    forged = http.post(url, {"password": PASSWORD})
    assert forged.status_code == 400
    assert (
        f"This note can be signed from {shown('21:00')}, its recorded time out."
        in forged.content.decode()
    )
    assert ProgressNote.objects.get().status == NoteStatus.DRAFT

    time_machine.move_to(at(TUESDAY, "21:01"), tick=False)
    http = client_as(clinician)
    page = http.get(url).content.decode()
    assert 'name="password"' in page and "can be signed from" not in page
    assert http.post(url, {"password": PASSWORD}).status_code == 302
    assert ProgressNote.objects.get().status == NoteStatus.SIGNED


def test_the_group_note_page_before_the_session_says_when_it_opens(
    tuesday, clinician, client_as, time_machine
):
    session, _client = tuesday
    time_machine.move_to(at(TUESDAY, "17:50"), tick=False)
    http = client_as(clinician)
    page = http.get(reverse("notes:group_note", args=[session.public_id])).content.decode()
    assert (
        f"This session begins at {shown('18:00')}: its note is written once it has begun." in page
    )
    assert 'id="note-form"' not in page
    assert reverse("notes:session_plan", args=[session.public_id]) in page  # planned before
    autosave = http.post(
        reverse("notes:group_autosave", args=[session.public_id]), {"narrative": "Early."}
    )
    assert autosave.status_code == 400
    assert not ProgressNote.objects.exists()


# --- Co-signature --------------------------------------------------------------------------


def test_a_cosignature_waits_for_the_end_too(
    clinician, supervisor, admin_user, client_as, time_machine
):
    """Near the real clock: on PostgreSQL the co-signature's time is checked against
    the database's own (clinical/notes/lock.py). The note is signed after its end and
    the clock then set back, as for a note signed before this rule: the supervisor is
    still told to wait."""
    end = timezone.localtime().replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=10)
    if start.date() != end.date():
        pytest.skip("the ten minutes after midnight: the session would span two days")
    session, client = _group(clinician, admin_user, time_machine, start, end)
    note = _draft(session, client, clinician)
    time_machine.move_to(end + timedelta(minutes=1), tick=False)
    _sign(note, clinician)

    time_machine.move_to(end - timedelta(minutes=1), tick=False)
    wait = f"This note can be co-signed from {when.clock(end)}, its recorded time out."
    with pytest.raises(ValidationError) as refusal:
        services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
    assert refusal.value.messages == [wait]
    page = client_as(supervisor).get(reverse("notes:group_cosign", args=[note.public_id]))
    assert wait in page.content.decode()
    assert 'data-testid="cosign-form"' not in page.content.decode()

    time_machine.move_to(end + timedelta(minutes=1), tick=False)
    cosigned = services.note_cosign(note=note, actor=supervisor, password=PASSWORD)
    assert cosigned.cosign_status == CosignStatus.COSIGNED
