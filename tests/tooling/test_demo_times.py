"""The demo tells no time ahead (issue 19 #1), whenever it is seeded: on a Friday at
09:35, as the issue's tester found it, no note of a group that has not ended is
signed or co-signed, no attendance is taken for a session not begun, no appointment
comes before its client's admission, and no medication, measure, screen or breath
test is dated in the future."""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Min
from django.test import override_settings
from django.utils import timezone

from clients.models import Episode
from clinical.meds.models import Measure, Medication
from clinical.notes.models import ProgressNote
from clinical.notes.services import signing_not_yet
from scheduling.models import Appointment, Attendance
from scheduling.services import attendance_not_yet
from screening.models import BreathTest, UrineScreen
from tests.clock import at

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 12, 4)


def test_the_demo_seeded_on_a_friday_morning_records_nothing_ahead(time_machine):
    # On PostgreSQL the demo's co-signatures are checked against the database's own
    # clock (clinical/notes/lock.py), which time-machine does not move: seeded now.
    if connection.vendor != "postgresql":
        time_machine.move_to(at(FRIDAY, "09:35"), tick=False)
    with override_settings(
        DEBUG=True,  # seed_demo refuses to run without it (known passwords)
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        call_command("seed_demo", stdout=io.StringIO())
    now = timezone.now()

    signed = ProgressNote.objects.filter(status="signed").select_related("session", "appointment")
    assert signed.exists()
    for note in signed:
        assert signing_not_yet(note, now=note.signed_at) is None, note
        if note.cosigned_at:
            assert signing_not_yet(note, now=note.cosigned_at, verb="co-signed") is None
    drafts = ProgressNote.objects.filter(status="draft").select_related("session", "appointment")
    for note in drafts:
        assert (note.session or note.appointment).starts_at <= note.created_at

    attendance = Attendance.objects.select_related("session")
    assert attendance.exists()
    for row in attendance:
        assert attendance_not_yet(row.session, row.status, now=row.recorded_at) is None, row

    admitted = dict(
        Episode.objects.values("client_id")
        .annotate(first=Min("admitted_on"))
        .values_list("client_id", "first")
    )
    for appointment in Appointment.objects.all():
        assert timezone.localtime(appointment.starts_at).date() >= admitted[appointment.client_id]
    today = timezone.localdate()
    assert not Medication.objects.filter(started_on__gt=today).exists()
    assert not Measure.objects.filter(administered_on__gt=today).exists()
    assert not UrineScreen.objects.filter(collected_at__gt=now).exists()
    assert not BreathTest.objects.filter(tested_at__gt=now).exists()
    assert not BreathTest.objects.filter(confirm_at__gt=now).exists()
    assert not ProgressNote.objects.filter(signed_at__gt=now).exists()
    assert not Attendance.objects.filter(recorded_at__gt=now + timedelta(seconds=1)).exists()
    assert not Attendance.objects.filter(recorded_at__lt=F("session__starts_at")).exists()
