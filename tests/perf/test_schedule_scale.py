"""Scheduling pages on a year of data (PostgreSQL only): 3,000 clients in 60 groups,
a year of sessions (~9,400) and ~470,000 attendance rows. The chart's weekly hours,
the attendance sheet, the program day and a clinician's week must answer in tens of
milliseconds, with query counts that do not depend on the volume."""

import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.services import care_team_add
from scheduling.models import Group, GroupSession, Room, Slot, Track
from scheduling.services import sessions_generate

pytestmark = [
    pytest.mark.perf,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

CLIENTS, GROUPS = 3_000, 60


@pytest.fixture
def year(clinician, admin_user):
    today = timezone.localdate()
    tracks = {t.code: t for t in Track.objects.all()}
    slots = list(Slot.objects.all())
    rooms = Room.objects.bulk_create([Room(name=f"Perf room {n}") for n in range(GROUPS)])
    groups = Group.objects.bulk_create(
        [
            Group(
                name=f"Perf group {n}",
                track=tracks["iop3"],
                slot=slots[n % len(slots)],
                weekdays=[0, 2, 4] if n % 2 else [1, 3, 5],
                room=rooms[n % len(rooms)],
                capacity=60,
            )
            for n in range(GROUPS)
        ]
    )
    groups[0].facilitators.add(clinician)
    sessions = sessions_generate(weeks=56, today=today - timedelta(weeks=52))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO clients_client (public_id, mrn, legal_first_name, legal_last_name,
                preferred_name, date_of_birth, pronouns, phone, email, profession, employer,
                monitoring_program, monitoring_contact, referral_source, primary_substances,
                co_occurring_conditions, status, reminder_channel, reminder_consent,
                reminder_may_name_program, created_at)
            SELECT gen_random_uuid(), 'S' || g, 'First' || g, 'Last' || g, '',
                date '1980-01-01' + (g %% 9000), '', '', '', 'pilot', '', '', '', '', '[]', '',
                'active', 'none', false, false, now()
            FROM generate_series(1, %s) g
            """,
            [CLIENTS],
        )
        cursor.execute(
            """
            INSERT INTO clients_episode (public_id, client_id, admitted_on, asam_level,
                dimension_ratings, dimension_notes, planned_length_days, discharge_reason,
                discharge_summary, continuing_care)
            SELECT gen_random_uuid(), id, %s, '2.1', '{}', '{}', 365, '', '', ''
            FROM clients_client WHERE mrn LIKE 'S%%'
            """,
            [today - timedelta(weeks=53)],
        )
        cursor.execute(
            """
            INSERT INTO scheduling_enrollment (public_id, client_id, episode_id, track_id,
                group_id, start_on, status, created_by_id, created_at)
            SELECT gen_random_uuid(), c.id, e.id, %s,
                (%s::int[])[1 + (c.id %% %s)], %s, 'active', %s, now()
            FROM clients_client c JOIN clients_episode e ON e.client_id = c.id
            WHERE c.mrn LIKE 'S%%'
            """,
            [
                tracks["iop3"].pk,
                [g.pk for g in groups],
                GROUPS,
                today - timedelta(weeks=52),
                admin_user.pk,
            ],
        )
        cursor.execute(
            """
            INSERT INTO scheduling_attendance (session_id, client_id, status, minutes,
                is_makeup, recorded_by_id, recorded_at, late_entry)
            SELECT s.id, en.client_id,
                CASE WHEN (s.id + en.client_id) %% 10 = 0 THEN 'unexcused' ELSE 'present' END,
                CASE WHEN (s.id + en.client_id) %% 10 = 0 THEN 0 ELSE 180 END,
                false, %s, now(), false
            FROM scheduling_enrollment en
            JOIN scheduling_groupsession s ON s.group_id = en.group_id AND s.date < %s
            """,
            [admin_user.pk, today],
        )
        cursor.execute("SELECT count(*) FROM scheduling_attendance")
        attendance_rows = cursor.fetchone()[0]
        cursor.execute("ANALYZE")
    # alice's client in her own group: the chart she opens.
    client = Client.objects.filter(enrollments__group=groups[0]).first()
    care_team_add(client=client, staff=clinician, role="primary", actor=admin_user)
    session = GroupSession.objects.filter(group=groups[0], date__lte=today).latest("date")
    return {
        "client": client,
        "session": session,
        "sessions": sessions,
        "attendance": attendance_rows,
    }


def _median_ms(fn, runs=10):
    fn()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def test_schedule_pages_on_a_year_of_data(
    year, clinician, client_as, django_assert_max_num_queries, capsys
):
    assert year["attendance"] > 400_000
    http = client_as(clinician)
    pages = {
        "chart (weekly hours, readiness)": (
            reverse("clients:chart", args=[year["client"].public_id]),
            31,  # named in tests/scheduling/test_views.py (40 before issue 13's pass)
        ),
        "attendance sheet (50 clients)": (
            reverse("scheduling:attendance_sheet", args=[year["session"].public_id]),
            12,
        ),
        "program day (~30 sessions)": (reverse("scheduling:day"), 10),
        "clinician week": (reverse("scheduling:week"), 10),
    }
    lines = []
    for label, (url, max_queries) in pages.items():
        with django_assert_max_num_queries(max_queries):
            assert http.get(url).status_code == 200
        ms = _median_ms(lambda url=url: http.get(url))
        lines.append(f"{label}: {ms:.1f} ms")
        assert ms < 150, label
    with capsys.disabled():
        print(
            f"\n{year['sessions']:,} sessions, {year['attendance']:,} attendance rows: "
            + "; ".join(lines)
        )
