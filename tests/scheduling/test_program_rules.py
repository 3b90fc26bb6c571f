"""Program rules against their published references, with worked examples (issue 21).

ASAM floor by age. ASAM Criteria, 3rd edition (2013), level 2.1: 9 or more hours a week
of structured programming for adults, 6 or more for adolescents. Range Monday 7 to
Sunday 20 September 2026 (two whole weeks); IOP 3 evening (Mon, Wed, Fri) from 31
August; each client attends Monday and Wednesday, 3 h each: 6 h a week.
  Tess, born 1 March 2011 (15): adolescent both weeks, floor 6 h: 12.00 h required,
  0 weeks below.
  Adam, born 1 January 1996 (30): floor 9 h both weeks: 18.00 h required, 2 below.
  Eli, born 14 September 2008: 17 on Monday 7 Sep (floor 6), 18 on Monday 14 Sep (floor
  9): 15.00 h required, 1 below (the second week).

H0015 billable days (scheduling.billing; HCPCS descriptor: a program that operates at
least 3 hours/day and at least 3 days/week). The same attendance: each week 2 attended
3-hour days of IOP 3 (3 h on 3 days a week, a qualifying program). Per day of a
qualifying program (the default): 2 + 2 = 4 billable days each. Per client-week (3 days
of 3 h in the week): 0. A day attended only in standard outpatient (1.5 h once a week)
is billable under neither.
"""

import io
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from scheduling.billing import H0015Rule, billing_rule
from scheduling.models import Attendance, Enrollment, adult_born_by, is_adolescent
from scheduling.reports import attendance_rows, attendance_weeks, billable_day_rows
from scheduling.selectors import step_down_readiness, weekly_hours
from tests.clients.factories import ClientFactory, EpisodeFactory
from tests.scheduling.factories import GroupFactory, GroupSessionFactory, track

pytestmark = pytest.mark.django_db

START, END = date(2026, 9, 7), date(2026, 9, 20)
QUERY = {"start": "2026-09-07", "end": "2026-09-20"}
BORN = {"tess": date(2011, 3, 1), "adam": date(1996, 1, 1), "eli": date(2008, 9, 14)}


def d(day):
    return date(2026, 9, day)


@pytest.fixture
def six_hours(admin_user):
    g3 = GroupFactory(name="IOP 3 evening", track=track("iop3"), weekdays=[0, 2, 4])
    sessions = {day: GroupSessionFactory(group=g3, date=d(day)) for day in (7, 9, 11, 14, 16, 18)}
    clients = {}
    for name, born in BORN.items():
        client = ClientFactory(legal_first_name=name.title(), date_of_birth=born)
        episode = EpisodeFactory(client=client, admitted_on=date(2026, 8, 31))
        Enrollment.objects.create(
            client=client, episode=episode, track=g3.track, group=g3,
            start_on=date(2026, 8, 31), created_by=admin_user,
        )  # fmt: skip
        for day in (7, 9, 14, 16):
            Attendance.objects.create(
                session=sessions[day], client=client, status="present", minutes=180,
                recorded_by=admin_user,
            )  # fmt: skip
        clients[name] = client
    return clients


def _by_name(rows, clients):
    mrns = {c.mrn: name for name, c in clients.items()}
    return {mrns[r["mrn"]]: r for r in rows}


def test_a_15_year_old_with_6_hours_is_at_the_floor_and_a_30_year_old_below(six_hours, admin_user):
    rows = _by_name(attendance_rows(admin_user, {"start": START, "end": END}), six_hours)
    figures = {
        name: (str(r["hours_attended"]), str(r["hours_required"]), r["weeks_below_floor"])
        for name, r in rows.items()
    }
    assert figures == {
        "tess": ("12.00", "12.00", 0),
        "adam": ("12.00", "18.00", 2),
        "eli": ("12.00", "15.00", 1),  # 18 on the second Monday: the adults' floor
    }


def test_the_weekly_trend_counts_the_adolescent_at_the_floor(six_hours, admin_user):
    weeks = attendance_weeks(admin_user, {"start": START, "end": END})["weeks"]
    # Week 1: floors 6, 9, 6 (mean 7.0), Adam below; week 2: 6, 9, 9 (8.0), Adam and Eli.
    assert [(str(w["floor"]), w["below"]) for w in weeks] == [("7.0", 1), ("8.0", 2)]


def test_the_attendance_page_shows_the_floor_by_age(six_hours, admin_user, client_as):
    response = client_as(admin_user).get(reverse("reports:report", args=["attendance"]), QUERY)
    assert response.status_code == 200
    body = response.content.decode()
    for name, required, below in (("Tess", "12.00", "0"), ("Adam", "18.00", "2")):
        row = re.sub(r"\s+", "", body[body.index(name) :].split("</tr>")[0])
        # hours attended, hours required, whole weeks, weeks below the floor
        assert f"<td>12.00</td><td>{required}</td><td>2</td><td>{below}</td>" in row


def test_the_chart_judges_each_week_by_the_age_on_its_monday(six_hours):
    eli = six_hours["eli"]
    weeks = weekly_hours(eli, weeks=3, today=d(21))  # newest first: 21, 14, 7 Sep
    assert [(w["week"], w["floor"], w["meets_floor"]) for w in weeks[1:]] == [
        (d(14), 9, False),
        (d(7), 6, True),
    ]
    tess = six_hours["tess"]
    assert [w["meets_floor"] for w in weekly_hours(tess, weeks=3, today=d(21))[1:]] == [
        True,
        True,
    ]


def test_step_down_readiness_counts_the_adolescent_weeks_at_floor(six_hours, settings):
    ready = step_down_readiness(six_hours["tess"], today=d(21))
    assert (ready["floor"], ready["weeks_at_floor"]) == (6, 2)
    adult = step_down_readiness(six_hours["adam"], today=d(21))
    assert (adult["floor"], adult["weeks_at_floor"]) == (9, 0)


@pytest.mark.parametrize(
    ("born", "day", "adolescent"),
    [
        (date(2008, 9, 14), date(2026, 9, 13), True),  # the day before the 18th birthday
        (date(2008, 9, 14), date(2026, 9, 14), False),  # the birthday
        (date(2008, 2, 29), date(2026, 2, 28), True),  # a leap-day birthday: 1 March
        (date(2008, 2, 29), date(2026, 3, 1), False),
        (date(2006, 3, 1), date(2024, 2, 29), True),  # counted back from a leap day
        (date(2006, 2, 28), date(2024, 2, 29), False),
    ],
)
def test_age_on_the_day(born, day, adolescent):
    assert is_adolescent(born, day) is adolescent
    assert (born > adult_born_by(day)) is adolescent


# --- H0015 billable days ------------------------------------------------------------


def test_two_attended_3_hour_days_are_billable_per_program_day_not_per_client_week(
    six_hours, admin_user, settings
):
    f = {"start": START, "end": END}
    assert billing_rule().h0015 == H0015Rule.PROGRAM_DAY  # the descriptor's, by default
    rows = _by_name(attendance_rows(admin_user, f), six_hours)
    assert {name: r["billable_days"] for name, r in rows.items()} == dict.fromkeys(BORN, 4)
    days = [r for r in billable_day_rows(admin_user, f) if r["mrn"] == six_hours["adam"].mrn]
    assert [(r["date"], r["billable"], r["rule"]) for r in days] == [
        (day, "yes", "program_day")
        for day in ("2026-09-07", "2026-09-09", "2026-09-14", "2026-09-16")
    ]
    settings.IOP_H0015_RULE = "client_week"
    rows = _by_name(attendance_rows(admin_user, f), six_hours)
    assert {name: r["billable_days"] for name, r in rows.items()} == dict.fromkeys(BORN, 0)
    days = [r for r in billable_day_rows(admin_user, f) if r["mrn"] == six_hours["adam"].mrn]
    assert {(r["qualifying_days_in_week"], r["billable"], r["rule"]) for r in days} == {
        (2, "no", "client_week")
    }


def test_a_day_in_a_program_that_does_not_qualify_is_not_billable(six_hours, admin_user):
    outpatient = GroupFactory(name="Outpatient Tuesday", track=track("op"), weekdays=[1])
    session = GroupSessionFactory(group=outpatient, date=d(8))
    Attendance.objects.create(
        session=session, client=six_hours["adam"], status="present", minutes=90,
        recorded_by=admin_user, is_makeup=True,
    )  # fmt: skip
    days = billable_day_rows(admin_user, {"start": START, "end": END})
    tuesday = next(
        r for r in days if r["mrn"] == six_hours["adam"].mrn and r["date"] == "2026-09-08"
    )
    assert (tuesday["qualifying_program"], tuesday["billable"]) == ("no", "no")


def test_a_payer_names_its_own_rule_and_the_page_says_which(
    six_hours, admin_user, client_as, settings
):
    settings.IOP_BILLING_RULES = {
        **settings.IOP_BILLING_RULES,
        "acme": {
            "label": "Acme Health",
            "min_hours": 3,
            "min_days": 3,
            "h0015_rule": "client_week",
        },
    }
    web = client_as(admin_user)
    url = reverse("reports:report", args=["billable-days"])
    default = web.get(url, QUERY).content.decode()
    assert "H0015 rule: Per day of a qualifying program" in default
    assert "12 billable days" in default
    assert default.count("<td>per program day</td>") == 12
    acme = web.get(url, {**QUERY, "payer": "acme"}).content.decode()
    assert "Payer: Acme Health · H0015 rule: Per client-week" in acme
    assert "0 billable days" in acme
    assert acme.count("<td>per client-week</td>") == 12
    response = web.get(reverse("reports:csv", args=["billable-days"]), {**QUERY, "payer": "acme"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].endswith("Qualifying program,Billable,H0015 rule")
    assert body.count(",yes,no,client_week") == 12


def test_an_unknown_payer_is_400_with_a_message(admin_user, client_as):
    url = reverse("reports:report", args=["billable-days"])
    response = client_as(admin_user).get(url, {**QUERY, "payer": "x" * 10_000})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IOP_H0015_RULE": "weekly"}, "IOP_H0015_RULE must be one of program_day, client_week"),
        (
            {
                "IOP_BILLING_RULES": '{"acme": {"label": "A", "min_hours": 3, "min_days": 3, '
                '"h0015_rule": "daily"}}'
            },
            "IOP_BILLING_RULES['acme'] needs label, min_hours and min_days",
        ),
        ({"IOP_BILLING_RULES": "[1]"}, "IOP_BILLING_RULES must be a JSON object"),
    ],
)
def test_a_bad_rule_setting_stops_the_start_with_its_message(env, message):
    from tests.iop.test_settings import _run

    result = _run({"DJANGO_DEBUG": "1", **env}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_the_demo_has_an_adolescent_on_a_track_judged_by_the_adolescents_floor(settings):
    settings.DEBUG = True  # seed_demo refuses to run without it (known passwords)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()
    teens = [
        e
        for e in Enrollment.objects.on(today).select_related("client", "track")
        if is_adolescent(e.client.date_of_birth, today)
    ]
    assert len(teens) == 1
    enrollment = teens[0]
    assert enrollment.track.code in ("iop3", "iop6")
    floors = {w["floor"] for w in weekly_hours(enrollment.client, today=today) if w["floor"]}
    assert floors == {6}
