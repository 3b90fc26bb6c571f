"""The attendance report's figures as one hand-written PostgreSQL statement: every
column of the per-client CSV (``scheduling.reports.ATTENDANCE_COLUMNS``), written
without the ORM, the report's CTE builder or its calendar table, from the rules in
``scheduling/reports.py``'s docstring. The perf test checks that the report agrees with
it for every client and times the report against it (issue 12's "within 2x"); the
benchmark (``manage.py bench``) does the same on its own dataset.

Only the six session counts are cheap (one aggregation per client); hours required,
weeks below the floor and billable days need the attendance per client and week, which
is where the time goes in both.
"""

from datetime import date, timedelta

RAW_ATTENDANCE = """
WITH cw AS (
    SELECT a.client_id AS c, s.wk,
        COUNT(*) FILTER (WHERE s.r) AS n_in,
        COUNT(a.am) FILTER (WHERE s.r) AS attended,
        COUNT(*) FILTER (WHERE s.r AND a.status = 'late') AS late,
        COUNT(*) FILTER (WHERE s.r AND a.status = 'left_early') AS left_early,
        COUNT(*) FILTER (WHERE s.r AND a.status = 'telehealth') AS telehealth,
        COUNT(*) FILTER (WHERE s.r AND a.status = 'excused') AS excused,
        COUNT(*) FILTER (WHERE s.r AND a.status = 'unexcused') AS unexcused,
        SUM(a.am) FILTER (WHERE s.r) AS minutes,
        SUM(a.am) AS week_minutes,
        SUM(a.am) FILTER (WHERE s.dw = 1) AS m1,
        SUM(a.am) FILTER (WHERE s.dw = 2) AS m2,
        SUM(a.am) FILTER (WHERE s.dw = 3) AS m3,
        SUM(a.am) FILTER (WHERE s.dw = 4) AS m4,
        SUM(a.am) FILTER (WHERE s.dw = 5) AS m5,
        SUM(a.am) FILTER (WHERE s.dw = 6) AS m6,
        SUM(a.am) FILTER (WHERE s.dw = 7) AS m7
    FROM (
        -- attended minutes: NULL unless present, late, left early or telehealth
        SELECT client_id, session_id, status, CASE WHEN status IN
            ('present', 'late', 'left_early', 'telehealth') THEN minutes END AS am
        FROM scheduling_attendance
    ) a JOIN (
        SELECT id, date_trunc('week', date)::date AS wk, extract(isodow FROM date)::int AS dw,
            date BETWEEN %(start)s AND %(end)s AS r
        FROM scheduling_groupsession
        WHERE cancelled_at IS NULL AND date BETWEEN %(xs)s AND %(xe)s
    ) s ON s.id = a.session_id
    GROUP BY a.client_id, s.wk),
enr AS (
    SELECT e.client_id AS c, e.group_id, e.start_on, e.ended_on, t.min_hours_per_week AS fl,
        t.code,
        GREATEST(%(first_monday)s::date,
            e.start_on + (8 - extract(isodow FROM e.start_on)::int) %% 7) AS w0,
        LEAST(%(last_monday)s::date,
            e.ended_on - 6 - extract(isodow FROM e.ended_on)::int) AS w1
    FROM scheduling_enrollment e JOIN scheduling_track t ON t.id = e.track_id
    WHERE e.start_on <= %(end)s AND (e.ended_on IS NULL OR e.ended_on > %(start)s)),
-- Whole weeks. A client is in one group at a time, so a whole week lies inside one
-- enrollment (the Mondays w0..w1 of each) or spans a step-down: the weeks of an
-- enrollment's first and last day, covered all seven days by two or more.
span AS (SELECT c, w0, w1, fl, (w1 - w0) / 7 + 1 AS weeks FROM enr WHERE w1 >= w0),
edge AS (
    SELECT DISTINCT enr.c, v.wk
    FROM enr, LATERAL (VALUES (date_trunc('week', enr.start_on)::date),
        (date_trunc('week', enr.ended_on - 1)::date)) v(wk)
    WHERE v.wk BETWEEN %(first_monday)s AND %(last_monday)s),
multi AS (
    SELECT edge.c, edge.wk, MIN(enr.fl) AS fl
    FROM edge JOIN enr ON enr.c = edge.c AND enr.start_on <= edge.wk + 6
        AND (enr.ended_on IS NULL OR enr.ended_on > edge.wk)
    GROUP BY edge.c, edge.wk
    HAVING COUNT(*) > 1 AND SUM(LEAST(edge.wk + 7, COALESCE(enr.ended_on, edge.wk + 7))
        - GREATEST(edge.wk, enr.start_on)) = 7),
floors AS (
    SELECT c, SUM(weeks) AS weeks, SUM(weeks * fl) AS required,
        SUM(weeks) FILTER (WHERE fl > 0) AS zero_below
    FROM (SELECT c, weeks, fl FROM span UNION ALL SELECT c, 1, fl FROM multi) x GROUP BY c),
per AS (
    SELECT cw.c, SUM(n_in) AS n_in, SUM(attended) AS attended, SUM(late) AS late,
        SUM(left_early) AS left_early, SUM(telehealth) AS telehealth, SUM(excused) AS excused,
        SUM(unexcused) AS unexcused, SUM(minutes) AS minutes, SUM(q.qd_in) AS days3,
        SUM(q.qd_in) FILTER (WHERE q.qd >= %(min_days)s) AS billable,
        COUNT(*) FILTER (WHERE COALESCE(span.fl, multi.fl) > 0
            AND COALESCE(week_minutes, 0) >= COALESCE(span.fl, multi.fl) * 60) AS above
    FROM cw
    CROSS JOIN LATERAL (SELECT
        COALESCE((m1 >= %(day_minutes)s)::int, 0) + COALESCE((m2 >= %(day_minutes)s)::int, 0)
        + COALESCE((m3 >= %(day_minutes)s)::int, 0) + COALESCE((m4 >= %(day_minutes)s)::int, 0)
        + COALESCE((m5 >= %(day_minutes)s)::int, 0) + COALESCE((m6 >= %(day_minutes)s)::int, 0)
        + COALESCE((m7 >= %(day_minutes)s)::int, 0) AS qd,
        COALESCE((m1 >= %(day_minutes)s AND cw.wk + 0 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m2 >= %(day_minutes)s AND cw.wk + 1 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m3 >= %(day_minutes)s AND cw.wk + 2 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m4 >= %(day_minutes)s AND cw.wk + 3 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m5 >= %(day_minutes)s AND cw.wk + 4 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m6 >= %(day_minutes)s AND cw.wk + 5 BETWEEN %(start)s AND %(end)s)::int, 0)
        + COALESCE((m7 >= %(day_minutes)s AND cw.wk + 6 BETWEEN %(start)s AND %(end)s)::int, 0)
        AS qd_in) q
    LEFT JOIN span ON span.c = cw.c AND cw.wk BETWEEN span.w0 AND span.w1
    LEFT JOIN multi ON multi.c = cw.c AND multi.wk = cw.wk
    GROUP BY cw.c),
sched AS (
    SELECT enr.c, COUNT(*) AS scheduled
    FROM enr JOIN scheduling_groupsession s ON s.group_id = enr.group_id
        AND s.cancelled_at IS NULL AND s.date BETWEEN %(start)s AND %(end)s
        AND s.date >= enr.start_on AND (enr.ended_on IS NULL OR enr.ended_on > s.date)
    GROUP BY enr.c),
track AS (SELECT DISTINCT ON (c) c, code FROM enr ORDER BY c, start_on DESC)
SELECT cl.mrn, track.code AS track, COALESCE(sched.scheduled, 0) AS sessions_scheduled,
    COALESCE(per.attended, 0) AS sessions_attended, COALESCE(per.late, 0) AS sessions_late,
    COALESCE(per.left_early, 0) AS sessions_left_early,
    COALESCE(per.telehealth, 0) AS sessions_telehealth,
    COALESCE(per.excused, 0) AS sessions_excused, COALESCE(per.unexcused, 0) AS sessions_unexcused,
    COALESCE(per.minutes, 0) AS minutes, COALESCE(floors.required, 0) AS hours_required,
    COALESCE(floors.weeks, 0) AS weeks_enrolled,
    COALESCE(floors.zero_below, 0) - COALESCE(per.above, 0) AS weeks_below_floor,
    COALESCE(per.days3, 0) AS days_3h, COALESCE(per.billable, 0) AS billable_days
FROM clients_client cl
LEFT JOIN per ON per.c = cl.id LEFT JOIN sched ON sched.c = cl.id
LEFT JOIN floors ON floors.c = cl.id LEFT JOIN track ON track.c = cl.id
WHERE cl.id IN (SELECT c FROM enr UNION SELECT c FROM per WHERE n_in > 0)
ORDER BY cl.mrn
"""


def raw_attendance_params(start: date, end: date, *, day_minutes=180, min_days=3) -> dict:
    monday = start - timedelta(days=start.weekday())
    last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)
    return {
        "start": start,
        "end": end,
        "xs": monday,
        "xe": end + timedelta(days=6 - end.weekday()),
        "first_monday": monday if start.weekday() == 0 else monday + timedelta(days=7),
        "last_monday": last_sunday - timedelta(days=6),
        "day_minutes": day_minutes,
        "min_days": min_days,
    }
