"""The screening report against a small hand-worked fixture.

Range: 1 September to 31 October 2026. Panel: THC, cocaine, buprenorphine (in the
analytes' order). Rows are written straight to the tables (the services date a
collection "now"); the figures are the report's, not the services'.

Ada (active, IOP 6, on buprenorphine; Alice's caseload):
  S1 Sep 8 random, collected: buprenorphine positive, expected (prescribed).
  S2 Oct 6 scheduled, collected: buprenorphine positive expected; cocaine positive on
     the immunoassay, confirmed NEGATIVE by the lab (so not a positive).
Ben (active, IOP 3):
  S3 Sep 15 scheduled, collected: all negative.
  S4 Oct 13 for cause, collected: cocaine positive, unexpected.
  S5 Nov 5 for cause, unexpected cocaine: after the range, counted nowhere.
Cal (active, IOP 6):
  S6 random of Wed Sep 30: no-show, closed by the task on Oct 1 (counts in September).
  S7 random Oct 20: refused.
  S8 Oct 27 scheduled, collected: THC invalid (tested nothing), others negative.
  A breath test Oct 1 with an unexpected positive (0.050).
Dee (discharged, IOP 3): S9 Sep 10 scheduled, collected, all negative.

Screens by kind: random 3 (1 collected, 1 no-show, 1 refusal); scheduled 4 collected
(S2, S3, S8, S9); for cause 1 (S4); all 8 (6 collected, 1 no-show, 1 refusal).
Positivity (tested / unexpected / expected / %):
  THC Sep 3/0/0/0, THC Oct 2/0/0/0 (S8 invalid); cocaine Sep 3/0/0/0, cocaine Oct
  3/1/0/33 (S2's overturned positive is a negative); buprenorphine Sep 3/0/1/0,
  buprenorphine Oct 3/0/1/0 (expected positives never in the rate).
  All analytes: Sep 9 tested, 0 unexpected (0 %), 1 expected (11 %); Oct 8 tested,
  1 unexpected (13 %: 12.5 rounds half up, as every percentage the app shows), 1
  expected (13 %).
Days since the last unexpected positive, as of Oct 31 (active clients only, by MRN):
  Ada none; Ben Oct 13 (S4; S5 is after the range): 18; Cal Oct 1 (breath): 30.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from screening.models import (
    BreathTest,
)
from screening.reports import SCREENING_COLUMNS
from tests.clients.factories import with_care_team
from tests.iop.report_csv import report_csv_rows
from tests.screening.factories import POS, POS_EXPECTED, ReportRows

pytestmark = pytest.mark.django_db

QUERY = {"start": "2026-09-01", "end": "2026-10-31"}
URL = "reports:report"


def at(month, day, hour=10):
    return timezone.make_aware(datetime(2026, month, day, hour))


@pytest.fixture
def program(admin_user, clinician):
    m = ReportRows(admin_user)
    ada, ben, cal = m.client("iop6"), m.client("iop3"), m.client("iop6")
    dee = m.client("iop3", status="discharged")
    m.screen(ada, at(9, 8), "random", "expected_positive",
             selection=m.selection(ada, date(2026, 9, 8), "iop6", "collected"),
             buprenorphine=POS_EXPECTED)  # fmt: skip
    m.screen(ada, at(10, 6), "scheduled", "expected_positive", buprenorphine=POS_EXPECTED,
             cocaine=("positive", False, "confirmed_negative"))  # fmt: skip
    m.screen(ben, at(9, 15), "scheduled")
    m.screen(ben, at(10, 13), "for_cause", "unexpected_positive", cocaine=POS)
    m.screen(ben, at(11, 5), "for_cause", "unexpected_positive", cocaine=POS)
    m.missed(cal, date(2026, 9, 30), "no_show", at(10, 1, 6), "iop6")
    m.missed(cal, date(2026, 10, 20), "refused", at(10, 20), "iop6")
    m.screen(cal, at(10, 27), "scheduled", thc=("invalid", False, ""))
    BreathTest.objects.create(
        client=cal, tested_at=at(10, 1), bac=Decimal("0.050"), device="Alco-Sensor",
        operator=admin_user, outcome="unexpected_positive",
    )  # fmt: skip
    m.screen(dee, at(9, 10), "scheduled")
    with_care_team(ada, clinician)
    return {"ada": ada, "ben": ben, "cal": cal, "dee": dee, "maker": m}


def _get(web, query=QUERY, name=URL):
    return web.get(reverse(name, args=["screening"]), query)


def _kinds(result):
    return {
        r["order_kind"]: (r["screens"], r["collected"], r["no_shows"], r["refusals"])
        for r in result["by_kind"]
    }


def _positivity(result):
    return [
        (r["analyte"], r["month"], r["tested"], r["unexpected_positive"],
         r["expected_positive"], r["positivity_pct"])
        for r in result["positivity"]
    ]  # fmt: skip


def test_each_figure_matches_the_hand_worked_fixture(program, admin_user, client_as):
    response = _get(client_as(admin_user))
    assert response.status_code == 200
    result = response.context["result"]
    assert _kinds(result) == {
        "random": (3, 1, 1, 1),
        "scheduled": (4, 4, 0, 0),
        "for_cause": (1, 1, 0, 0),
        "all": (8, 6, 1, 1),
    }
    assert _positivity(result) == [
        ("thc", "2026-09", 3, 0, 0, 0),
        ("thc", "2026-10", 2, 0, 0, 0),
        ("cocaine", "2026-09", 3, 0, 0, 0),
        ("cocaine", "2026-10", 3, 1, 0, 33),
        ("buprenorphine", "2026-09", 3, 0, 1, 0),
        ("buprenorphine", "2026-10", 3, 0, 1, 0),
    ]
    assert [
        (m["month"], m["tested"], m["unexpected"], m["unexpected_pct"], m["expected"],
         m["expected_pct"])
        for m in result["monthly"]
    ] == [(date(2026, 9, 1), 9, 0, 0, 1, 11), (date(2026, 10, 1), 8, 1, 13, 1, 13)]  # fmt: skip
    since = {r["mrn"]: (r["last_unexpected_positive"], r["days_since"]) for r in result["clients"]}
    assert since == {
        program["ada"].mrn: ("", ""),
        program["ben"].mrn: ("2026-10-13", 18),
        program["cal"].mrn: ("2026-10-01", 30),
    }
    html = response.content.decode()
    assert 'data-testid="trend-positivity"' in html
    assert 'data-testid="table-positivity"' in html
    # October: 1 of 8 tested unexpected, shown as 13 (half up, as the clinical reports).
    assert "<td>October 2026</td><td>8</td><td>1</td><td>13</td><td>1</td><td>13</td>" in html


def test_the_track_filter_keeps_that_tracks_clients(program, admin_user, client_as):
    result = _get(client_as(admin_user), {**QUERY, "track": "iop3"}).context["result"]
    assert _kinds(result) == {
        "random": (0, 0, 0, 0),
        "scheduled": (2, 2, 0, 0),
        "for_cause": (1, 1, 0, 0),
        "all": (3, 3, 0, 0),
    }
    assert [r["mrn"] for r in result["clients"]] == [program["ben"].mrn]


def test_the_csv_equals_the_page(program, admin_user, client_as):
    web = client_as(admin_user)
    page = _get(web)
    response = _get(web, name="reports:csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    parsed = report_csv_rows(body, "screening")
    assert tuple(parsed[0]) == SCREENING_COLUMNS
    expected = [{k: str(r[k]) for k in SCREENING_COLUMNS} for r in page.context["result"]["rows"]]
    assert parsed == expected
    assert [r["section"] for r in parsed].count("positivity") == 6
    assert {"section": "by_kind", "order_kind": "all", "screens": "8"}.items() <= parsed[3].items()
    runs = AuditEvent.objects.filter(action="report.run", actor=admin_user)
    assert runs.count() == 2
    assert program["ada"].legal_last_name not in "".join(e.detail for e in runs)
    assert program["ada"].legal_last_name not in body


@pytest.mark.parametrize("name", ["reports:report", "reports:print", "reports:csv"])
def test_each_client_shown_has_an_access_row_of_their_own(program, admin_user, client_as, name):
    """Each active client's last unexpected positive is a screen result: the run's row
    counts the clients shown and each gets an access row naming them (README, "Audit
    trail"), on the page, in print and in the CSV."""
    web = client_as(admin_user)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = _get(web, name=name)
    assert response.status_code == 200
    rows = AuditEvent.objects.filter(id__gt=before, actor=admin_user).order_by("id")
    shown = {program[k].public_id for k in ("ada", "ben", "cal")}  # dee was discharged
    assert {e.client_id for e in rows if e.client_id} == shown
    assert {e.action for e in rows if e.client_id} == {"access.list"}
    [run] = [e for e in rows if e.client_id is None]
    assert run.action == "report.run"
    assert "clients=3; clinical=3" in run.detail


def test_a_background_run_puts_its_clients_on_the_trail(program, admin_user):
    from datetime import timedelta

    from iop.reports.models import ReportRun
    from iop.reports.services import report_run_execute

    run = ReportRun.objects.create(
        report="screening",
        owner=admin_user,
        filters=QUERY,
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "done"
    rows = AuditEvent.objects.filter(object_id=str(run.public_id)).order_by("id")
    assert {e.client_id for e in rows if e.client_id} == {
        program[k].public_id for k in ("ada", "ben", "cal")
    }
    [complete] = [e for e in rows if e.client_id is None]
    assert complete.action == "report.complete" and "clients=3" in complete.detail


def test_the_print_view(program, admin_user, client_as):
    response = _get(client_as(admin_user), name="reports:print")
    assert response.status_code == 200
    assert 'data-testid="print-view"' in response.content.decode()


def test_a_background_run_writes_the_same_csv(program, admin_user, client_as):
    from datetime import timedelta

    from iop.reports.models import ReportRun, RunStatus
    from iop.reports.services import report_run_execute, report_storage

    page = _get(client_as(admin_user), name="reports:csv")
    run = ReportRun.objects.create(
        report="screening",
        owner=admin_user,
        filters=QUERY,
        expires_at=timezone.now() + timedelta(hours=24),
    )
    assert report_run_execute(run_id=run.pk) == "done"
    run.refresh_from_db()
    assert (run.status, run.row_count) == (RunStatus.DONE, 13)
    with report_storage().open(run.file_name, "rb") as handle:
        assert handle.read().decode() == b"".join(page.streaming_content).decode()


def test_the_index_lists_the_screening_report(admin_user, clinician, intake_user, client_as):
    link = reverse("reports:report", args=["screening"])
    assert link in client_as(admin_user).get(reverse("reports:index")).content.decode()
    assert link in client_as(clinician).get(reverse("reports:index")).content.decode()
    assert link not in client_as(intake_user).get(reverse("reports:index")).content.decode()


# --- Who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ["clinician", "supervisor"])
def test_clinician_and_supervisor_see_their_caseload_and_team(
    program, role_user, request, client_as
):
    user = request.getfixturevalue(role_user)
    result = _get(client_as(user)).context["result"]
    assert _kinds(result)["all"] == (2, 2, 0, 0)
    assert [r["mrn"] for r in result["clients"]] == [program["ada"].mrn]
    assert {(r["analyte"], r["expected_positive"]) for r in result["positivity"]} >= {
        ("buprenorphine", 1)
    }
    assert all(r["unexpected_positive"] == 0 for r in result["positivity"])


def test_a_stranger_clinician_sees_nobody(program, other_clinician, client_as):
    result = _get(client_as(other_clinician)).context["result"]
    assert _kinds(result)["all"] == (0, 0, 0, 0)
    assert result["positivity"] == [] and result["clients"] == []


def test_intake_may_not_run_the_screening_report(program, intake_user, client_as):
    assert _get(client_as(intake_user)).status_code == 403


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-10-31", "end": "2026-09-01"}, "ends before it starts"),
        ({"start": "2023-01-01", "end": "2026-09-07"}, "at most 2 years"),
        ({**QUERY, "track": "iop99"}, "Select a valid choice"),
        ({**QUERY, "track": "x" * 10_000}, "Select a valid choice"),
        ({**QUERY, "track": "\x00"}, ""),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "too far"),
        ({"start": "2026-13-45", "end": "2026-09-20"}, "valid date"),
    ],
)
def test_bad_filters_answer_400_with_a_message(program, admin_user, client_as, query, message):
    for name in ("reports:report", "reports:csv", "reports:print"):
        response = _get(client_as(admin_user), query, name=name)
        assert response.status_code == 400, (name, query)
        assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="report.run").exists()


# --- Query counts -------------------------------------------------------------------------


def test_the_page_query_count_does_not_grow(
    program, admin_user, client_as, django_assert_max_num_queries
):
    web = client_as(admin_user)
    # session, user with roles, OTP device (3); screens by kind (1); positivity by
    # analyte and month (1); active clients with their last unexpected positives (1); the
    # audit row: savepoint, chain lock, head, insert, release (5); the track choices
    # (1): 12.
    with django_assert_max_num_queries(12) as before:
        assert _get(web).status_code == 200
    m = program["maker"]
    for n in range(5):
        client = m.client("iop6" if n % 2 else "iop3")
        m.screen(client, at(9, 3 + n), "scheduled")
        m.screen(client, at(10, 3 + n), "for_cause", "unexpected_positive", cocaine=POS)
        m.missed(client, date(2026, 10, 20 + n), "no_show", at(10, 21 + n), "iop6")
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = _get(web)
    assert response.status_code == 200
    assert _kinds(response.context["result"])["all"] == (23, 16, 6, 1)
    assert len(response.context["result"]["clients"]) == 8
