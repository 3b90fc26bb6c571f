"""The attendance and billable-days reports against a small hand-worked fixture.

Range: Monday 7 to Sunday 20 September 2026, two whole weeks. Floors are 9 h a week
(IOP 6 and IOP 3 both, migration scheduling.0002).

Ada: IOP 6 evening group (Mon-Sat) from 31 Aug, steps down to IOP 3 evening (Mon, Wed,
Fri) on Monday 14 Sep.
  week 1 (IOP 6): Mon present 180, Tue late 150, Wed CANCELLED (a stray present row on
  it counts nowhere), Thu telehealth 180, Fri excused 0, Sat present 180
  week 2 (IOP 3): Mon present 180, Wed unexcused 0, Fri left early 120,
  Sat make-up in the IOP 3 *midday* group, present 180
  scheduled 5 + 3 = 8; attended 7 (incl. the make-up); late 1, left early 1,
  telehealth 1, excused 1, unexcused 1; rate 7/8 = 88 %; minutes 690 + 480 = 1170
  = 19.50 h; whole weeks 2, required 18.00 h; week 2 has 8 h < 9 h: 1 below;
  days with 3 h: Mon, Thu, Sat (week 1), Mon, Sat (week 2) = 5; billable: week 1
  has 3 such days (3), week 2 has 2 (0) = 3.
Ben: IOP 3 evening from Wednesday 9 Sep, present 180 at every session: Wed 9, Fri 11,
  Mon 14, Wed 16, Fri 18: scheduled 5, attended 5, 100 %, 15.00 h; only week 2 is
  whole: 9.00 h required, 9 h attended, 0 below; days 3 h 5; billable: week 1 has 2
  (0), week 2 has 3 (3) = 3.

The billable figures above are the per-client-week H0015 rule (scheduling.billing), which
this module pins; under the descriptor's default, per day of a qualifying program, every
attended day is billable (IOP 3 and IOP 6 both operate 3 h on 3 or more days a week):
Ada 4 + 3 = 7, Ben 5 (``test_the_default_rule_bills_every_attended_program_day``).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iop.audit.models import AuditEvent
from scheduling.models import Attendance, Enrollment, EnrollmentStatus
from scheduling.reports import ATTENDANCE_COLUMNS, attendance_rows, billable_day_rows
from tests.clients.factories import EpisodeFactory, with_care_team
from tests.iop.report_csv import report_csv_rows
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, slot, track

pytestmark = pytest.mark.django_db

START, END = date(2026, 9, 7), date(2026, 9, 20)
QUERY = {"start": "2026-09-07", "end": "2026-09-20"}


def d(day):
    return date(2026, 9, day)


@pytest.fixture(autouse=True)
def client_week_rule(settings):
    settings.IOP_H0015_RULE = "client_week"


@pytest.fixture
def program(admin_user, clinician):
    g6 = GroupFactory(name="IOP 6 evening", track=track("iop6"), weekdays=[0, 1, 2, 3, 4, 5])
    g3 = GroupFactory(name="IOP 3 evening", track=track("iop3"), weekdays=[0, 2, 4])
    g3m = GroupFactory(name="IOP 3 midday", track=track("iop3"), slot=slot("midday"), weekdays=[5])
    s6 = {day: GroupSessionFactory(group=g6, date=d(day)) for day in (7, 8, 9, 10, 11, 12, 14)}
    s3 = {day: GroupSessionFactory(group=g3, date=d(day)) for day in (7, 9, 11, 14, 16, 18)}
    makeup = GroupSessionFactory(group=g3m, date=d(19))
    s6[9].cancelled_at = s6[9].starts_at - timedelta(days=1)
    s6[9].save()

    ada = EpisodeFactory(admitted_on=date(2026, 8, 31)).client
    ben = EpisodeFactory(admitted_on=date(2026, 9, 9)).client
    ada_ep, ben_ep = ada.episodes.get(), ben.episodes.get()
    Enrollment.objects.create(
        client=ada, episode=ada_ep, track=g6.track, group=g6, start_on=date(2026, 8, 31),
        ended_on=d(14), status=EnrollmentStatus.STEPPED_DOWN, created_by=admin_user,
    )  # fmt: skip
    Enrollment.objects.create(
        client=ada, episode=ada_ep, track=g3.track, group=g3, start_on=d(14),
        created_by=admin_user,
    )  # fmt: skip
    Enrollment.objects.create(
        client=ben, episode=ben_ep, track=g3.track, group=g3, start_on=d(9),
        created_by=admin_user,
    )  # fmt: skip

    def mark(session, client, status, minutes, makeup=False):
        Attendance.objects.create(
            session=session, client=client, status=status, minutes=minutes,
            is_makeup=makeup, recorded_by=admin_user,
        )  # fmt: skip

    mark(s6[7], ada, "present", 180)
    mark(s6[8], ada, "late", 150)
    mark(s6[9], ada, "present", 180)  # on the cancelled session: counts nowhere
    mark(s6[10], ada, "telehealth", 180)
    mark(s6[11], ada, "excused", 0)
    mark(s6[12], ada, "present", 180)
    mark(s3[14], ada, "present", 180)
    mark(s3[16], ada, "unexcused", 0)
    mark(s3[18], ada, "left_early", 120)
    mark(makeup, ada, "present", 180, makeup=True)
    for day in (9, 11, 14, 16, 18):
        mark(s3[day], ben, "present", 180)
    with_care_team(ada, clinician)
    return {"ada": ada, "ben": ben, "g6": g6, "g3": g3, "g3m": g3m}


ADA = {
    "track": "IOP 3",
    "sessions_scheduled": 8,
    "sessions_attended": 7,
    "sessions_late": 1,
    "sessions_left_early": 1,
    "sessions_telehealth": 1,
    "sessions_excused": 1,
    "sessions_unexcused": 1,
    "attendance_rate": 88,
    "hours_attended": Decimal("19.50"),
    "hours_required": Decimal("18.00"),
    "weeks_enrolled": 2,
    "weeks_below_floor": 1,
    "days_3h": 5,
    "billable_days": 3,
}
BEN = {
    "track": "IOP 3",
    "sessions_scheduled": 5,
    "sessions_attended": 5,
    "sessions_late": 0,
    "sessions_left_early": 0,
    "sessions_telehealth": 0,
    "sessions_excused": 0,
    "sessions_unexcused": 0,
    "attendance_rate": 100,
    "hours_attended": Decimal("15.00"),
    "hours_required": Decimal("9.00"),
    "weeks_enrolled": 1,
    "weeks_below_floor": 0,
    "days_3h": 5,
    "billable_days": 3,
}


def _figures(row):
    return {k: row[k] for k in ADA}


def _filters(**extra):
    return {"start": START, "end": END, **extra}


def test_each_figure_matches_the_hand_worked_fixture(program, admin_user):
    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters())}
    assert _figures(rows[program["ada"].mrn]) == ADA
    assert _figures(rows[program["ben"].mrn]) == BEN


def test_one_of_eight_sessions_is_13_percent_on_the_page_and_in_the_csv(
    program, admin_user, client_as
):
    """The worked example of the percentages: 1 of 8 is 12.5 %, shown 13 as a clinic
    reads it (half up) in every report, not 12 (half to even)."""
    ada = program["ada"]
    Attendance.objects.filter(client=ada, is_makeup=True).delete()
    Attendance.objects.filter(client=ada).exclude(session__date=d(7)).update(
        status="unexcused", minutes=0
    )
    row = {r["mrn"]: r for r in attendance_rows(admin_user, _filters())}[ada.mrn]
    assert (row["sessions_scheduled"], row["sessions_attended"]) == (8, 1)
    assert row["attendance_rate"] == 13
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["attendance"]), QUERY)
    html = page.content.decode()
    shown = html[html.index(f'<tr data-mrn="{ada.mrn}">') :].split("</tr>")[0]
    assert "<td>8</td><td>1</td>" in shown and "<td>13</td>" in shown
    response = web.get(reverse("reports:csv", args=["attendance"]), QUERY)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    parsed = {r["mrn"]: r for r in report_csv_rows(body, "attendance")}
    assert parsed[ada.mrn]["attendance_rate"] == "13"


def test_the_evening_slot_leaves_out_the_midday_make_up(program, admin_user):
    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters(slot=slot("evening")))}
    ada = _figures(rows[program["ada"].mrn])
    assert (ada["sessions_attended"], ada["hours_attended"]) == (6, Decimal("16.50"))
    assert (ada["weeks_below_floor"], ada["days_3h"], ada["billable_days"]) == (1, 4, 3)


def test_a_track_filter_judges_only_the_weeks_on_that_track(program, admin_user):
    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters(track=track("iop6")))}
    ada = _figures(rows[program["ada"].mrn])
    # Week 1 only: 5 held IOP 6 sessions, 4 attended, 690 min, whole week at 11.5 h.
    assert (ada["sessions_scheduled"], ada["sessions_attended"]) == (5, 4)
    assert (ada["hours_attended"], ada["weeks_enrolled"], ada["weeks_below_floor"]) == (
        Decimal("11.50"),
        1,
        0,
    )
    assert program["ben"].mrn not in rows


def test_billable_days_per_client_per_day(program, admin_user):
    rows = billable_day_rows(admin_user, _filters())
    ada = [
        (r["date"], r["hours_attended"], r["billable"])
        for r in rows
        if r["mrn"] == program["ada"].mrn
    ]
    assert ada == [
        ("2026-09-07", Decimal("3.00"), "yes"),
        ("2026-09-08", Decimal("2.50"), "no"),
        ("2026-09-10", Decimal("3.00"), "yes"),
        ("2026-09-12", Decimal("3.00"), "yes"),
        ("2026-09-14", Decimal("3.00"), "no"),
        ("2026-09-18", Decimal("2.00"), "no"),
        ("2026-09-19", Decimal("3.00"), "no"),
    ]


def test_the_billable_page_lists_the_first_rows_and_the_csv_all(
    program, admin_user, client_as, monkeypatch
):
    # Two months program-wide are tens of thousands of client-days: the page's table
    # stops at PAGE_ROWS (3 here) and says so; the total and the CSV count every day.
    monkeypatch.setattr("scheduling.reports.PAGE_ROWS", 3)
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["billable-days"]), QUERY)
    every = billable_day_rows(admin_user, _filters())
    assert len(every) > 3
    html = page.content.decode()
    assert html.count("<tr><td>") == 3
    assert f"The first 3 of {len(every)} client-days" in html
    response = web.get(reverse("reports:csv", args=["billable-days"]), QUERY)
    parsed = report_csv_rows(
        b"".join(response.streaming_content).decode("utf-8-sig"), "billable-days"
    )
    assert [(r["mrn"], r["date"], r["billable"]) for r in parsed] == [
        (r["mrn"], r["date"], r["billable"]) for r in every
    ]


def test_the_default_rule_bills_every_attended_program_day(program, admin_user, settings):
    settings.IOP_H0015_RULE = "program_day"
    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters())}
    assert rows[program["ada"].mrn]["billable_days"] == 7
    assert rows[program["ben"].mrn]["billable_days"] == 5
    days = billable_day_rows(admin_user, _filters())
    assert {r["rule"] for r in days} == {"program_day"}
    assert sum(r["billable"] == "yes" for r in days) == 12


def test_a_stricter_payer_rule(program, admin_user, settings):
    settings.IOP_BILLING_RULES = {
        **settings.IOP_BILLING_RULES,
        "strict": {"label": "Strict", "min_hours": 3, "min_days": 4},
    }
    rows = billable_day_rows(admin_user, _filters(payer="strict"))
    assert not [r for r in rows if r["billable"] == "yes"]


def test_totals_per_track_and_slot(program, admin_user, client_as):
    response = client_as(admin_user).get(reverse("reports:report", args=["attendance"]), QUERY)
    assert response.status_code == 200
    totals = response.context["result"]["totals"]
    tracks = {t["label"]: t for t in totals["tracks"]}
    assert (tracks["IOP 6"]["sessions_scheduled"], tracks["IOP 6"]["sessions_attended"]) == (5, 4)
    assert tracks["IOP 6"]["hours_attended"] == Decimal("11.50")
    assert (tracks["IOP 3"]["sessions_scheduled"], tracks["IOP 3"]["sessions_attended"]) == (8, 8)
    assert tracks["IOP 3"]["hours_attended"] == Decimal("23.00")
    slots = {t["label"]: t for t in totals["slots"]}
    assert (slots["Evening"]["sessions_scheduled"], slots["Evening"]["sessions_attended"]) == (
        13,
        11,
    )
    assert (slots["Midday"]["sessions_attended"], slots["Midday"]["attendance_rate"]) == (1, "")
    weeks = response.context["result"]["weeks"]
    # Week 1: only Ada whole (11.5 h); week 2: Ada 8 h and Ben 9 h, mean 8.5, one below.
    assert [(w["clients"], w["hours"], w["below"]) for w in weeks] == [
        (1, Decimal("11.5"), 0),
        (2, Decimal("8.5"), 1),
    ]
    html = response.content.decode()
    assert 'data-testid="trend-hours"' in html and 'data-testid="trend-rates"' in html


def test_the_csv_equals_the_page(program, admin_user, client_as):
    web = client_as(admin_user)
    page = web.get(reverse("reports:report", args=["attendance"]), QUERY)
    response = web.get(reverse("reports:csv", args=["attendance"]), QUERY)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    parsed = report_csv_rows(body, "attendance")
    assert tuple(parsed[0]) == ATTENDANCE_COLUMNS
    expected = [{k: str(r[k]) for k in ATTENDANCE_COLUMNS} for r in page.context["result"]["rows"]]
    assert parsed == expected
    runs = AuditEvent.objects.filter(action="report.run", actor=admin_user)
    assert runs.count() == 2
    assert "start=2026-09-07" in runs.last().detail
    assert program["ada"].legal_last_name not in "".join(e.detail for e in runs)


def test_the_run_counts_the_clients_it_lists_and_names_none(program, admin_user, client_as):
    """Names, MRNs and attendance figures: one row for the run with the count of clients
    shown, no access row per client (README, "Audit trail")."""
    web = client_as(admin_user)
    response = web.get(reverse("reports:report", args=["attendance"]), QUERY)
    [run] = AuditEvent.objects.filter(action="report.run", actor=admin_user)
    assert f"clients={len(response.context['result']['rows'])}; clinical=0" in run.detail
    assert len(response.context["result"]["rows"]) >= 2
    assert not AuditEvent.objects.filter(actor=admin_user, client_id__isnull=False).exists()


def test_the_inline_csv_runs_only_its_rows_statement(program, admin_user, client_as):
    """The page runs three report statements (rows, totals, weekly trend); the CSV
    needs the rows alone and runs only that one, with the same content."""
    web = client_as(admin_user)
    with CaptureQueriesContext(connection) as page_queries:
        page = web.get(reverse("reports:report", args=["attendance"]), QUERY)
    with CaptureQueriesContext(connection) as csv_queries:
        response = web.get(reverse("reports:csv", args=["attendance"]), QUERY)
        body = b"".join(response.streaming_content).decode("utf-8-sig")

    def report_statements(queries):
        return [q for q in queries.captured_queries if "sched AS (" in q["sql"]]

    assert len(report_statements(page_queries)) == 3
    assert len(report_statements(csv_queries)) == 1
    assert len(csv_queries) < len(page_queries)
    expected = [{k: str(r[k]) for k in ATTENDANCE_COLUMNS} for r in page.context["result"]["rows"]]
    assert report_csv_rows(body, "attendance") == expected
    assert {r["mrn"] for r in expected} == {program["ada"].mrn, program["ben"].mrn}


def test_the_command_writes_the_csv(program, capsys):
    call_command(
        "attendance_report", "--start", "2026-09-07", "--end", "2026-09-20", "--format", "csv"
    )
    rows = report_csv_rows(capsys.readouterr().out, "attendance")
    by_mrn = {r["mrn"]: r for r in rows}
    ada = by_mrn[program["ada"].mrn]
    assert (ada["track"], ada["sessions_scheduled"], ada["sessions_attended"]) == (
        "IOP 3",
        "8",
        "7",
    )
    assert (ada["sessions_excused"], ada["sessions_unexcused"]) == ("1", "1")
    assert (ada["hours_attended"], ada["hours_required"]) == ("19.50", "18.00")
    assert (ada["weeks_below_floor"], ada["billable_days"]) == ("1", "3")
    ben = by_mrn[program["ben"].mrn]
    assert (ben["sessions_scheduled"], ben["hours_required"], ben["billable_days"]) == (
        "5",
        "9.00",
        "3",
    )


def test_the_command_filters_by_slot(program, capsys):
    call_command(
        "attendance_report",
        "--start=2026-09-07",
        "--end=2026-09-20",
        "--slot=evening",
        "--track=iop3",
        "--format=csv",
    )
    rows = {r["mrn"]: r for r in report_csv_rows(capsys.readouterr().out, "attendance")}
    assert (rows[program["ada"].mrn]["sessions_attended"]) == "2"


def test_the_command_refuses_bad_input(program):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="ends before"):
        call_command("attendance_report", "--start=2026-09-20", "--end=2026-09-07")
    with pytest.raises(CommandError, match="track"):
        call_command("attendance_report", "--start=2026-09-07", "--end=2026-09-20", "--track=x")


# --- Who sees what ----------------------------------------------------------------------


def test_a_clinician_sees_their_caseload_only(program, clinician, client_as):
    response = client_as(clinician).get(reverse("reports:report", args=["attendance"]), QUERY)
    assert response.status_code == 200
    assert [r["mrn"] for r in response.context["result"]["rows"]] == [program["ada"].mrn]


def test_a_supervisor_sees_their_team(program, supervisor, client_as):
    response = client_as(supervisor).get(reverse("reports:report", args=["attendance"]), QUERY)
    assert [r["mrn"] for r in response.context["result"]["rows"]] == [program["ada"].mrn]


def test_a_stranger_clinician_sees_nobody(program, other_clinician, client_as):
    response = client_as(other_clinician).get(reverse("reports:report", args=["attendance"]), QUERY)
    assert response.context["result"]["rows"] == []


@pytest.mark.parametrize("role_user", ["clinician", "supervisor", "intake_user"])
def test_billable_days_are_for_admins(program, role_user, request, client_as):
    user = request.getfixturevalue(role_user)
    response = client_as(user).get(reverse("reports:report", args=["billable-days"]), QUERY)
    assert response.status_code == 403


def test_intake_may_not_run_attendance(intake_user, client_as):
    assert (
        client_as(intake_user).get(reverse("reports:report", args=["attendance"])).status_code
        == 403
    )


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-09-20", "end": "2026-09-07"}, "ends before it starts"),
        ({"start": "2023-01-01", "end": "2026-09-07"}, "at most 2 years"),
        ({**QUERY, "track": "iop99"}, "Select a valid choice"),
        ({**QUERY, "slot": "x" * 10_000}, "Select a valid choice"),
        ({**QUERY, "group": "not-a-uuid"}, "is not a valid UUID"),
        ({**QUERY, "clinician": "\x00"}, ""),
        ({**QUERY, "status": "gone"}, "Select a valid choice"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "too far"),
        ({"start": "2026-13-45", "end": "2026-09-20"}, "valid date"),
    ],
)
def test_bad_filters_answer_400_with_a_message(program, admin_user, client_as, query, message):
    for name in ("report", "csv", "print"):
        response = client_as(admin_user).get(reverse(f"reports:{name}", args=["attendance"]), query)
        assert response.status_code == 400, (name, query)
        assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="report.run").exists()


def test_an_unknown_report_is_404(admin_user, client_as):
    assert client_as(admin_user).get(reverse("reports:report", args=["nope"])).status_code == 404


# --- Query counts -------------------------------------------------------------------------


def _more_clients(admin_user, group, n):
    for _ in range(n):
        client = EpisodeFactory(admitted_on=date(2026, 8, 31)).client
        Enrollment.objects.create(
            client=client, episode=client.episodes.get(), track=group.track, group=group,
            start_on=date(2026, 8, 31), created_by=admin_user,
        )  # fmt: skip
        for session in group.sessions.filter(date__gte=START, date__lte=END):
            Attendance.objects.create(
                session=session, client=client, status="present", minutes=180,
                recorded_by=admin_user,
            )  # fmt: skip


def test_the_page_query_count_does_not_grow(
    program, admin_user, client_as, django_assert_max_num_queries
):
    web = client_as(admin_user)
    url = reverse("reports:report", args=["attendance"])
    # session, user with roles, OTP device (3); the per-client aggregate (1); totals (1)
    # with group, slot and track names (3); the weekly trend (1) with slot names (1);
    # the audit row: savepoint, chain lock, head, insert, release (5); the form's
    # choices rendered: track, slot, group, clinician (4): 19.
    with django_assert_max_num_queries(19) as before:
        assert web.get(url, QUERY).status_code == 200
    _more_clients(admin_user, program["g3"], 6)
    GroupSessionFactory(group=program["g3"], date=d(20))
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = web.get(url, {"start": "2026-08-31", "end": "2026-09-27"})
    assert response.status_code == 200
    assert len(response.context["result"]["rows"]) == 8


def test_the_sql_rule_agrees_with_the_queryset(program):
    """``enrolled_during_sql`` (the report's week calendar) and ``Enrollment.on()`` state
    one rule: on each day of the range, the same enrollments."""
    from django.db import connection

    from scheduling.models import enrolled_during_sql

    day = START
    while day <= END:
        expected = set(Enrollment.objects.on(day).values_list("pk", flat=True))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.id FROM scheduling_enrollment e WHERE " + enrolled_during_sql("e", "%s"),
                [day, day],
            )
            got = {row[0] for row in cursor.fetchall()}
        assert got == expected, day
        day += timedelta(days=1)


def test_a_step_down_mid_week_keeps_the_week_whole_and_a_mid_week_end_does_not(program, admin_user):
    """Cy steps down on Thursday 10 Sep: week 1 is whole across his two enrollments.
    Dee's enrollment ends on Thursday 17 Sep (her last day is Wednesday 16): only
    week 1 is whole.

    Cy: IOP 6 Mon 7 present 180, Tue 8 present 180 (Wed 9 cancelled); IOP 3 from Thu 10:
    Fri 11 present 180, Mon 14 present 180, Wed 16 and Fri 18 unmarked. Scheduled 2 + 4
    = 6, attended 4, 12.00 h; whole weeks 2, 18.00 h required; week 1 has 9 h (not
    below), week 2 has 3 h (below): 1; days of 3 h 4; billable: week 1 (3 days) = 3.
    Dee: IOP 3 present 180 on Mon 7, Wed 9, Fri 11; scheduled 7, 9, 11, 14, 16 = 5;
    whole weeks 1 (9.00 h, 9 h attended, 0 below); days 3, billable 3."""
    g6, g3 = program["g6"], program["g3"]
    s6 = {s.date.day: s for s in g6.sessions.all()}
    s3 = {s.date.day: s for s in g3.sessions.all()}
    cy = EpisodeFactory(admitted_on=date(2026, 8, 31)).client
    dee = EpisodeFactory(admitted_on=date(2026, 8, 31)).client
    Enrollment.objects.create(
        client=cy, episode=cy.episodes.get(), track=g6.track, group=g6,
        start_on=date(2026, 8, 31), ended_on=d(10), status=EnrollmentStatus.STEPPED_DOWN,
        created_by=admin_user,
    )  # fmt: skip
    Enrollment.objects.create(
        client=cy, episode=cy.episodes.get(), track=g3.track, group=g3, start_on=d(10),
        created_by=admin_user,
    )  # fmt: skip
    Enrollment.objects.create(
        client=dee, episode=dee.episodes.get(), track=g3.track, group=g3,
        start_on=date(2026, 8, 31), ended_on=d(17), status=EnrollmentStatus.COMPLETED,
        created_by=admin_user,
    )  # fmt: skip
    for session, client in [(s6[7], cy), (s6[8], cy), (s3[11], cy), (s3[14], cy)] + [
        (s3[day], dee) for day in (7, 9, 11)
    ]:
        Attendance.objects.create(
            session=session, client=client, status="present", minutes=180,
            recorded_by=admin_user,
        )  # fmt: skip
    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters())}
    figures = ("sessions_scheduled", "sessions_attended", "hours_attended", "hours_required")
    figures += ("weeks_enrolled", "weeks_below_floor", "days_3h", "billable_days", "track_code")
    assert [rows[cy.mrn][k] for k in figures] == [
        6, 4, Decimal("12.00"), Decimal("18.00"), 2, 1, 4, 3, "iop3",
    ]  # fmt: skip
    assert [rows[dee.mrn][k] for k in figures] == [
        5, 3, Decimal("9.00"), Decimal("9.00"), 1, 0, 3, 3, "iop3",
    ]  # fmt: skip
    # The figures for Ada and Ben do not move.
    assert _figures(rows[program["ada"].mrn]) == ADA
    assert _figures(rows[program["ben"].mrn]) == BEN


def test_an_attendance_letters_figures_are_the_reports(program, admin_user):
    """``attendance_summary`` (the letter's figures) agrees with the report's row for
    each client of the hand-worked fixture: scheduled, attended, hours and rate."""
    from scheduling.selectors import attendance_summary

    rows = {r["mrn"]: r for r in attendance_rows(admin_user, _filters())}
    for who in ("ada", "ben"):
        client = program[who]
        summary = attendance_summary(client, start=START, end=END)
        row = rows[client.mrn]
        assert summary.sessions_scheduled == row["sessions_scheduled"]
        assert summary.sessions_attended == row["sessions_attended"]
        assert summary.rate == row["attendance_rate"]
        assert summary.hours == row["hours_attended"]
    ada = attendance_summary(program["ada"], start=START, end=END)
    # Seven days: the cancelled 9th counts nowhere, the make-up on the 19th counts.
    assert [day.day for day in ada.dates_attended] == [7, 8, 10, 12, 14, 18, 19]
