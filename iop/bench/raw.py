"""The hand-written SQL under each report: the yardstick a report page is compared to.

One statement per report, written by hand against the tables (no ORM, no scoping: the
benchmark runs them as a program admin would see them, every client), computing the
report's core figures over the same range. ``bench`` prints the report's time over
this one's. They answer the same question as the report, not always every column of
it; each says what it leaves out.

PostgreSQL only. Parameters: ``start`` and ``end`` (dates, inclusive) and ``tz`` (the
clinic's time zone, for figures that cut timestamps into clinic days).
"""

from django.db import connection, transaction

# The same session settings the reports give their own transaction
# (scheduling.reports.PG_SETTINGS), so the ratio measures the report, not work_mem.
PG_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; "

# Held sessions are those without ``cancelled_at``; attended = present, late, left
# early, telehealth (scheduling.models.ATTENDED), typed out as a hand-written query would.

RAW_SQL = {
    # Per client: sessions scheduled (own group, days enrolled), attended, excused,
    # unexcused, minutes attended. Leaves out hours required, weeks below the floor,
    # days of 3 hours and billable days (the whole-week rules).
    # From tests/perf/test_reports_scale.py; the attendance report's rewrite replaces it
    # with a complete one.
    "attendance": """
SELECT c.id, c.mrn,
    (SELECT COUNT(*) FROM scheduling_enrollment e
        JOIN scheduling_groupsession s ON s.group_id = e.group_id
        WHERE e.client_id = c.id AND s.cancelled_at IS NULL
          AND s.date BETWEEN %(start)s AND %(end)s
          AND e.start_on <= s.date AND (e.ended_on IS NULL OR e.ended_on > s.date)) AS scheduled,
    a.attended, a.excused, a.unexcused, a.minutes
FROM clients_client c JOIN (
    SELECT a.client_id,
        COUNT(*) FILTER (WHERE a.status IN ('present', 'late', 'left_early', 'telehealth')),
        COUNT(*) FILTER (WHERE a.status = 'excused'),
        COUNT(*) FILTER (WHERE a.status = 'unexcused'),
        SUM(a.minutes) FILTER (WHERE a.status IN ('present', 'late', 'left_early', 'telehealth'))
    FROM scheduling_attendance a JOIN scheduling_groupsession s ON s.id = a.session_id
    WHERE s.cancelled_at IS NULL AND s.date BETWEEN %(start)s AND %(end)s
    GROUP BY a.client_id
) a(client_id, attended, excused, unexcused, minutes) ON a.client_id = c.id
ORDER BY c.mrn
""",
    # Per client per day attended: minutes, and the days of 3 hours or more in that
    # Monday-Sunday week (the whole week, even where the range cuts it). The report's
    # rows; leaves out the payer rule's other thresholds (default: 3 h, 3 days).
    "billable-days": """
WITH daily AS (
    SELECT a.client_id AS c, s.date AS d, date_trunc('week', s.date)::date AS wk,
        SUM(a.minutes) AS m
    FROM scheduling_attendance a JOIN scheduling_groupsession s ON s.id = a.session_id
    WHERE s.cancelled_at IS NULL AND a.status IN ('present', 'late', 'left_early', 'telehealth')
      AND s.date BETWEEN date_trunc('week', %(start)s::date)::date
                     AND date_trunc('week', %(end)s::date)::date + 6
    GROUP BY a.client_id, s.date
), weekly AS (
    SELECT c, d, m, COUNT(*) FILTER (WHERE m >= 180) OVER (PARTITION BY c, wk) AS qd
    FROM daily
)
SELECT cl.mrn, weekly.d, weekly.m, weekly.qd,
    weekly.m >= 180 AND weekly.qd >= 3 AS billable
FROM weekly JOIN clients_client cl ON cl.id = weekly.c
WHERE weekly.d BETWEEN %(start)s AND %(end)s
ORDER BY cl.mrn, weekly.d
""",
    # Retention and completion of the episodes admitted in the range by the track and
    # slot they started in and the client's profession, plus admissions and discharges
    # by month and length of stay by discharge reason. Leaves out the census on a
    # date, the step-down rate and the PHQ-9/GAD-7 change.
    "census": """
WITH admitted AS (
    SELECT e.id, e.discharged_on, e.discharge_reason, c.profession,
        (SELECT t.code FROM scheduling_enrollment en JOIN scheduling_track t ON t.id = en.track_id
            WHERE en.episode_id = e.id ORDER BY en.start_on, en.id LIMIT 1) AS track,
        (SELECT sl.code FROM scheduling_enrollment en
            JOIN scheduling_group g ON g.id = en.group_id
            JOIN scheduling_slot sl ON sl.id = g.slot_id
            WHERE en.episode_id = e.id ORDER BY en.start_on, en.id LIMIT 1) AS slot
    FROM clients_episode e JOIN clients_client c ON c.id = e.client_id
    WHERE e.admitted_on BETWEEN %(start)s AND %(end)s
)
SELECT 'retention' AS figure, track, slot, profession, COUNT(*) AS n,
    COUNT(*) FILTER (WHERE discharged_on <= %(end)s) AS discharged,
    COUNT(*) FILTER (WHERE discharged_on <= %(end)s AND discharge_reason = 'completed'),
    NULL::float AS median_days
FROM admitted GROUP BY track, slot, profession
UNION ALL
SELECT 'by_month', to_char(m, 'YYYY-MM'), NULL, NULL, SUM(adm), SUM(dis), NULL, NULL
FROM (
    SELECT date_trunc('month', admitted_on) AS m, 1 AS adm, 0 AS dis FROM clients_episode
        WHERE admitted_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT date_trunc('month', discharged_on), 0, 1 FROM clients_episode
        WHERE discharged_on BETWEEN %(start)s AND %(end)s
) x GROUP BY m
UNION ALL
SELECT 'length_of_stay', discharge_reason, NULL, NULL, COUNT(*), MIN(discharged_on - admitted_on),
    MAX(discharged_on - admitted_on),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY discharged_on - admitted_on)
FROM clients_episode WHERE discharged_on BETWEEN %(start)s AND %(end)s
GROUP BY discharge_reason
""",
    # Per author: notes of sessions and appointments that ended in the range, signed,
    # signed within 24 h and 72 h of the end, unsigned, co-signatures waiting. Leaves
    # out the treatment plans overdue for review.
    "documentation": """
SELECT n.author_id, u.username,
    COUNT(*) AS notes,
    COUNT(*) FILTER (WHERE n.status = 'signed') AS signed,
    COUNT(*) FILTER (WHERE n.status = 'signed' AND n.signed_at <= x.ended + interval '24 hours'),
    COUNT(*) FILTER (WHERE n.status = 'signed' AND n.signed_at <= x.ended + interval '72 hours'),
    COUNT(*) FILTER (WHERE n.status = 'draft') AS unsigned,
    COUNT(*) FILTER (WHERE n.status = 'signed' AND n.cosign_status = 'pending') AS cosign_waiting
FROM clinical_progressnote n
LEFT JOIN scheduling_groupsession s ON s.id = n.session_id
LEFT JOIN scheduling_appointment ap ON ap.id = n.appointment_id
CROSS JOIN LATERAL (SELECT COALESCE(s.ends_at, ap.ends_at) AS ended) x
JOIN accounts_user u ON u.id = n.author_id
WHERE x.ended >= (%(start)s::date)::timestamp AT TIME ZONE %(tz)s
  AND x.ended < (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s
GROUP BY n.author_id, u.username
ORDER BY u.username
""",
    # Positivity per analyte and month of the screens due in the range (the random
    # selection's date, else the clinic day of collection): tested, unexpected and
    # expected positives. Leaves out screens by order kind and the days since each
    # active client's last unexpected positive.
    "screening": """
WITH screens AS (
    SELECT u.id, COALESCE(sel.date, (u.collected_at AT TIME ZONE %(tz)s)::date) AS day
    FROM screening_urinescreen u
    LEFT JOIN screening_randomselection sel ON sel.id = u.selection_id
    WHERE u.status = 'collected'
)
SELECT an.code, date_trunc('month', screens.day) AS month,
    COUNT(*) FILTER (WHERE r.outcome IN ('negative', 'positive')) AS tested,
    COUNT(*) FILTER (WHERE r.outcome = 'positive' AND r.confirmation <> 'confirmed_negative'
        AND NOT r.expected) AS unexpected,
    COUNT(*) FILTER (WHERE r.outcome = 'positive' AND r.confirmation <> 'confirmed_negative'
        AND r.expected) AS expected
FROM screening_analyteresult r
JOIN screens ON screens.id = r.screen_id
JOIN screening_analyte an ON an.id = r.analyte_id
WHERE screens.day BETWEEN %(start)s AND %(end)s
GROUP BY an.code, an."order", month
ORDER BY an."order", an.code, month
""",
}


def run_raw(key: str, *, start, end, tz: str) -> int:
    """Run ``RAW_SQL[key]`` once in its own transaction; the number of rows it answered."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PG_SETTINGS)
        cursor.execute(RAW_SQL[key], {"start": start, "end": end, "tz": tz})
        return len(cursor.fetchall())
