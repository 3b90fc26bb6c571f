"""The hand-written SQL under each report: the yardstick a report page is compared to.

One statement per report, written by hand against the tables (no ORM, no scoping: the
benchmark runs them as a program admin would see them, every client), computing the
report's figures over the same range. ``bench`` prints the report's time over this
one's. Census, documentation, screening and billable days compute every figure their
report shows (billable days with the default payer rule), and
tests/perf/test_program_reports_scale.py checks that they equal the report's; a
statement that leaves something out says what.

PostgreSQL only. Parameters (``raw_params``): ``start`` and ``end`` (dates, inclusive),
``tz`` (the clinic's time zone, for figures that cut timestamps into clinic days),
``today`` and ``review_days`` (treatment plans overdue for review), and for some the
extra ones ``EXTRA_PARAMS`` computes from the range.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from scheduling.reports import PG_SETTINGS as REPORT_PG_SETTINGS

# The same session settings the reports give their own transaction, so the ratio
# measures the report, not work_mem or the planner's choices.
PG_SETTINGS = REPORT_PG_SETTINGS

# Held sessions are those without ``cancelled_at``; attended = present, late, left
# early, telehealth (scheduling.models.ATTENDED), typed out as a hand-written query would.

RAW_SQL = {
    # Every column of the per-client CSV (scheduling.reports.ATTENDANCE_COLUMNS) for
    # every client, written from the rules in scheduling/reports.py's docstring: a
    # statement tests/perf/test_reports_scale.py checks the report against, row by row
    # and column by column, on a year of data.
    "attendance": """
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
        SUM(a.am) FILTER (WHERE s.dw = 7) AS m7,
        -- H0015 per program day: days attended in a qualifying program's session
        COUNT(DISTINCT s.date) FILTER (WHERE s.r AND s.q AND a.am IS NOT NULL) AS pdays
    FROM (
        -- attended minutes: NULL unless present, late, left early or telehealth
        SELECT client_id, session_id, status, CASE WHEN status IN
            ('present', 'late', 'left_early', 'telehealth') THEN minutes END AS am
        FROM scheduling_attendance
    ) a JOIN (
        SELECT s.id, s.date, date_trunc('week', s.date)::date AS wk,
            extract(isodow FROM s.date)::int AS dw, s.date BETWEEN %(start)s AND %(end)s AS r,
            -- the session's track operates >= 3 h a day on >= 3 days a week
            t.hours_per_session * 60 >= %(day_minutes)s AND t.days_per_week >= %(min_days)s AS q
        FROM scheduling_groupsession s JOIN scheduling_group g ON g.id = s.group_id
            JOIN scheduling_track t ON t.id = g.track_id
        WHERE s.cancelled_at IS NULL AND s.date BETWEEN %(xs)s AND %(xe)s
    ) s ON s.id = a.session_id
    GROUP BY a.client_id, s.wk),
enr AS (
    SELECT e.client_id AS c, e.group_id, e.start_on, e.ended_on, t.min_hours_per_week AS fl,
        t.adolescent_min_hours_per_week AS fla, t.code,
        -- the first Monday the client is 18 on (a 29 February birthday: 1 March)
        (cl.date_of_birth - 1 + interval '18 years')::date + 1
            + (8 - extract(isodow FROM (cl.date_of_birth - 1 + interval '18 years')::date + 1)::int)
            %% 7 AS aw,
        GREATEST(%(first_monday)s::date,
            e.start_on + (8 - extract(isodow FROM e.start_on)::int) %% 7) AS w0,
        LEAST(%(last_monday)s::date,
            e.ended_on - 6 - extract(isodow FROM e.ended_on)::int) AS w1
    FROM scheduling_enrollment e JOIN scheduling_track t ON t.id = e.track_id
        JOIN clients_client cl ON cl.id = e.client_id
    WHERE e.start_on <= %(end)s AND (e.ended_on IS NULL OR e.ended_on > %(start)s)),
-- Whole weeks. A client is in one group at a time, so a whole week lies inside one
-- enrollment (the Mondays w0..w1 of each) or spans a step-down: the weeks of an
-- enrollment's first and last day, covered all seven days by two or more.
-- An adolescent's weeks (before ``aw``) are judged against the adolescents' floor.
span AS (
    SELECT c, w0, w1, fl, (w1 - w0) / 7 + 1 AS weeks FROM (
        SELECT c, w0, LEAST(w1, aw - 7) AS w1, fla AS fl FROM enr WHERE fla IS NOT NULL
        UNION ALL
        SELECT c, CASE WHEN fla IS NULL THEN w0 ELSE GREATEST(w0, aw) END, w1, fl FROM enr
    ) parts WHERE w1 >= w0),
edge AS (
    SELECT DISTINCT enr.c, v.wk
    FROM enr, LATERAL (VALUES (date_trunc('week', enr.start_on)::date),
        (date_trunc('week', enr.ended_on - 1)::date)) v(wk)
    WHERE v.wk BETWEEN %(first_monday)s AND %(last_monday)s),
multi AS (
    SELECT edge.c, edge.wk,
        MIN(CASE WHEN enr.fla IS NOT NULL AND edge.wk < enr.aw THEN enr.fla ELSE enr.fl END) AS fl
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
        SUM(q.qd_in) FILTER (WHERE q.qd >= %(min_days)s) AS billable, SUM(pdays) AS pbillable,
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
    COALESCE(per.days3, 0) AS days_3h,
    CASE WHEN %(rule)s = 'program_day' THEN COALESCE(per.pbillable, 0)
        ELSE COALESCE(per.billable, 0) END AS billable_days
FROM clients_client cl
LEFT JOIN per ON per.c = cl.id LEFT JOIN sched ON sched.c = cl.id
LEFT JOIN floors ON floors.c = cl.id LEFT JOIN track ON track.c = cl.id
WHERE cl.id IN (SELECT c FROM enr UNION SELECT c FROM per WHERE n_in > 0)
ORDER BY cl.mrn
""",
    # Per client per day attended: minutes, the days of 3 hours or more in that
    # Monday-Sunday week (the whole week, even where the range cuts it), whether one of
    # the day's sessions is a qualifying program's (its track: 3 h a session, 3 days a
    # week), and billable by the program's H0015 rule. The report's rows; leaves out
    # the payer rule's other thresholds (default: 3 h, 3 days).
    "billable-days": """
WITH daily AS (
    SELECT a.client_id AS c, s.date AS d, date_trunc('week', s.date)::date AS wk,
        SUM(a.minutes) AS m, BOOL_OR(t.hours_per_session >= 3 AND t.days_per_week >= 3) AS p
    FROM scheduling_attendance a JOIN scheduling_groupsession s ON s.id = a.session_id
        JOIN scheduling_group g ON g.id = s.group_id JOIN scheduling_track t ON t.id = g.track_id
    WHERE s.cancelled_at IS NULL AND a.status IN ('present', 'late', 'left_early', 'telehealth')
      AND s.date BETWEEN date_trunc('week', %(start)s::date)::date
                     AND date_trunc('week', %(end)s::date)::date + 6
    GROUP BY a.client_id, s.date
), weekly AS (
    SELECT c, d, m, p, COUNT(*) FILTER (WHERE m >= 180) OVER (PARTITION BY c, wk) AS qd
    FROM daily
)
SELECT cl.mrn, weekly.d, weekly.m, weekly.qd, weekly.p,
    CASE WHEN %(rule)s = 'program_day' THEN weekly.p
        ELSE weekly.m >= 180 AND weekly.qd >= 3 END AS billable
FROM weekly JOIN clients_client cl ON cl.id = weekly.c
WHERE weekly.d BETWEEN %(start)s AND %(end)s
ORDER BY cl.mrn, weekly.d
""",
    # Every figure of the census page: retention and completion of the episodes
    # admitted in the range by the track and slot they started in (first enrollment)
    # and the client's profession; the active census on the range's end by track and
    # slot; admissions and discharges by month; length of stay by discharge reason;
    # the step-down rate (of the discharged stays on a track that steps down, those
    # with a later enrollment on the track below); PHQ-9 and GAD-7 at admission and
    # discharge over the discharged stays with two or more scores. Columns: figure,
    # three keys, three counts, three decimals.
    "census": """
WITH admitted AS (
    SELECT e.id, e.discharged_on, e.discharge_reason, c.profession
    FROM clients_episode e JOIN clients_client c ON c.id = e.client_id
    WHERE e.admitted_on BETWEEN %(start)s AND %(end)s
), first AS (
    SELECT en.episode_id, t.code AS track, sl.code AS slot,
        ROW_NUMBER() OVER (PARTITION BY en.episode_id ORDER BY en.start_on, en.id) AS n
    FROM scheduling_enrollment en JOIN scheduling_track t ON t.id = en.track_id
    JOIN scheduling_group g ON g.id = en.group_id JOIN scheduling_slot sl ON sl.id = g.slot_id
    WHERE en.episode_id IN (SELECT id FROM admitted)
), discharged AS (
    SELECT id, client_id, admitted_on, discharged_on, discharge_reason FROM clients_episode
    WHERE discharged_on BETWEEN %(start)s AND %(end)s
), scores AS (
    SELECT d.id, m.instrument, m.score,
        ROW_NUMBER() OVER (PARTITION BY d.id, m.instrument ORDER BY m.administered_on, m.id) AS up,
        ROW_NUMBER() OVER (PARTITION BY d.id, m.instrument
            ORDER BY m.administered_on DESC, m.id DESC) AS down
    FROM discharged d JOIN clinical_measure m ON m.client_id = d.client_id
        AND m.administered_on BETWEEN d.admitted_on AND d.discharged_on
    WHERE m.instrument IN ('phq9', 'gad7') AND m.score IS NOT NULL
), stays AS (
    SELECT id, instrument, COUNT(*) AS n, MAX(score) FILTER (WHERE up = 1) AS a,
        MAX(score) FILTER (WHERE down = 1) AS d
    FROM scores GROUP BY id, instrument
)
SELECT 'retention' AS figure, f.track, f.slot, a.profession, COUNT(*) AS n,
    COUNT(*) FILTER (WHERE a.discharged_on <= %(end)s),
    COUNT(*) FILTER (WHERE a.discharged_on <= %(end)s AND a.discharge_reason = 'completed'),
    NULL::float, NULL::float, NULL::float
FROM admitted a LEFT JOIN first f ON f.episode_id = a.id AND f.n = 1
GROUP BY f.track, f.slot, a.profession
UNION ALL
SELECT 'active_on', t.code, sl.code, NULL, COUNT(DISTINCT en.client_id), NULL, NULL,
    NULL, NULL, NULL
FROM scheduling_enrollment en JOIN scheduling_track t ON t.id = en.track_id
JOIN scheduling_group g ON g.id = en.group_id JOIN scheduling_slot sl ON sl.id = g.slot_id
WHERE en.start_on <= %(end)s AND (en.ended_on IS NULL OR en.ended_on > %(end)s)
GROUP BY t.code, sl.code
UNION ALL
SELECT 'by_month', to_char(m, 'YYYY-MM'), NULL, NULL, SUM(adm), SUM(dis), NULL, NULL, NULL,
    NULL
FROM (
    SELECT date_trunc('month', admitted_on) AS m, 1 AS adm, 0 AS dis FROM clients_episode
        WHERE admitted_on BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT date_trunc('month', discharged_on), 0, 1 FROM discharged
) x GROUP BY m
UNION ALL
SELECT 'length_of_stay', discharge_reason, NULL, NULL, COUNT(*), MIN(discharged_on - admitted_on),
    MAX(discharged_on - admitted_on),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY discharged_on - admitted_on), NULL, NULL
FROM discharged GROUP BY discharge_reason
UNION ALL
SELECT 'step_down', t.code, t2.code, NULL, COUNT(DISTINCT en.episode_id),
    COUNT(DISTINCT en.episode_id) FILTER (WHERE EXISTS (
        SELECT 1 FROM scheduling_enrollment later
        WHERE later.episode_id = en.episode_id AND later.track_id = t.steps_down_to_id
          AND later.start_on >= en.start_on)), NULL, NULL, NULL, NULL
FROM scheduling_enrollment en JOIN scheduling_track t ON t.id = en.track_id
JOIN scheduling_track t2 ON t2.id = t.steps_down_to_id
WHERE en.episode_id IN (SELECT id FROM discharged)
GROUP BY t.code, t2.code
UNION ALL
SELECT 'measure_change', instrument, NULL, NULL, COUNT(*), COUNT(*) FILTER (WHERE d < a), NULL,
    AVG(a), AVG(d), AVG(d) - AVG(a)
FROM stays WHERE n >= 2 GROUP BY instrument
""",
    # Every session that needed a note (clinical.notes.selectors): a group session that
    # ended in the range (and by now), not cancelled, with a client marked there; an
    # appointment that ended in the range, neither cancelled nor a no-show. One row per
    # session and person answerable: the note's author, else every facilitator of the
    # group; an appointment's clinician. Then: per clinician (username) sessions held,
    # signed, on time and late (as marked when signed), drafts, no note, within 24 h
    # and 72 h, co-signatures waiting, signed over a copied-text warning; per group
    # (name) the same, each session once;
    # one row per treatment plan in force (current version, episode open) overdue for
    # review today (MRN and days overdue), most overdue first.
    "documentation": """
WITH bounds AS (
    SELECT (%(start)s::date)::timestamp AT TIME ZONE %(tz)s AS lo,
        (%(end)s::date + 1)::timestamp AT TIME ZONE %(tz)s AS hi
), met AS MATERIALIZED (
    SELECT s.id, s.group_id, s.ends_at
    FROM scheduling_groupsession s, bounds
    WHERE s.cancelled_at IS NULL AND s.ends_at >= bounds.lo AND s.ends_at < bounds.hi
      AND s.ends_at <= now()
      AND EXISTS (SELECT 1 FROM scheduling_attendance a WHERE a.session_id = s.id
                  AND a.status IN ('present', 'late', 'left_early', 'telehealth'))
), units AS MATERIALIZED (
    SELECT COALESCE(n.author_id, f.user_id) AS staff, m.group_id AS grp, m.id AS session,
        NULL::bigint AS appointment, m.ends_at AS ended, n.status, n.signed_at,
        n.late_entry, n.cosign_status, n.id AS note
    FROM met m
    LEFT JOIN clinical_progressnote n ON n.session_id = m.id
    LEFT JOIN scheduling_group_facilitators f ON n.id IS NULL AND f.group_id = m.group_id
    WHERE n.id IS NOT NULL OR f.user_id IS NOT NULL
    UNION ALL
    SELECT ap.clinician_id, NULL, NULL, ap.id, ap.ends_at, n.status, n.signed_at,
        n.late_entry, n.cosign_status, n.id
    FROM scheduling_appointment ap CROSS JOIN bounds
    LEFT JOIN clinical_progressnote n ON n.appointment_id = ap.id
    WHERE ap.status IN ('scheduled', 'completed') AND ap.ends_at >= bounds.lo
      AND ap.ends_at < bounds.hi AND ap.ends_at <= now()
), flagged AS (
    SELECT staff, grp, session, status = 'signed' AS signed,
        status = 'signed' AND NOT late_entry AS on_time,
        status = 'signed' AND late_entry AS late,
        status = 'draft' AS draft, status IS NULL AS no_note,
        status = 'signed' AND signed_at <= ended + interval '24 hours' AS s24,
        status = 'signed' AND signed_at <= ended + interval '72 hours' AS s72,
        status = 'signed' AND cosign_status = 'pending' AS cosign,
        EXISTS (SELECT 1 FROM clinical_signwarning w WHERE w.note_id = units.note
                AND w.kind IN ('copied_text', 'copied_earlier')) AS copied
    FROM units
)
(SELECT 'clinician', u.username, COUNT(*), COUNT(*) FILTER (WHERE signed),
    COUNT(*) FILTER (WHERE on_time), COUNT(*) FILTER (WHERE late),
    COUNT(*) FILTER (WHERE draft), COUNT(*) FILTER (WHERE no_note),
    COUNT(*) FILTER (WHERE s24), COUNT(*) FILTER (WHERE s72), COUNT(*) FILTER (WHERE cosign),
    COUNT(*) FILTER (WHERE copied)
FROM flagged x JOIN accounts_user u ON u.id = x.staff
GROUP BY u.username ORDER BY u.username)
UNION ALL
(SELECT 'group', g.name, COUNT(DISTINCT session),
    COUNT(DISTINCT session) FILTER (WHERE signed), COUNT(DISTINCT session) FILTER (WHERE on_time),
    COUNT(DISTINCT session) FILTER (WHERE late), COUNT(DISTINCT session) FILTER (WHERE draft),
    COUNT(DISTINCT session) FILTER (WHERE no_note), COUNT(DISTINCT session) FILTER (WHERE s24),
    COUNT(DISTINCT session) FILTER (WHERE s72), COUNT(DISTINCT session) FILTER (WHERE cosign),
    COUNT(DISTINCT session) FILTER (WHERE copied)
FROM flagged x JOIN scheduling_group g ON g.id = x.grp
GROUP BY g.id, g.name ORDER BY g.name)
UNION ALL
(SELECT 'plan', c.mrn, %(today)s::date - (v.reviewed_on + %(review_days)s), NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL
FROM clinical_treatmentplanversion v
JOIN clinical_treatmentplan p ON p.id = v.plan_id
JOIN clients_episode e ON e.id = p.episode_id
JOIN clients_client c ON c.id = v.client_id
WHERE v.is_current AND e.discharged_on IS NULL
  AND v.reviewed_on < %(today)s::date - %(review_days)s
ORDER BY v.reviewed_on, v.id)
""",
    # Every figure of the screening report. Screens due in the range (the random
    # selection's date, else the clinic day of collection) by order kind: screens,
    # collected, no-shows, refusals; positivity per analyte and month of the collected
    # ones: tested, unexpected and expected positives; and each active client's days
    # from their last unexpected positive (urine or breath, clinic day) to the range's
    # end, blank when none, with the track of their latest enrollment.
    # Columns: section, key, month, four counts.
    "screening": """
WITH screens AS MATERIALIZED (
    SELECT u.id, u.order_kind, u.status,
        COALESCE(sel.date, (u.collected_at AT TIME ZONE %(tz)s)::date) AS day
    FROM screening_urinescreen u
    LEFT JOIN screening_randomselection sel ON sel.id = u.selection_id
), due AS (
    SELECT * FROM screens WHERE day BETWEEN %(start)s AND %(end)s
), per AS (
    SELECT r.analyte_id, date_trunc('month', due.day) AS month,
        COUNT(*) FILTER (WHERE r.outcome IN ('negative', 'positive')) AS tested,
        COUNT(*) FILTER (WHERE r.outcome = 'positive' AND r.confirmation <> 'confirmed_negative'
            AND NOT r.expected) AS unexpected,
        COUNT(*) FILTER (WHERE r.outcome = 'positive' AND r.confirmation <> 'confirmed_negative'
            AND r.expected) AS expected
    FROM screening_analyteresult r JOIN due ON due.id = r.screen_id
    WHERE due.status = 'collected'
    GROUP BY r.analyte_id, month
), last_positive AS (
    SELECT client_id, MAX(day) AS day FROM (
        SELECT client_id, (collected_at AT TIME ZONE %(tz)s)::date AS day
        FROM screening_urinescreen WHERE outcome = 'unexpected_positive'
        UNION ALL
        SELECT client_id, (tested_at AT TIME ZONE %(tz)s)::date
        FROM screening_breathtest WHERE outcome = 'unexpected_positive'
    ) x WHERE day <= %(end)s GROUP BY client_id
)
SELECT * FROM (
    SELECT 'by_kind' AS section, order_kind AS key, NULL::timestamptz AS month,
        COUNT(*) AS n1, COUNT(*) FILTER (WHERE status = 'collected') AS n2,
        COUNT(*) FILTER (WHERE status = 'no_show') AS n3,
        COUNT(*) FILTER (WHERE status = 'refused') AS n4, 0 AS o
    FROM due GROUP BY order_kind
    UNION ALL
    SELECT 'positivity', an.code, per.month, per.tested, per.unexpected, per.expected, NULL,
        an."order"
    FROM per JOIN screening_analyte an ON an.id = per.analyte_id
) figures
UNION ALL
SELECT 'client', c.mrn, NULL, %(end)s::date - lp.day, NULL, NULL, NULL, 0
FROM clients_client c LEFT JOIN last_positive lp ON lp.client_id = c.id
WHERE c.status = 'active'
""",
}


def attendance_params(start: date, end: date, *, day_minutes=180, min_days=3) -> dict:
    """The attendance statement's extra parameters: the weeks the range touches, its
    whole weeks' first and last Mondays, and the default billing rule (3 h, 3 days, the
    program's H0015 rule)."""
    monday = start - timedelta(days=start.weekday())
    last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)
    return {
        "xs": monday,
        "xe": end + timedelta(days=6 - end.weekday()),
        "first_monday": monday if start.weekday() == 0 else monday + timedelta(days=7),
        "last_monday": last_sunday - timedelta(days=6),
        "day_minutes": day_minutes,
        "min_days": min_days,
        "rule": settings.IOP_H0015_RULE,
    }


def billable_params(start: date, end: date) -> dict:
    """The program's H0015 rule (scheduling.billing)."""
    return {"rule": settings.IOP_H0015_RULE}


EXTRA_PARAMS = {"attendance": attendance_params, "billable-days": billable_params}


def raw_params(key: str, *, start, end, tz: str) -> dict:
    """The statements' parameters: the range, the clinic's time zone, today (plans
    overdue, in clinic time), the days between plan reviews, and the key's extra ones."""
    return {
        "start": start,
        "end": end,
        "tz": tz,
        "today": timezone.localdate(),
        "review_days": int(getattr(settings, "IOP_PLAN_REVIEW_DAYS", 30)),
        **(EXTRA_PARAMS[key](start, end) if key in EXTRA_PARAMS else {}),
    }


def fetch_raw(key: str, *, start, end, tz: str) -> list[tuple]:
    """Run ``RAW_SQL[key]`` once in its own transaction; its rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PG_SETTINGS)
        cursor.execute(RAW_SQL[key], raw_params(key, start=start, end=end, tz=tz))
        return cursor.fetchall()


def run_raw(key: str, *, start, end, tz: str) -> int:
    """Run ``RAW_SQL[key]`` once in its own transaction; the number of rows it answered."""
    return len(fetch_raw(key, start=start, end=end, tz=tz))
