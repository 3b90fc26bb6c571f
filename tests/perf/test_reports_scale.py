"""The 12-month attendance report for all clients on a year of data (PostgreSQL only),
against the single hand-written SQL statement that computes the same figures
(``RAW_SQL["attendance"]`` in tooling/bench/raw.py, the benchmark's yardstick): every
column, every client, equal; and the time.

Target (issue 12): under 1.5 s and within 2x that statement.

History, on a shared 2-core machine (+-30 %): the first version took 8.0 s; the
restructuring brought it to 1.5 s, the second pass to 0.97 s. Those passes compared it
with a statement that counted the six session figures only (0.17-0.43 s), without the
weeks, floors and days that need the attendance per client and week; the statement
here computes all sixteen columns, as the report must. Third pass: one ``span`` row per
client for the whole weeks instead of one row per client-week (153,000 here), joined by
client, and no merge joins in the report's transaction (the planner sorted 468,000 rows
to merge-join the client-weeks with the spans).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.reports import ATTENDANCE_COLUMNS, PG_SETTINGS, attendance_rows, run_attendance
from tests.perf.test_schedule_scale import year  # noqa: F401 (fixture)
from tests.perf.timing import best_of
from tooling.bench.raw import RAW_SQL, attendance_params

pytestmark = [
    pytest.mark.perf,
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'"),
]

# The six session counts alone: one aggregation per client, no weeks. For scale only.
COUNTS_ONLY = """
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


def test_twelve_month_attendance_report_against_raw_sql(year, admin_user, capsys):  # noqa: F811
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=364)
    filters = {"start": start, "end": end}

    def fetch(sql, params):
        # The hand-written statement runs under the report's own session settings.
        with connection.cursor() as cursor:
            cursor.execute(PG_SETTINGS + sql, params)
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def raw():
        return fetch(
            RAW_SQL["attendance"], {"start": start, "end": end, **attendance_params(start, end)}
        )

    def counts_only():
        return fetch(COUNTS_ONLY, [start, end, start, end])

    expected = raw()
    rows = attendance_rows(admin_user, filters)
    assert len(rows) == len(expected) > 2_000
    by_mrn = {r["mrn"]: r for r in rows}
    numbers = [c for c in ATTENDANCE_COLUMNS if c not in ("mrn", "track", "attendance_rate")]
    for e in expected:
        r = by_mrn[e["mrn"]]
        assert r["track_code"] == e["track"]
        for column in numbers:
            if column == "hours_attended":
                assert r[column] == (Decimal(e["minutes"]) / 60).quantize(Decimal("0.01"))
            else:
                assert r[column] == e[column], (e["mrn"], column)
    raw_s = best_of(raw)
    counts_s = best_of(counts_only)
    rows_s = best_of(lambda: attendance_rows(admin_user, filters))
    page_s = best_of(lambda: run_attendance(user=admin_user, filters=filters), runs=1)
    with capsys.disabled():
        print(
            f"\n{year['attendance']:,} attendance rows, {len(rows):,} clients, 12 months: "
            f"hand-written statement {raw_s:.2f} s (six counts only: {counts_s:.2f} s); "
            f"report rows (CSV, command, background run) {rows_s:.2f} s "
            f"({rows_s / raw_s:.1f}x); page with totals and trend {page_s:.2f} s"
        )
    assert rows_s < 1.5, f"{rows_s:.2f} s"
    assert rows_s <= 2 * raw_s, f"{rows_s:.2f} s is {rows_s / raw_s:.1f}x the statement"
