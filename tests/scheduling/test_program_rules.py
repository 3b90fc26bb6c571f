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
"""

import re
from datetime import date

import pytest
from django.urls import reverse

from scheduling.models import Attendance, Enrollment, adult_born_by, is_adolescent
from scheduling.reports import attendance_rows, attendance_weeks
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
