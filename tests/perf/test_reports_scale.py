"""The 12-month attendance report for all clients on a year of data (PostgreSQL only),
against the single hand-written SQL aggregate that computes its core figures.

Target (issue 12): under 1.5 s and within 2x the raw aggregate.

Measured on the builder's dataset (3,000 clients, 468,000 attendance rows; a shared
2-core machine under load, so +-30 %): before the restructuring the rows took 8.0 s
(18.6x the raw aggregate's 0.43 s) and the page 12.6 s; after it 1.5 s (3.7x the raw
0.41 s). Second pass, measured side by side on a machine where the raw aggregate takes
0.17-0.20 s (PostgreSQL runs it with 2 parallel workers): rows 1.40 s (7.1x) and page
3.4 s before, 0.97 s (5.6x) and page 2.9 s after. What the second pass did: work_mem
64 MB and no JIT for the report's transaction (the raw aggregate, timed after the
report in the same test transaction, runs under the same settings), so the one
aggregation per client-week (157,500 groups) hashes in memory instead of spilling in 9
batches; FILTER counts; the per-client figures summed in one pass over the client-weeks,
and the weeks below the floor counted without joining every whole week to its
attendance (that join had been sorted on disk: the planner expects 39 whole weeks, there
are 153,000). Under 1.5 s, not yet within 2x: what is left is that aggregation (~350
ms, in the leader only: the CTEs keep it out of a parallel plan; un-materialising the
sessions did not bring a Gather), the scheduled sessions per client (468,000 client-
session pairs, ~150 ms), and the page's three statements each rebuilding the shared
sub-queries (a single round trip for rows, totals and trend is not done)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.reports import attendance_rows, run_attendance
from tests.perf.test_schedule_scale import year  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.perf,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

RAW = """
SELECT c.id, c.mrn,
    (SELECT COUNT(*) FROM scheduling_enrollment e
        JOIN scheduling_groupsession s ON s.group_id = e.group_id
        WHERE e.client_id = c.id AND s.cancelled_at IS NULL AND s.date BETWEEN %s AND %s
          AND e.start_on <= s.date AND (e.ended_on IS NULL OR e.ended_on > s.date)) AS scheduled,
    a.attended, a.excused, a.unexcused, a.minutes
FROM clients_client c JOIN (
    SELECT a.client_id,
        COUNT(*) FILTER (WHERE a.status IN ('present', 'late', 'left_early', 'telehealth')),
        COUNT(*) FILTER (WHERE a.status = 'excused'),
        COUNT(*) FILTER (WHERE a.status = 'unexcused'),
        SUM(a.minutes) FILTER (WHERE a.status IN ('present', 'late', 'left_early', 'telehealth'))
    FROM scheduling_attendance a JOIN scheduling_groupsession s ON s.id = a.session_id
    WHERE s.cancelled_at IS NULL AND s.date BETWEEN %s AND %s
    GROUP BY a.client_id
) a(client_id, attended, excused, unexcused, minutes) ON a.client_id = c.id
ORDER BY c.mrn
"""


def _best(fn, runs=3):
    fn()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def test_twelve_month_attendance_report_against_raw_sql(year, admin_user, capsys):  # noqa: F811
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=364)
    filters = {"start": start, "end": end}

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(RAW, [start, end, start, end])
            return cursor.fetchall()

    raw_rows = raw()
    rows = attendance_rows(admin_user, filters)
    assert len(rows) == len(raw_rows) > 2_000
    by_mrn = {r["mrn"]: r for r in rows}
    for _id, mrn, scheduled, attended, excused, unexcused, _minutes in raw_rows[:200]:
        r = by_mrn[mrn]
        assert (r["sessions_scheduled"], r["sessions_attended"]) == (scheduled, attended)
        assert (r["sessions_excused"], r["sessions_unexcused"]) == (excused, unexcused)
    raw_s = _best(raw)
    rows_s = _best(lambda: attendance_rows(admin_user, filters))
    page_s = _best(lambda: run_attendance(user=admin_user, filters=filters))
    with capsys.disabled():
        print(
            f"\n{year['attendance']:,} attendance rows, {len(rows):,} clients, 12 months: "
            f"raw SQL aggregate {raw_s:.2f} s; report rows (CSV, command) {rows_s:.2f} s "
            f"({rows_s / raw_s:.1f}x); page with totals and trend {page_s:.2f} s"
        )
    if rows_s >= 1.5 or rows_s > 2 * raw_s:
        # Not met yet (issue 12's target): the figures agree with the raw aggregate, the
        # time does not. Shown as XFAIL with the numbers so nobody mistakes it for done.
        pytest.xfail(f"target not met: {rows_s:.2f} s, {rows_s / raw_s:.1f}x the raw aggregate")
