"""seed_scale at a tiny size: the dataset keeps the rules a real clinic's data keeps
(permissions the care team explains, an audit chain that verifies) and the landmarks
a benchmark signs in with open real pages."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clients.models import CareTeamMember, Client, ClientUserObjectPermission
from clients.services import client_register
from clinical.notes.models import ProgressNote
from scheduling.models import Attendance, Enrollment, GroupSession
from tooling import scale

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

CLIENTS = 40


def _run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def _seed(*args):
    return _run("seed_scale", "--clients", str(CLIENTS), "--i-know-this-is-not-production", *args)


def _sign_in(client, username, password):
    # Through the sign-in page, as the benchmark does: the seeded password works.
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]


def test_a_second_run_adds_nothing_and_reset_rebuilds():
    _seed()
    sizes = scale.dataset_size(exact=True)

    assert "nothing to do" in _seed()
    assert scale.dataset_size(exact=True) == sizes

    _seed("--reset")
    after = scale.dataset_size(exact=True)
    # The same plans (a fixed seed); the statuses drawn in SQL may differ a little.
    for key in ("clients", "episodes", "enrollments", "sessions", "care_team", "groups"):
        assert after[key] == sizes[key], key
    assert abs(after["attendance"] - sizes["attendance"]) < sizes["attendance"] * 0.05
    # The trail is append-only: a reset adds the new dataset's rows after the old ones.
    assert after["audit"] == 2 * sizes["audit"]
    assert "Audit chain holds" in _run("verify_audit")
    report = _run("rebuild_client_permissions", "--dry-run")
    assert "0 clients would change" in report


def test_refuses_a_database_with_real_clients_unless_forced(intake_user):
    real = client_register(
        actor=intake_user,
        legal_first_name="Rita",
        legal_last_name="Real",
        date_of_birth=date(1980, 5, 1),
        profession="nurse",
    )
    with pytest.raises(CommandError, match="1 clients seed_scale did not create"):
        _seed()
    with pytest.raises(CommandError, match="--reset would delete them"):
        _seed("--reset", "--force")
    assert not Client.objects.filter(mrn__startswith=scale.MRN_PREFIX).exists()

    _seed("--force")
    assert Client.objects.filter(pk=real.pk).exists()
    assert "0 clients would change" in _run("rebuild_client_permissions", "--dry-run")


def test_refuses_with_debug_off_without_the_explicit_flag(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="known password"):
        call_command("seed_scale", "--clients", str(CLIENTS), stdout=StringIO())
    assert not Client.objects.exists()


def test_a_seeded_clinic_keeps_the_rules_and_its_landmarks_open_real_pages(client, settings):
    settings.IOP_REQUIRE_2FA = False
    _seed()

    assert Client.objects.filter(mrn__startswith=scale.MRN_PREFIX).count() == CLIENTS
    assert ClientUserObjectPermission.objects.exists()
    # Nothing for the rebuild to grant or revoke: every row has a care team behind it.
    report = _run("rebuild_client_permissions", "--dry-run")
    assert "0 clients would change: 0 permissions granted, 0 revoked." in report
    assert "Audit chain holds" in _run("verify_audit")
    # A year of history and every attendance status a clinic records.
    statuses = set(Attendance.objects.values_list("status", flat=True))
    assert {"present", "late", "left_early", "telehealth", "excused", "unexcused"} <= statuses
    assert Attendance.objects.filter(is_makeup=True).exists()
    assert Enrollment.objects.filter(status="stepped_down").exists()
    assert Enrollment.objects.filter(status="discharged").exists()
    # Nothing recorded before it happened (issue 19): no attendance before its session
    # began, no note signed before its session or appointment ended, and nothing dated
    # after the moment the data was seeded.
    now = timezone.now()
    assert not Attendance.objects.filter(recorded_at__lt=F("session__starts_at")).exists()
    assert not Attendance.objects.filter(recorded_at__gt=now).exists()
    signed = ProgressNote.objects.filter(status="signed")
    assert signed.exists()
    assert not signed.filter(signed_at__gt=now).exists()
    assert not signed.filter(session__isnull=False, signed_at__lt=F("session__ends_at")).exists()
    assert not signed.filter(
        appointment__isnull=False, signed_at__lt=F("appointment__ends_at")
    ).exists()
    assert not signed.filter(cosigned_at__lt=F("signed_at")).exists()

    marks = scale.landmarks()

    assert marks["clients"] == CLIENTS
    sheet = GroupSession.objects.get(public_id=marks["sheet_session"])
    assert sheet.group.name == scale.SHEET_GROUP
    assert Enrollment.objects.on(sheet.date).filter(group=sheet.group).count() == 4
    assert (
        marks["caseload"]
        == CareTeamMember.objects.filter(
            staff__username=scale.CLINICIAN, role="primary", client__status="active"
        ).count()
    )

    _sign_in(client, marks["clinician"], marks["password"])
    chart = client.get(reverse("clients:chart", args=[marks["chart_client"]]))
    assert chart.status_code == 200
    assert marks["chart_client_mrn"] in chart.content.decode()
    sheet_page = client.get(reverse("scheduling:attendance_sheet", args=[marks["sheet_session"]]))
    assert sheet_page.status_code == 200
    note_page = client.get(reverse("notes:group_note", args=[marks["note_session"]]))
    assert note_page.status_code == 200
    # Left unsigned on purpose: the benchmark times the form, not a locked note.
    assert ProgressNote.objects.get(session__public_id=marks["note_session"]).status == "draft"
    assert client.get(reverse("clients:caseload")).status_code == 200

    client.logout()
    _sign_in(client, marks["admin"], marks["password"])
    assert client.get(reverse("audit:list")).status_code == 200
    sizes = scale.dataset_size()
    assert sizes["audit"] == CLIENTS * 200
    assert connection.vendor == "postgresql"
