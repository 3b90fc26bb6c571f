"""Attendance and billable-days reports: read-only, computed in the database.

The rules are the chart's (scheduling.models): what counts as attended is
``ATTENDED``, "enrolled on a day" is ``enrolled_during_q`` (the rule behind
``Enrollment.objects.during()/on()``), a week is Monday to Sunday in clinic time.
Report rules on top of them:

- a cancelled session is not a scheduled session, and its attendance counts nowhere;
- scheduled = held sessions of the client's own group on days they were enrolled in it;
- attended = attendance marked present, late, left early or telehealth, in any held
  session (a make-up in another group counts as attended);
- a week counts toward hours required and weeks below the floor only when the client
  was enrolled every day of it (Monday to Sunday) and the whole week lies in the range;
  its floor is the track's for the client's age on the week's Monday: the
  adolescents' floor (``adolescent_min_hours_per_week``, 6 h on the IOP tracks) under
  18, the adults' (``min_hours_per_week``, 9 h) from 18 (ASAM Criteria 3rd ed. 2013,
  level 2.1; ``Track.floor_for``, computed here in SQL against each week's
  ``adult_born_by``), the lower one in a step-down week;
- a billable day (HCPCS H0015) follows the payer's rule (scheduling.billing): by default
  the descriptor's, any attended day of a session whose track operates at least
  ``min_hours`` a day on at least ``min_days`` days a week; or, per client-week, at
  least ``min_hours`` attended that day in a week with at least ``min_days`` such days
  (the whole week is looked at, even when the range cuts it; only days in the range
  are counted).

Every figure comes from a few aggregate queries whose number does not depend on the
clients, weeks or sessions: ORM querysets (scoped by ``clients_for``) compiled as CTEs,
aggregated by plain SQL that SQLite and PostgreSQL both run.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.db import connection, transaction
from django.db.models import Case, DateField, F, IntegerField, Value, When
from django.db.models.functions import Cast, ExtractIsoWeekDay, TruncWeek

from clients.access import Purpose, clients_for
from clients.models import CareTeamMember, Client, ClientStatus
from iop.accounts.models import Role
from iop.charts import Series, trend
from iop.numbers import percent
from iop.reports.forms import ReportForm
from iop.reports.values import as_date
from scheduling.billing import BillingRule, H0015Rule, billing_rule, payer_choices
from scheduling.models import (
    ATTENDED,
    Attendance,
    AttendanceStatus,
    Enrollment,
    Group,
    GroupSession,
    Slot,
    Track,
    adult_born_by,
    enrolled_during_sql,
)
from scheduling.selectors import week_start

ATTENDANCE_COLUMNS = (
    "mrn",
    "track",
    "sessions_scheduled",
    "sessions_attended",
    "sessions_late",
    "sessions_left_early",
    "sessions_telehealth",
    "sessions_excused",
    "sessions_unexcused",
    "attendance_rate",
    "hours_attended",
    "hours_required",
    "weeks_enrolled",
    "weeks_below_floor",
    "days_3h",
    "billable_days",
)
ATTENDANCE_LABELS = {
    "mrn": "MRN",
    "track": "Track",
    "sessions_scheduled": "Scheduled",
    "sessions_attended": "Attended",
    "sessions_late": "Late",
    "sessions_left_early": "Left early",
    "sessions_telehealth": "Telehealth",
    "sessions_excused": "Excused",
    "sessions_unexcused": "Unexcused",
    "attendance_rate": "Attendance rate %",
    "hours_attended": "Hours attended",
    "hours_required": "Hours required",
    "weeks_enrolled": "Whole weeks enrolled",
    "weeks_below_floor": "Weeks below floor",
    "days_3h": "Days with 3 h or more",
    "billable_days": "Billable days",
}
BILLABLE_COLUMNS = (
    "mrn",
    "date",
    "hours_attended",
    "meets_day",
    "qualifying_days_in_week",
    "qualifying_program",
    "billable",
    "rule",
)
BILLABLE_LABELS = {
    "mrn": "MRN",
    "date": "Date",
    "hours_attended": "Hours attended",
    "meets_day": "Meets the day",
    "qualifying_days_in_week": "Qualifying days that week",
    "qualifying_program": "Qualifying program",
    "billable": "Billable",
    "rule": "H0015 rule",
}
REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.CLINICIAN)
BILLABLE = BILLABLE_COLUMNS.index("billable")
# Client-days the billable-days page lists; the CSV has them all.
PAGE_ROWS = 1_000


# --- Filters ---------------------------------------------------------------------------


class AttendanceReportForm(ReportForm):
    track = forms.ModelChoiceField(
        Track.objects.all(), to_field_name="code", required=False, empty_label="All tracks"
    )
    slot = forms.ModelChoiceField(
        Slot.objects.all(), to_field_name="code", required=False, empty_label="All slots"
    )
    group = forms.ModelChoiceField(
        Group.objects.select_related("track", "slot"),
        to_field_name="public_id",
        required=False,
        empty_label="All groups",
    )
    clinician = forms.ModelChoiceField(
        None, to_field_name="pk", required=False, empty_label="Any clinician"
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ClientStatus.choices], required=False, label="Client status"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["clinician"].queryset = (
            get_user_model()
            .objects.filter(groups__name__in=[Role.CLINICIAN, Role.SUPERVISOR], is_active=True)
            .distinct()
            .order_by("last_name", "username")
        )

    def clean_group(self):
        # A UUID that is not one makes ModelChoiceField raise ValidationError already;
        # this only keeps the message plain.
        return self.cleaned_data.get("group")


class BillableReportForm(AttendanceReportForm):
    payer = forms.ChoiceField(choices=(), required=False, label="Payer rule")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payer"].choices = payer_choices()


# --- The querysets the SQL aggregates -------------------------------------------------


def _scope(user, f):
    """The clients the figures may be about: the viewer's scope, then the filters, or
    ``None`` when that is every client (an admin without a client filter), so that the
    year-long aggregates carry no ``client IN (all clients)`` semi-join.
    ``user=None`` is the command line (``attendance_report``): whoever runs manage.py
    holds the database already, so it is program-wide, and audited as the system."""
    clients = Client.objects.all() if user is None else clients_for(user, Purpose.CLINICAL)
    if f.get("status"):
        clients = clients.filter(status=f["status"])
    if f.get("clinician"):
        clients = clients.filter(
            pk__in=CareTeamMember.objects.filter(staff=f["clinician"])
            .filter(started_on__lte=f["end"])
            .exclude(ended_on__lte=f["start"])
            .values("client_id")
        )
    if not clients.query.where and not clients.query.is_empty():
        return None
    return clients.order_by().values("pk")


def _group_filter(f, prefix: str) -> dict:
    lookups = {}
    for name in ("track", "slot"):
        if f.get(name):
            lookups[f"{prefix}{name}"] = f[name]
    if f.get("group"):
        lookups[prefix.rstrip("_") or "group"] = f["group"]
    return lookups


def _ctes(user, f, *, daily=False) -> tuple[str, list, BillingRule]:
    """The shared sub-queries, each computed once per statement:

    - ``sess``: held sessions of the weeks the range touches (a few thousand rows a
      year), with their week, weekday and whether they lie in the range, so that the
      per-attendance work is one hash join on a small table;
    - ``att``: attendance at those sessions (the one large scan);
    - ``sched``: the client's own group's sessions on days enrolled, in the range (from
      ``sin``, the sessions in the range, a table the planner has statistics for);
    - ``aw``: attendance aggregated once per client and week, the attended minutes of
      each weekday side by side, so that the daily and weekly figures need no second
      aggregation of the large table;
    - ``weekly``: read off ``aw``; ``whole``: the whole weeks enrolled;
    - ``daily`` (only when asked: the billable-days page): attended minutes per day,
      and whether one of the day's attended sessions is a qualifying program's.

    A CTE is inlined by PostgreSQL only when one query reads it, so ``att`` is read by
    ``aw`` alone on the attendance page, and nothing unused is declared.
    """
    start, end = f["start"], f["end"]
    rule = f.get("rule") or billing_rule(f.get("payer") or "default")
    per_program_day = rule.h0015 == H0015Rule.PROGRAM_DAY
    ext_start, ext_end = week_start(start), week_start(end) + timedelta(days=6)
    scope = _scope(user, f)
    scoped = {} if scope is None else {"client__in": scope}
    in_range = Case(
        When(date__gte=start, date__lte=end, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    sess = (
        GroupSession.objects.held()
        .filter(date__gte=ext_start, date__lte=ext_end, **_group_filter(f, "group__"))
        .order_by()
        .values(
            sid=F("id"),
            g=F("group_id"),
            sl=F("group__slot_id"),
            tr=F("group__track_id"),
            d=F("date"),
            # A date, not DATE_TRUNC's timestamp: the calendar's weeks are dates, and a
            # join across types cannot hash (it filtered 7.9 M pairs on a year's data).
            wk=Cast(TruncWeek("date"), DateField()),
            dw=Cast(ExtractIsoWeekDay("date"), IntegerField()),
            r=in_range,
            # The session's program operates >= min_hours a day on >= min_days days a
            # week (the HCPCS H0015 descriptor; scheduling.billing).
            q=Case(
                When(
                    group__track__hours_per_session__gte=rule.min_hours,
                    group__track__days_per_week__gte=rule.min_days,
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    enr = (
        Enrollment.objects.during(start, end)
        .filter(**scoped, **_group_filter(f, "group__"))
        .order_by()
        .values("id", "client_id", "group_id", "start_on", "ended_on")
        .annotate(
            fl=F("track__min_hours_per_week"),
            fla=F("track__adolescent_min_hours_per_week"),
            dob=F("client__date_of_birth"),
            tc=F("track__code"),
            tn=F("track__name"),
        )
    )
    parts, params = [], []
    sin = (
        GroupSession.objects.held()
        .filter(date__gte=start, date__lte=end, **_group_filter(f, "group__"))
        .order_by()
        .values(
            g=F("group_id"),
            sl=F("group__slot_id"),
            tr=F("group__track_id"),
            d=F("date"),
            wk=Cast(TruncWeek("date"), DateField()),
        )
    )
    # PostgreSQL would inline ``sess`` into ``att`` and truncate and extract per
    # attendance row (468,000 a year) instead of per session: keep it a table.
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    for name, qs in (("sess", sess), ("sin", sin), ("enr", enr)):
        sql, p = qs.query.sql_with_params()
        parts.append(f"{name} AS {materialized if name == 'sess' else ''}({sql})")
        params += list(p)
    attended = ", ".join(["%s"] * len(ATTENDED))
    attended_params = [str(s) for s in ATTENDED]
    params += attended_params * 2
    att_where = ""
    if scope is not None:
        scope_sql, scope_params = scope.query.sql_with_params()
        att_where = f" WHERE a.client_id IN ({scope_sql})"
        params += list(scope_params)
    parts.append(
        "att AS (SELECT a.client_id AS c, sess.g, sess.sl, sess.tr, sess.d, sess.wk, sess.dw, "
        f"a.status AS st, a.minutes AS m, CASE WHEN a.status IN ({attended}) THEN a.minutes END "
        f"AS am, CASE WHEN sess.q = 1 AND a.status IN ({attended}) THEN 1 END AS pq, sess.r "
        f"FROM {Attendance._meta.db_table} a JOIN sess ON sess.sid = a.session_id"
        f"{att_where})"
    )
    parts.append(
        "sched AS (SELECT enr.client_id AS c, sin.g, sin.sl, sin.tr, sin.wk "
        f"FROM enr JOIN sin ON sin.g = enr.group_id AND {enrolled_during_sql('enr', 'sin.d')})"
    )
    # The whole Monday-Sunday weeks inside the range, each with its seven days and the
    # latest date of birth of an adult on its Monday (``ab``): the client's age on the
    # day without date arithmetic in SQL, which SQLite and PostgreSQL spell differently.
    first_monday = week_start(start) if start.weekday() == 0 else week_start(start) + timedelta(7)
    weeks = []
    monday = first_monday
    while monday + timedelta(days=6) <= end:
        weeks.append([monday + timedelta(days=n) for n in range(7)])
        monday += timedelta(days=7)
    cols = "wk, d0, d1, d2, d3, d4, d5, d6, ab"
    if weeks:
        rows = ", ".join("(" + ", ".join(["%s"] * 9) + ")" for _ in weeks)
        parts.append(f"cal ({cols}) AS (VALUES {rows})")
        for days in weeks:
            params += [days[0], *days, adult_born_by(days[0])]
    else:
        parts.append(f"cal ({cols}) AS (SELECT {', '.join(['%s'] * 9)} WHERE 1 = 0)")
        params += [start] * 9
    on_days = " + ".join(
        f"MAX(CASE WHEN {enrolled_during_sql('enr', f'cal.d{n}')} THEN 1 ELSE 0 END)"
        for n in range(7)
    )
    # Whole weeks without a row per client-week. A client is in one group at a time
    # (a step-down ends one enrollment the day the next begins), so a week lies wholly
    # inside one enrollment, at its floor, or it contains the first or the last day of
    # one of them. The first kind are consecutive: one ``span`` row per enrollment (its
    # first and last such week, how many). The second kind (``edge``: a couple per
    # enrollment) are looked at day by day across the client's enrollments (``cover``),
    # with the lower floor in a step-down week; those enrolled all seven days are
    # ``wmulti``. ``whole`` spells every whole week out, for the trend only. A client
    # who turns 18 on the track has two spans on it, adolescent weeks then adult ones.
    adolescent = "enr.fla IS NOT NULL AND enr.dob > cal.ab"
    floor = f"CASE WHEN {adolescent} THEN enr.fla ELSE enr.fl END"
    inside = f"{enrolled_during_sql('enr', 'cal.d0')} AND {enrolled_during_sql('enr', 'cal.d6')}"
    parts.append(
        "span AS (SELECT enr.client_id AS c, MIN(cal.wk) AS w0, MAX(cal.wk) AS w1, "
        f"COUNT(*) AS n, MIN({floor}) AS fl FROM enr JOIN cal ON {inside} GROUP BY enr.id, "
        f"enr.client_id, CASE WHEN {adolescent} THEN 1 ELSE 0 END)"
    )
    parts.append(
        "edge AS (SELECT DISTINCT enr.client_id AS c, cal.wk AS wk FROM enr "
        f"JOIN cal ON {enrolled_during_sql('enr', 'cal.d0', 'cal.d6')} AND NOT ({inside}))"
    )
    parts.append(
        f"cover AS (SELECT edge.c, edge.wk, MIN({floor}) AS fl, "
        f"{on_days} AS days FROM edge JOIN cal ON cal.wk = edge.wk "
        f"JOIN enr ON enr.client_id = edge.c AND {enrolled_during_sql('enr', 'cal.d0', 'cal.d6')} "
        "GROUP BY edge.c, edge.wk)"
    )
    parts.append("wmulti AS (SELECT c, wk, fl FROM cover WHERE days = 7)")
    parts.append(
        "whole AS (SELECT span.c, cal.wk, span.fl FROM span "
        "JOIN cal ON cal.wk >= span.w0 AND cal.wk <= span.w1 "
        "UNION ALL SELECT c, wk, fl FROM wmulti)"
    )
    if daily:
        parts.append(
            "daily AS (SELECT c, wk, d, r, SUM(am) AS m, MAX(pq) AS p FROM att "
            "WHERE am IS NOT NULL GROUP BY c, wk, d, r)"
        )
    # One aggregation of the large table, per client and week: the attended minutes of
    # each ISO weekday side by side (NULL on a day with no attended session, as ``daily``
    # has no row for it), and the session figures of the days in the range.
    # FILTER, not SUM(CASE ...): one transition per matching row instead of one per row
    # and column (SQLite has it since 3.30); counts cast to INTEGER so that their sums
    # per client stay BIGINT on PostgreSQL, not NUMERIC.
    weekday_minutes = "".join(f"SUM(am) FILTER (WHERE dw = {n}) AS m{n}, " for n in range(1, 8))
    if per_program_day:  # each weekday: 1 when a qualifying program's session was attended
        weekday_minutes += "".join(
            f"MAX(pq) FILTER (WHERE dw = {n}) AS p{n}, " for n in range(1, 8)
        )
    statuses = (
        AttendanceStatus.LATE,
        AttendanceStatus.LEFT_EARLY,
        AttendanceStatus.TELEHEALTH,
        AttendanceStatus.EXCUSED,
        AttendanceStatus.UNEXCUSED,
    )
    parts.append(
        f"aw AS (SELECT c, wk, {weekday_minutes}SUM(am) AS m, "
        "CAST(COUNT(*) FILTER (WHERE r = 1) AS INTEGER) AS n_in, "
        "CAST(COUNT(am) FILTER (WHERE r = 1) AS INTEGER) AS attended, "
        "SUM(am) FILTER (WHERE r = 1) AS minutes, "
        + ", ".join(
            f"CAST(COUNT(*) FILTER (WHERE r = 1 AND st = %s) AS INTEGER) AS {status}"
            for status in statuses
        )
        + " FROM att GROUP BY c, wk)"
    )
    params += [str(status) for status in statuses]
    day_minutes = rule.day_minutes
    # A qualifying day counts toward ``qd_in`` (and a program day toward ``pd_in``) only
    # when it lies in the range: only the week the range starts in and the week it ends
    # in can be cut.
    qualifying, qualifying_in, program_in, program_params = [], [], [], []
    for n in range(1, 8):
        qualifying.append(f"CASE WHEN m{n} >= %s THEN 1 ELSE 0 END")
        params.append(day_minutes)
    for n in range(1, 8):
        cut = []
        if n < start.isoweekday():
            cut.append("wk = %s")
            params.append(week_start(start))
        if n > end.isoweekday():
            cut.append("wk = %s")
            params.append(week_start(end))
        outside = f" AND NOT ({' OR '.join(cut)})" if cut else ""
        qualifying_in.append(f"CASE WHEN m{n} >= %s{outside} THEN 1 ELSE 0 END")
        params.insert(len(params) - len(cut), day_minutes)
        program_in.append(f"CASE WHEN p{n} = 1{outside} THEN 1 ELSE 0 END")
        program_params += params[len(params) - len(cut) :]
    program_days = "0"
    if per_program_day:
        program_days = " + ".join(program_in)
        params += program_params
    parts.append(
        f"weekly AS (SELECT c, wk, m, n_in, attended, minutes, {', '.join(statuses)}, "
        f"{' + '.join(qualifying)} AS qd, {' + '.join(qualifying_in)} AS qd_in, "
        f"{program_days} AS pd_in FROM aw)"
    )
    return "WITH " + ",\n".join(parts), params, rule


# A year of attendance aggregated per client-week is ~160,000 groups: at the default
# 4 MB of work_mem the hash aggregate spills to disk and the planner sorts instead; JIT
# compiles for longer than the query runs; a merge join makes it sort the client-weeks
# (it did, to join them with the spans). Set for the report's own transaction only,
# in the same round trip as the query (psycopg returns the last statement's rows).
PG_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; SET LOCAL enable_mergejoin = off; "


def _fetch(sql, params):
    # savepoint=False: inside a caller's transaction (a request, a test) no savepoint
    # round trips; the settings then last until that transaction ends.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = PG_SETTINGS + sql
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _hours(minutes) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(Decimal("0.01"))


def _decimal(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


# --- Attendance ------------------------------------------------------------------------


def attendance_rows(user, f, progress=None) -> list[dict]:
    """One row per client: the figures of ATTENDANCE_COLUMNS (and names for the page)."""
    ctes, params, rule = _ctes(user, f)
    if rule.h0015 == H0015Rule.PROGRAM_DAY:
        billable, billable_params = "SUM(pd_in)", []
    else:
        billable, billable_params = "SUM(CASE WHEN qd >= %s THEN qd_in ELSE 0 END)", [rule.min_days]
    # ``weekly`` (and so ``aw``, the one aggregation of the attendance) is read once:
    # everything per client is summed in that one pass (PostgreSQL inlines it into
    # ``per``). A whole week is below its floor when COALESCE(m, 0) < floor: counted
    # over the whole weeks as if none had attendance (``zero_below``, from one ``span``
    # row per client), then corrected on the weeks that have (``adj``), so that the
    # client-weeks meet the whole weeks in a hash join on the client alone.
    sql = f"""{ctes},
    per AS (
        SELECT weekly.c, SUM(n_in) AS n_in, SUM(attended) AS attended, SUM(late) AS late,
            SUM(left_early) AS left_early, SUM(telehealth) AS telehealth,
            SUM(excused) AS excused, SUM(unexcused) AS unexcused, SUM(minutes) AS minutes,
            SUM(qd_in) AS days3, {billable} AS billable,
            SUM(CASE WHEN span.c IS NULL AND wmulti.c IS NULL THEN 0
                ELSE (CASE WHEN COALESCE(weekly.m, 0) < COALESCE(span.fl, wmulti.fl) * 60
                    THEN 1 ELSE 0 END)
                    - (CASE WHEN 0 < COALESCE(span.fl, wmulti.fl) * 60 THEN 1 ELSE 0 END)
                END) AS adj
        FROM weekly
        LEFT JOIN span ON span.c = weekly.c AND weekly.wk >= span.w0 AND weekly.wk <= span.w1
        LEFT JOIN wmulti ON wmulti.c = weekly.c AND wmulti.wk = weekly.wk
        GROUP BY weekly.c),
    floors AS (
        SELECT c, SUM(n) AS weeks, SUM(n * fl) AS required,
            SUM(CASE WHEN 0 < fl * 60 THEN n ELSE 0 END) AS zero_below
        FROM (SELECT c, n, fl FROM span UNION ALL SELECT c, 1, fl FROM wmulti) x GROUP BY c),
    sn AS (SELECT c, COUNT(*) AS scheduled FROM sched GROUP BY c),
    ids AS (SELECT client_id AS c FROM enr UNION SELECT c FROM per WHERE n_in > 0),
    last_track AS (
        SELECT client_id AS c, tc, tn,
            ROW_NUMBER() OVER (PARTITION BY client_id ORDER BY start_on DESC) AS n
        FROM enr)
    SELECT cl.id, cl.public_id, cl.mrn, cl.legal_first_name, cl.preferred_name,
        cl.legal_last_name,
        last_track.tc AS track, last_track.tn AS track_name,
        COALESCE(sn.scheduled, 0) AS scheduled, COALESCE(per.attended, 0) AS attended,
        COALESCE(per.late, 0) AS late, COALESCE(per.left_early, 0) AS left_early,
        COALESCE(per.telehealth, 0) AS telehealth, COALESCE(per.excused, 0) AS excused,
        COALESCE(per.unexcused, 0) AS unexcused, COALESCE(per.minutes, 0) AS minutes,
        COALESCE(floors.weeks, 0) AS weeks, COALESCE(floors.required, 0) AS required,
        COALESCE(floors.zero_below, 0) + COALESCE(per.adj, 0) AS below,
        COALESCE(per.days3, 0) AS days3, COALESCE(per.billable, 0) AS billable
    FROM ids JOIN clients_client cl ON cl.id = ids.c
    LEFT JOIN sn ON sn.c = cl.id LEFT JOIN per ON per.c = cl.id
    LEFT JOIN floors ON floors.c = cl.id
    LEFT JOIN last_track ON last_track.c = cl.id AND last_track.n = 1
    ORDER BY cl.mrn"""
    params += billable_params
    raw = _fetch(sql, params)
    if progress:
        progress(50)
    return [
        {
            "public_id": r["public_id"],
            "name": f"{r['preferred_name'] or r['legal_first_name']} {r['legal_last_name']}",
            "mrn": r["mrn"],
            # The page and the CSV say the track's name; its code stays for programs.
            "track": r["track_name"] or "",
            "track_code": r["track"] or "",
            "sessions_scheduled": int(r["scheduled"]),
            "sessions_attended": int(r["attended"]),
            "sessions_late": int(r["late"]),
            "sessions_left_early": int(r["left_early"]),
            "sessions_telehealth": int(r["telehealth"]),
            "sessions_excused": int(r["excused"]),
            "sessions_unexcused": int(r["unexcused"]),
            "attendance_rate": percent(int(r["attended"]), int(r["scheduled"])),
            "hours_attended": _hours(r["minutes"]),
            "hours_required": _decimal(r["required"]),
            "weeks_enrolled": int(r["weeks"]),
            "weeks_below_floor": int(r["below"]),
            "days_3h": int(r["days3"]),
            "billable_days": int(r["billable"]),
        }
        for r in raw
    ]


def attendance_totals(user, f) -> dict:
    """Session figures per group, then per slot and per track (sums of the groups: a
    group has one slot and one track)."""
    ctes, params, _ = _ctes(user, f)
    attended = ", ".join(["%s"] * len(ATTENDED))
    sql = f"""{ctes}
    SELECT g, sl, tr, COUNT(*) AS clients, SUM(s) AS scheduled, SUM(a) AS attended,
        SUM(ex) AS excused, SUM(un) AS unexcused, SUM(mins) AS minutes
    FROM (
        SELECT g, sl, tr, c, SUM(s) AS s, SUM(a) AS a, SUM(ex) AS ex, SUM(un) AS un,
            SUM(mins) AS mins
        FROM (
            SELECT c, g, sl, tr, 1 AS s, 0 AS a, 0 AS ex, 0 AS un, 0 AS mins FROM sched
            UNION ALL
            SELECT c, g, sl, tr, 0, CASE WHEN st IN ({attended}) THEN 1 ELSE 0 END,
                CASE WHEN st = %s THEN 1 ELSE 0 END, CASE WHEN st = %s THEN 1 ELSE 0 END,
                CASE WHEN st IN ({attended}) THEN m ELSE 0 END
            FROM att WHERE r = 1
        ) x GROUP BY g, sl, tr, c
    ) per_client GROUP BY g, sl, tr"""
    params += [
        *[str(s) for s in ATTENDED],
        str(AttendanceStatus.EXCUSED),
        str(AttendanceStatus.UNEXCUSED),
        *[str(s) for s in ATTENDED],
    ]
    raw = _fetch(sql, params)
    groups = {g.pk: g for g in Group.objects.filter(pk__in=[r["g"] for r in raw])}
    slots = {s.pk: s for s in Slot.objects.all()}
    tracks = {t.pk: t for t in Track.objects.all()}

    def figures(label, rows):
        scheduled = sum(int(r["scheduled"]) for r in rows)
        attended_n = sum(int(r["attended"]) for r in rows)
        return {
            "label": label,
            "sessions_scheduled": scheduled,
            "sessions_attended": attended_n,
            "sessions_excused": sum(int(r["excused"]) for r in rows),
            "sessions_unexcused": sum(int(r["unexcused"]) for r in rows),
            "attendance_rate": percent(attended_n, scheduled),
            "hours_attended": _hours(sum(int(r["minutes"]) for r in rows)),
        }

    by = {"group": defaultdict(list), "slot": defaultdict(list), "track": defaultdict(list)}
    for r in raw:
        by["group"][r["g"]].append(r)
        by["slot"][r["sl"]].append(r)
        by["track"][r["tr"]].append(r)
    return {
        "groups": [figures(str(groups[k]), v) for k, v in sorted(by["group"].items())],
        "slots": [figures(str(slots[k].name), v) for k, v in sorted(by["slot"].items())],
        "tracks": [figures(str(tracks[k]), v) for k, v in sorted(by["track"].items())],
    }


def attendance_weeks(user, f) -> dict:
    """The weekly trend: mean hours attended by clients enrolled the whole week against
    their mean floor, and the attendance rate per slot."""
    ctes, params, _ = _ctes(user, f)
    attended = ", ".join(["%s"] * len(ATTENDED))
    sql = f"""{ctes}
    SELECT 'floor' AS kind, whole.wk AS wk, NULL AS sl, COUNT(*) AS n,
        SUM(COALESCE(weekly.m, 0)) AS a, SUM(whole.fl) AS b,
        SUM(CASE WHEN COALESCE(weekly.m, 0) < whole.fl * 60 THEN 1 ELSE 0 END) AS below
    FROM whole LEFT JOIN weekly ON weekly.c = whole.c AND weekly.wk = whole.wk
    GROUP BY whole.wk
    UNION ALL
    SELECT 'slot', wk, sl, 0, SUM(a), SUM(s), 0 FROM (
        SELECT wk, sl, 1 AS s, 0 AS a FROM sched
        UNION ALL
        SELECT wk, sl, 0, CASE WHEN st IN ({attended}) THEN 1 ELSE 0 END FROM att WHERE r = 1
    ) x GROUP BY wk, sl"""
    params += [str(s) for s in ATTENDED]
    raw = _fetch(sql, params)
    slots = {s.pk: s for s in Slot.objects.all()}
    weeks = []
    for r in sorted((r for r in raw if r["kind"] == "floor"), key=lambda r: str(r["wk"])):
        n = int(r["n"])
        weeks.append(
            {
                "week": as_date(r["wk"]),
                "clients": n,
                "hours": (Decimal(int(r["a"])) / 60 / n).quantize(Decimal("0.1")),
                "floor": (Decimal(str(r["b"])) / n).quantize(Decimal("0.1")),
                "below": int(r["below"]),
            }
        )
    slot_weeks = defaultdict(dict)
    for r in raw:
        if r["kind"] == "slot" and int(r["b"]):
            slot_weeks[r["sl"]][as_date(r["wk"])] = percent(int(r["a"]), int(r["b"]))
    slot_rows = [
        {"slot": slots[pk].name, "rates": sorted(rates.items())}
        for pk, rates in sorted(slot_weeks.items())
    ]
    hours_chart = trend(
        [
            Series("hours", "Mean hours attended", [(w["week"], w["hours"]) for w in weeks]),
            Series("floor", "Mean floor", [(w["week"], w["floor"]) for w in weeks]),
        ],
        max_value=max([20, *[int(w["hours"]) + 1 for w in weeks]]),
        thresholds=(9,),
    )
    rate_chart = trend(
        [Series(s["slot"], s["slot"], s["rates"]) for s in slot_rows][:3],
        max_value=100,
        thresholds=(80,),
    )
    return {
        "weeks": weeks,
        "slot_rates": slot_rows,
        "hours_chart": hours_chart,
        "rate_chart": rate_chart,
    }


def run_attendance(*, user, filters, progress=None, page=False) -> dict:
    rows = attendance_rows(user, filters, progress)
    result = {"rows": rows, "filters": filters}
    if progress is None or page:  # the page shows totals and the trend; a CSV alone does not
        result["totals"] = attendance_totals(user, filters)
        result.update(attendance_weeks(user, filters))
    return result


# --- Billable days ---------------------------------------------------------------------


def billable_day_tuples(user, f) -> list[tuple]:
    """Per client per day attended in the range, as tuples in BILLABLE_COLUMNS' order:
    the CSV's rows. A year program-wide is 390,000 of them, so no dict per row and each
    date and hour figure formatted once per distinct value (a few hundred), not per row."""
    ctes, params, rule = _ctes(user, f, daily=True)
    day_minutes, min_days = rule.day_minutes, rule.min_days
    per_program_day = rule.h0015 == H0015Rule.PROGRAM_DAY
    # The qualifying days of each day's week counted over ``daily`` itself (a window
    # per client and week), not by joining ``weekly``: that would aggregate the year's
    # attendance a second time, per client-week, for a figure the days already hold.
    # (``weekly`` and the other CTEs stay declared for their parameters; unread, they
    # are never computed.)
    sql = f"""{ctes}
    SELECT cl.mrn, x.d, x.m, x.qd, x.p
    FROM (SELECT c, d, r, m, p,
            SUM(CASE WHEN m >= %s THEN 1 ELSE 0 END) OVER (PARTITION BY c, wk) AS qd
        FROM daily) x
    JOIN clients_client cl ON cl.id = x.c
    WHERE x.r = 1 ORDER BY cl.mrn, x.d"""
    params = [*params, day_minutes]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = PG_SETTINGS + sql
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    days, hours = {}, {}
    rows = []
    append = rows.append
    for mrn, d, m, qd, p in fetched:
        day = days.get(d)
        if day is None:
            day = days[d] = as_date(d).isoformat()
        m, qd = int(m), int(qd)
        hour = hours.get(m)
        if hour is None:
            hour = hours[m] = _hours(m)
        meets = m >= day_minutes
        program = p == 1
        billable = program if per_program_day else meets and qd >= min_days
        append(
            (
                mrn,
                day,
                hour,
                "yes" if meets else "no",
                qd,
                "yes" if program else "no",
                "yes" if billable else "no",
                rule.h0015.value,
            )
        )
    return rows


def billable_days(*, start, end, rule: BillingRule) -> list[tuple]:
    """Program-wide, per client per day attended in [start, end]: ``(client_id, date,
    minutes, billable, telehealth)`` under ``rule`` (a payer's, scheduling.billing), for
    the charges of issue 22 (billing.services.charges). The same sub-queries as the
    billable-days report (``_ctes``), so a day is billable here exactly when the report
    says so; ``telehealth`` is true when every session the client attended that day was
    attended by telehealth (AttendanceStatus.TELEHEALTH)."""
    ctes, params, rule = _ctes(None, {"start": start, "end": end, "rule": rule})
    sql = f"""{ctes},
    dd AS (SELECT c, wk, d, r, SUM(am) AS m, MAX(pq) AS p,
            MIN(CASE WHEN st = %s THEN 1 ELSE 0 END) AS tele
        FROM att WHERE am IS NOT NULL GROUP BY c, wk, d, r)
    SELECT c, d, m, p, tele, SUM(CASE WHEN m >= %s THEN 1 ELSE 0 END) OVER (PARTITION BY c, wk)
    FROM dd WHERE r = 1"""
    params = [*params, str(AttendanceStatus.TELEHEALTH), rule.day_minutes]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = PG_SETTINGS + sql
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    per_program_day = rule.h0015 == H0015Rule.PROGRAM_DAY
    day_minutes, min_days = rule.day_minutes, rule.min_days
    days = {}
    rows = []
    for c, d, m, p, tele, qd in fetched:
        day = days.get(d)
        if day is None:
            day = days[d] = as_date(d)
        m = int(m)
        billable = p == 1 if per_program_day else m >= day_minutes and int(qd) >= min_days
        rows.append((c, day, m, billable, tele == 1))
    return rows


def billable_day_rows(user, f, progress=None) -> list[dict]:
    """The same rows as dicts keyed by BILLABLE_COLUMNS (the page's table)."""
    return [dict(zip(BILLABLE_COLUMNS, row, strict=True)) for row in billable_day_tuples(user, f)]


def run_billable(*, user, filters, progress=None, page=False) -> dict:
    """The page (``progress`` None, at most ``inline_days``) gets dicts for its table;
    a background run (the CSV of a long range) gets the tuples, which the CSV writer
    takes as they are, and its page the first ``PAGE_ROWS`` as dicts."""
    rows = billable_day_tuples(user, filters)
    if progress is not None:
        progress(50)
    rule = billing_rule(filters.get("payer") or "default")
    billable_total = sum(1 for row in rows if row[BILLABLE] == "yes")
    if progress is None:
        rows = [dict(zip(BILLABLE_COLUMNS, row, strict=True)) for row in rows]
    # The page's table stops at PAGE_ROWS (two months program-wide is 65,000 client-days:
    # seconds of HTML nobody reads); the total above it and the CSV count every one.
    visible = rows[:PAGE_ROWS]
    if visible and not isinstance(visible[0], dict):
        visible = [dict(zip(BILLABLE_COLUMNS, row, strict=True)) for row in visible]
    return {
        "rows": rows,
        "visible_rows": visible,
        "row_count": len(rows),
        "shown": min(len(rows), PAGE_ROWS),
        "rule": rule,
        # The rule in words and by code, as plain strings (a page is read back as text).
        "h0015": rule.h0015.value,
        "h0015_label": rule.h0015.label,
        "billable_total": billable_total,
    }


def _billable_clients(result):
    """The MRN of each client-day row (the audit hands every row over by column name)."""
    return (row["mrn"] for row in result["rows"])


def register():
    from iop.reports.registry import Report
    from iop.reports.registry import register as register_report

    register_report(
        Report(
            key="attendance",
            title="Attendance against the hours floor",
            roles=REPORT_ROLES,
            form=AttendanceReportForm,
            runner=run_attendance,
            template="scheduling/reports/attendance.html",
            csv_columns=ATTENDANCE_COLUMNS,
            csv_labels=ATTENDANCE_LABELS,
            description="Sessions, hours and weeks below the ASAM floor per client; "
            "totals per group, slot and track; the weekly trend.",
            clients=lambda result: (row["mrn"] for row in result["rows"]),
        )
    )
    register_report(
        Report(
            key="billable-days",
            title="Billable days (H0015 per diem)",
            roles=(Role.ADMIN,),
            form=BillableReportForm,
            runner=run_billable,
            template="scheduling/reports/billable.html",
            csv_columns=BILLABLE_COLUMNS,
            csv_labels=BILLABLE_LABELS,
            page_omits=("rows",),  # the page reads its first rows and their count
            description="Per client per day: hours attended and whether the day is billable.",
            inline_days=62,
            clients=_billable_clients,
        )
    )
