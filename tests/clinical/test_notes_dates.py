"""Every list and page of notes shows the date of service first, the signing as such
("signed Dec 4, 2026, 9:35 AM") and late entries marked: an individual session of
Tuesday signed on Friday is listed on Tuesday, never on Friday."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical.notes import services
from clinical.notes.models import late_entry_after
from iop import when
from tests.clinical.notes_factories import (
    client_with_team,
    group_session,
    individual_content,
    past_appointment,
    signed_group_note,
)
from tests.iop.factories import PASSWORD

pytestmark = pytest.mark.django_db

DAYS_AGO = 5


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _items(html: str, testid: str) -> list[str]:
    """The text of each <li> of the list ``data-testid=testid``."""
    block = re.search(rf'data-testid="{testid}"(.*?)</(ul|ol)>', html, re.S).group(1)
    return [_text(li) for li in re.findall(r"<li.*?</li>", block, re.S)]


def _signed_appointment_note(client, clinician, *, hours_ago):
    appointment = past_appointment(client, clinician, hours_ago=hours_ago)
    note = services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    return services.note_sign(note=note, actor=clinician, password=PASSWORD)


def _service(note) -> str:
    return f"{when.day(note.service_start)} · {when.clock(note.service_start)}"


@pytest.fixture
def two_notes(clinician):
    """A note of a session five days ago signed now (a late entry), and a note of this
    morning's session signed first, so neither signing nor creation order is the
    order of service."""
    client = client_with_team(clinician)
    recent = _signed_appointment_note(client, clinician, hours_ago=3)
    older = _signed_appointment_note(client, clinician, hours_ago=24 * DAYS_AGO)
    return client, older, recent


def test_the_chart_lists_notes_by_date_of_service_with_the_signing_after_it(
    two_notes, clinician, client_as
):
    client, older, recent = two_notes
    assert older.late_entry and not recent.late_entry
    http = client_as(clinician)
    for url in (
        reverse("notes:client_notes", args=[client.public_id]),
        reverse("clients:chart", args=[client.public_id]),
    ):
        items = _items(http.get(url).content.decode(), "notes-timeline")
        assert len(items) == 2
        newest, oldest = items
        assert newest.startswith(_service(recent))
        assert oldest.startswith(_service(older))
        assert f"signed {when.moment(older.signed_at)}" in oldest
        assert "late entry" in oldest and "late entry" not in newest
        # The day it was signed is not the day it is listed under.
        assert not oldest.startswith(when.day(older.signed_at))


def test_the_cosign_queue_shows_each_notes_date_of_service_first(two_notes, supervisor, client_as):
    _client, older, recent = two_notes
    html = client_as(supervisor).get(reverse("dashboard")).content.decode()
    items = _items(html, "cosign-queue")
    # Oldest service first: the queue is worked from the oldest session.
    assert [i.split(" · ")[0] for i in items] == [
        when.day(older.service_start),
        when.day(recent.service_start),
    ]
    assert f"signed {when.moment(older.signed_at)}" in items[0]
    assert "late entry" in items[0] and "late entry" not in items[1]


def test_the_cosign_page_says_the_service_then_the_signature(two_notes, supervisor, client_as):
    _client, older, _recent = two_notes
    page = _text(
        client_as(supervisor).get(reverse("notes:cosign", args=[older.public_id])).content.decode()
    )
    end = when.clock(older.service_end)
    assert f"{when.day(older.service_start)} · {when.clock(older.service_start)}–{end}" in page
    assert f"Signed by {older.signed_by} on {when.moment(older.signed_at)}" in page
    assert "late entry" in page


def test_my_notes_in_progress_are_listed_by_date_of_service(clinician, client_as):
    client = client_with_team(clinician)
    appointment = past_appointment(client, clinician, hours_ago=24 * DAYS_AGO)
    services.appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    items = _items(client_as(clinician).get(reverse("dashboard")).content.decode(), "my-notes")
    assert len(items) == 1
    assert items[0].startswith(when.day(appointment.starts_at))
    assert when.day(timezone.now()) not in items[0]


def test_a_group_note_is_listed_on_its_sessions_day(clinician, admin_user, client_as):
    session, present, _ = group_session(clinician, admin_user, 1)
    signed_group_note(session, present, clinician)
    items = _items(
        client_as(clinician)
        .get(reverse("notes:client_notes", args=[present[0].public_id]))
        .content.decode(),
        "notes-timeline",
    )
    assert items[0].startswith(
        f"{when.day(session.starts_at)} · {when.clock(session.starts_at)}–"
        f"{when.clock(session.ends_at)}"
    )


def test_late_entry_is_one_setting_72_hours_by_default(clinician, settings):
    assert late_entry_after() == timedelta(hours=72)
    client = client_with_team(clinician)
    assert _signed_appointment_note(client, clinician, hours_ago=24 * 4).late_entry
    assert not _signed_appointment_note(client, clinician, hours_ago=24 * 2).late_entry
    settings.IOP_LATE_ENTRY_HOURS = 24 * DAYS_AGO
    assert not _signed_appointment_note(client, clinician, hours_ago=24 * 3 + 2).late_entry
