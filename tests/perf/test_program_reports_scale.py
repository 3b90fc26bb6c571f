"""Census, documentation compliance, screening and billable days over 12 months for
every client of a seeded program (``seed_scale``, 1,000 clients, PostgreSQL only), against the
hand-written statements the benchmark times (tooling/bench/raw.py): every figure equal,
and each report's runner within 2x its statement.

At 5,000 clients (the benchmark's dataset; before and after measured back to back on
a shared 2-core machine, load ~2.3, +-30 %): census page 419 -> 147 ms (16 -> 15
queries), documentation page 666 -> 270 ms (355 -> 84 ms of Python), screening runner
1,092 -> 979 ms, billable days runner 3,255 -> 1,668 ms (1,494 -> 341 ms of Python for
390,000 rows); each 1.2-1.25x its complete statement. Here the program is smaller (the
seeding has to fit in a test run, ~1 minute) and the ratios are what is asserted: at a
few hundred clients the census's handful of queries cost more in round trips and ORM
compilation than in the database, which says nothing about scale.
"""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction  # noqa: F401 (the skipif reads connection)

from clinical.reports import (
    _census_scope,
    _one_place,
    census_retention,
    run_census,
    run_documentation,
)
from scheduling.reports import billable_day_tuples, run_billable
from screening.reports import run_screening
from tests.perf.timing import best_of
from tests.tooling.test_bench import _restore_migration_rows
from tooling import scale
from tooling.bench.pages import twelve_months
from tooling.bench.raw import fetch_raw

pytestmark = [
    pytest.mark.perf,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

CLIENTS = 1_000


@pytest.fixture(scope="module")
def program(django_db_setup, django_db_blocker):
    """One seeded program for the module, rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _restore_migration_rows()
            call_command("seed_scale", clients=CLIENTS, not_production=True, stdout=io.StringIO())
            yield get_user_model().objects.get(username=scale.ADMIN)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _raw(key: str):
    return fetch_raw(key, tz=settings.TIME_ZONE, **twelve_months())


def _within_twice(key: str, runner, capsys):
    raw_s = best_of(lambda: _raw(key), runs=5)
    report_s = best_of(runner, runs=5)
    with capsys.disabled():
        print(f"\n{key}: report {report_s * 1000:.0f} ms, statement {raw_s * 1000:.0f} ms")
    assert report_s <= 2 * raw_s, f"{key}: {report_s / raw_s:.1f}x the statement"


def test_census_equals_its_statement(program, capsys):
    f = twelve_months()
    result = run_census(user=program, filters=f)
    raw = _raw("census")

    def section(name):
        return [r[1:] for r in raw if r[0] == name]

    base = census_retention(_census_scope(program, f), f)
    assert {
        (r["track"], r["slot"], r["profession"]): (r["admitted"], r["discharged"], r["completed"])
        for r in base
    } == {(t or "none", s or "none", p): (n, d, c) for t, s, p, n, d, c, *_ in section("retention")}
    assert sum(r["admitted"] for r in base) > CLIENTS / 2
    assert {r["key"]: r["clients"] for r in result["active"]} == {
        f"{t}/{s}": n for t, s, _p, n, *_ in section("active_on")
    }
    assert {
        m["key"]: (m["admissions"], m["discharges"])
        for m in result["months"]
        if m["admissions"] or m["discharges"]
    } == {k: (n, d) for k, _s, _p, n, d, *_ in section("by_month")}
    assert {
        r["key"]: (r["stays"], r["min_days"], r["max_days"], r["median_days"])
        for r in result["length_of_stay"]
    } == {
        k or "unrecorded": (n, low, high, _one_place(median))
        for k, _s, _p, n, low, high, median, *_ in section("length_of_stay")
    }
    assert {r["key"]: (r["stays"], r["stepped_down"]) for r in result["step_down"]} == {
        f"{fr}->{to}": (n, stepped) for fr, to, _p, n, stepped, *_ in section("step_down")
    }
    assert {
        r["key"]: (r["pairs"], r["improved"], r["mean_admission"], r["mean_discharge"])
        for r in result["measures"]
        if r["pairs"]
    } == {
        k: (n, improved, _one_place(float(a)), _one_place(float(d)))
        for k, _s, _p, n, improved, _c, a, d, _ch in section("measure_change")
    }
    _within_twice("census", lambda: run_census(user=program, filters=f), capsys)


def test_documentation_equals_its_statement(program, capsys):
    f = twelve_months()
    result = run_documentation(user=program, filters=f)
    raw = _raw("documentation")
    figures = (
        "sessions_held",
        "signed",
        "signed_on_time",
        "signed_late",
        "missing_draft",
        "missing_no_note",
        "signed_24h",
        "signed_72h",
        "cosign_waiting",
        "signed_copied_text",
    )
    assert {r["clinician"]: tuple(r[k] for k in figures) for r in result["rows"]} == {
        r[1]: tuple(r[2:]) for r in raw if r[0] == "clinician"
    }
    groups = [r for r in raw if r[0] == "group"]
    assert len(result["groups"]) == len(groups)
    # Per group, every figure but the last two (co-signatures, copied text): the group
    # table does not show them.
    assert {r["group"]: tuple(r[k] for k in figures[:-2]) for r in result["groups"]} == {
        r[1]: tuple(r[2:-2]) for r in groups
    }
    assert sum(r["sessions_held"] for r in result["rows"]) > 1_000
    assert [(p["mrn"], p["days_overdue"]) for p in result["plans_overdue"]] == [
        (r[1], r[2]) for r in raw if r[0] == "plan"
    ]
    _within_twice("documentation", lambda: run_documentation(user=program, filters=f), capsys)


def test_screening_equals_its_statement(program, capsys):
    f = twelve_months()
    result = run_screening(user=program, filters=f)
    raw = _raw("screening")
    assert {
        r["order_kind"]: (r["screens"], r["collected"], r["no_shows"], r["refusals"])
        for r in result["by_kind"]
        if r["order_kind"] != "all" and r["screens"]
    } == {r[1]: tuple(r[3:7]) for r in raw if r[0] == "by_kind"}
    assert {
        (r["analyte"], r["month"]): (
            r["tested"],
            r["unexpected_positive"],
            r["expected_positive"],
        )
        for r in result["positivity"]
    } == {(r[1], f"{r[2]:%Y-%m}"): tuple(r[3:6]) for r in raw if r[0] == "positivity"}
    assert sum(r["tested"] for r in result["positivity"]) > 10_000
    assert {r["mrn"]: r["days_since"] for r in result["clients"]} == {
        r[1]: "" if r[3] is None else r[3] for r in raw if r[0] == "client"
    }
    _within_twice("screening", lambda: run_screening(user=program, filters=f), capsys)


def test_billable_days_equal_their_statement(program, capsys):
    f = twelve_months()
    rows = billable_day_tuples(program, f)
    raw = _raw("billable-days")
    assert len(rows) == len(raw) > 10_000
    assert rows == [
        (
            mrn,
            day.isoformat(),
            (Decimal(minutes) / 60).quantize(Decimal("0.01")),
            "yes" if minutes >= 180 else "no",
            qualifying,
            "yes" if program else "no",
            "yes" if billable else "no",
            settings.IOP_H0015_RULE,
        )
        for mrn, day, minutes, qualifying, program, billable in raw
    ]

    def background():  # as the worker runs it: the tuples, then the CSV
        return run_billable(user=program, filters=f, progress=lambda _p: None)

    _within_twice("billable-days", background, capsys)
