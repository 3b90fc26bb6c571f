"""Census and outcomes, and documentation compliance: read-only, computed in the database.

Census and outcomes (admins, program-wide). Three cohorts, each stated once here:

- *admitted*: episodes admitted in the range. Retention and completion by the track and
  slot they started in (the episode's first enrollment) and by the client's referral
  profession: ``left_early`` = discharged by the range's end for any reason but
  ``completed``; retention = (admitted - left early) / admitted; completion =
  completed / discharged. Admissions by month.
- *discharged*: episodes discharged in the range. Discharges by month; discharge reasons
  with length of stay (days from admission to discharge: median and range); completion
  rate; the step-down rate from a track to the one it ``steps_down_to`` (IOP 6 to IOP 3):
  of the stays that were on the first, how many later had an enrollment on the second;
  PHQ-9 and GAD-7 at admission (first administration on or after admission) against
  discharge (last on or before discharge), over the stays with two or more
  administrations in that window.
- *active on a date* (``on``, the range's end by default): enrollments that day
  (``Enrollment.objects.on``, the chart's rule) by track and slot.

Documentation compliance (admins program-wide, supervisors their team: the clinicians
whose ``clinical_supervisor`` they are). Notes of sessions and appointments that ended in
the range, per author: signed within 24 h and within 72 h of the end (of all such notes,
so an unsigned note counts against both), unsigned, co-signatures waiting, signed over a
copied-text warning (acknowledged at signing, ``clinical/notes/checks.py``); and the
treatment plans in force whose review is overdue today, of the clients the viewer reaches
(``clients_for``).

Every figure is an aggregate query whose count does not depend on clients, episodes,
notes or measures; Python only rolls up the aggregated rows (a handful per group).
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from clients.access import Purpose, clients_for
from clients.links import chart_url_maker
from clients.models import CareTeamMember, DischargeReason, Episode, Profession
from clinical.meds.models import Instrument, Measure
from clinical.notes.checks import COPIED_KINDS
from clinical.notes.models import CosignStatus, NoteStatus, SignWarning
from clinical.notes.selectors import appointments_kept, sessions_that_met
from clinical.plans.models import TreatmentPlanVersion, review_days
from iop.accounts.models import Role
from iop.charts import Series, trend
from iop.dates import DateKind, PlausibleDateField
from iop.numbers import percent
from iop.reports.forms import MAX_RANGE_DAYS, ReportForm
from iop.reports.values import as_date
from scheduling.models import Enrollment, Group, Slot, Track, clinic_tz

CENSUS_COLUMNS = ("figure", "group", "measure", "value")
DOCUMENTATION_COLUMNS = (
    "clinician",
    "sessions_held",
    "signed",
    "signed_on_time",
    "signed_late",
    "missing",
    "missing_draft",
    "missing_no_note",
    "signed_24h",
    "pct_24h",
    "signed_72h",
    "pct_72h",
    "cosign_waiting",
    "signed_copied_text",
)
DOCUMENTATION_LABELS = {
    "clinician": "Clinician (username)",
    "sessions_held": "Sessions held",
    "signed": "Signed",
    "signed_on_time": "Signed on time",
    "signed_late": "Signed late",
    "missing": "Missing",
    "missing_draft": "Missing: drafts",
    "missing_no_note": "Missing: no note",
    "signed_24h": "Signed within 24 h",
    "pct_24h": "% within 24 h",
    "signed_72h": "Signed within 72 h",
    "pct_72h": "% within 72 h",
    "cosign_waiting": "Co-signatures waiting",
    "signed_copied_text": "Signed over a copied-text warning",
}
# The two windows the issue names; IOP_LATE_ENTRY_HOURS (72 by default) marks a
# late entry on the note itself, the report shows both windows whatever it is set to.
SIGN_WINDOWS_HOURS = (24, 72)
PHQ_GAD = (Instrument.PHQ9, Instrument.GAD7)
NO_GROUP = "none"
NO_GROUP_LABEL = "No enrollment"


def _one_place(value):
    if value is None:
        return ""
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


# --- Census and outcomes ---------------------------------------------------------------


class CensusReportForm(ReportForm):
    on = PlausibleDateField(
        kind=DateKind.VIEW,
        label="Active on",
        required=False,
        help_text="The day the active census counts (the range's end if blank).",
    )
    profession = forms.ChoiceField(
        choices=[("", "Any profession"), *Profession.choices],
        required=False,
        label="Referral profession",
    )


def _census_scope(user, f):
    clients = clients_for(user, Purpose.CLINICAL)
    if f.get("profession"):
        clients = clients.filter(profession=f["profession"])
    return clients.values("pk")


def _fetchall(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _first_enrollments_sql() -> str:
    """Each episode's first enrollment (by start, then id) with its track and slot code:
    one pass over the episodes' enrollments numbered per episode, joined by hash, not a
    sub-query per episode (3,700 of them over a year cost 260 ms at 5,000 clients)."""
    return f"""SELECT en.episode_id AS e, t.code AS tr, sl.code AS sl, t.name AS trn,
            sl.name AS sln,
            ROW_NUMBER() OVER (PARTITION BY en.episode_id ORDER BY en.start_on, en.id) AS n
        FROM {Enrollment._meta.db_table} en
        JOIN {Track._meta.db_table} t ON t.id = en.track_id
        JOIN {Group._meta.db_table} g ON g.id = en.group_id
        JOIN {Slot._meta.db_table} sl ON sl.id = g.slot_id
        WHERE en.episode_id IN (SELECT id FROM ep)"""


def census_retention(scope, f) -> list[dict]:
    """One aggregate row per (start track, start slot, profession) of the admitted."""
    end = f["end"]
    cohort = Episode.objects.filter(
        client__in=scope, admitted_on__gte=f["start"], admitted_on__lte=end
    ).values("id", "discharged_on", "discharge_reason", prof=F("client__profession"))
    sql, params = cohort.order_by().query.sql_with_params()
    discharged = "ep.discharged_on IS NOT NULL AND ep.discharged_on <= %s"
    query = f"""WITH ep AS ({sql}), first AS ({_first_enrollments_sql()})
    SELECT first.tr, first.sl, ep.prof, first.trn, first.sln, COUNT(*) AS admitted,
        COUNT(*) FILTER (WHERE {discharged}) AS discharged,
        COUNT(*) FILTER (WHERE {discharged} AND ep.discharge_reason = %s) AS completed
    FROM ep LEFT JOIN first ON first.e = ep.id AND first.n = 1
    GROUP BY first.tr, first.sl, ep.prof, first.trn, first.sln
    ORDER BY first.tr, first.sl, ep.prof"""
    rows = _fetchall(query, [*params, end, end, str(DischargeReason.COMPLETED)])
    professions = dict(Profession.choices)
    return [
        {
            "track": tr or NO_GROUP,
            "slot": sl or NO_GROUP,
            "profession": prof,
            # What the page and the CSV say: names, not codes.
            "labels": {
                "track": trn or NO_GROUP_LABEL,
                "slot": sln or NO_GROUP_LABEL,
                "profession": professions.get(prof, prof or "Not recorded"),
            },
            "admitted": admitted,
            "discharged": discharged_n,
            "completed": completed,
        }
        for tr, sl, prof, trn, sln, admitted, discharged_n, completed in rows
    ]


def _retention_figures(rows: list[dict]) -> dict:
    admitted = sum(r["admitted"] for r in rows)
    discharged = sum(r["discharged"] for r in rows)
    completed = sum(r["completed"] for r in rows)
    left_early = discharged - completed
    return {
        "admitted": admitted,
        "discharged": discharged,
        "completed": completed,
        "left_early": left_early,
        "retention_pct": percent(admitted - left_early, admitted),
        "completion_pct": percent(completed, discharged),
    }


def _roll_up(rows: list[dict], *keys: str) -> list[dict]:
    """Sum the aggregated rows by ``keys`` (a few rows, never one per client)."""
    by = defaultdict(list)
    for r in rows:
        by[tuple(r[k] for k in keys)].append(r)
    return [
        {
            "key": "/".join(k),
            "parts": k,
            "label": " · ".join(v[0]["labels"][name] for name in keys),
            **_retention_figures(v),
        }
        for k, v in sorted(by.items())
    ]


def census_active(scope, day: date) -> list[dict]:
    rows = (
        Enrollment.objects.on(day)
        .filter(client__in=scope)
        .values(
            tr=F("track__code"),
            sl=F("group__slot__code"),
            trn=F("track__name"),
            sln=F("group__slot__name"),
        )
        .annotate(clients=Count("client", distinct=True))
        .order_by("tr", "sl")
    )
    return [
        {
            "key": f"{r['tr']}/{r['sl']}",
            "label": f"{r['trn']} · {r['sln']}",
            "clients": r["clients"],
        }
        for r in rows
    ]


def census_by_month(scope, f) -> list[dict]:
    """Admissions and discharges per calendar month of the range (zeros included)."""
    admitted = (
        Episode.objects.filter(
            client__in=scope, admitted_on__gte=f["start"], admitted_on__lte=f["end"]
        )
        .annotate(m=TruncMonth("admitted_on"))
        .values("m")
        .annotate(n=Count("pk"), kind=Value("a"))
        .values_list("m", "n", "kind")
        .order_by()
    )
    discharged = (
        Episode.objects.filter(
            client__in=scope, discharged_on__gte=f["start"], discharged_on__lte=f["end"]
        )
        .annotate(m=TruncMonth("discharged_on"))
        .values("m")
        .annotate(n=Count("pk"), kind=Value("d"))
        .values_list("m", "n", "kind")
        .order_by()
    )
    # One round trip for both (UNION ALL): the census is a handful of small queries,
    # where each round trip is a visible share of the page.
    counts = {"a": {}, "d": {}}
    for m, n, kind in admitted.union(discharged, all=True):
        counts[kind][as_date(m)] = n
    ins, outs = counts["a"], counts["d"]
    return [
        {"month": m, "key": f"{m:%Y-%m}", "admissions": ins.get(m, 0), "discharges": outs.get(m, 0)}
        for m in _months(f["start"], f["end"])
    ]


def _discharged(scope, f):
    return Episode.objects.filter(
        client__in=scope, discharged_on__gte=f["start"], discharged_on__lte=f["end"]
    )


def _los_sql() -> str:
    if connection.vendor == "postgresql":
        return "(d - a)"
    return "CAST(julianday(d) - julianday(a) AS INTEGER)"


def length_of_stay(scope, f, *, percentile: bool | None = None) -> list[dict]:
    """Per discharge reason: stays, and length of stay in days (median, min, max).

    One query. PostgreSQL's ``percentile_cont`` gives the median; elsewhere (SQLite)
    the same query numbers the stays of each reason with window functions and averages
    the middle one or two, so no client's row comes back to Python either way."""
    if percentile is None:
        percentile = connection.vendor == "postgresql"
    cohort = _discharged(scope, f).values(
        reason=F("discharge_reason"), a=F("admitted_on"), d=F("discharged_on")
    )
    sql, params = cohort.query.sql_with_params()
    los = _los_sql()
    if percentile:
        query = f"""WITH s AS ({sql})
        SELECT reason, COUNT(*) AS n,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {los}) AS median,
            MIN({los}) AS low, MAX({los}) AS high
        FROM s GROUP BY reason"""
    else:
        query = f"""WITH s AS ({sql}),
        l AS (SELECT reason, {los} AS los,
            ROW_NUMBER() OVER (PARTITION BY reason ORDER BY {los}) AS rn,
            COUNT(*) OVER (PARTITION BY reason) AS cnt FROM s)
        SELECT reason, MAX(cnt) AS n,
            AVG(CASE WHEN rn IN ((cnt + 1) / 2, (cnt + 2) / 2) THEN los * 1.0 END) AS median,
            MIN(los) AS low, MAX(los) AS high
        FROM l GROUP BY reason"""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        raw = cursor.fetchall()
    labels = dict(DischargeReason.choices)
    order = list(labels)
    rows = [
        {
            "key": reason or "unrecorded",
            "label": labels.get(reason, "Not recorded"),
            "stays": int(n),
            "median_days": _one_place(median),
            "min_days": int(low),
            "max_days": int(high),
        }
        for reason, n, median, low, high in raw
    ]
    return sorted(rows, key=lambda r: order.index(r["key"]) if r["key"] in order else 99)


def step_down_rates(scope, f) -> list[dict]:
    """Of the discharged stays on a track that steps down, how many stepped down."""
    later = Enrollment.objects.filter(
        episode=OuterRef("episode"),
        track=OuterRef("track__steps_down_to"),
        start_on__gte=OuterRef("start_on"),
    )
    rows = (
        Enrollment.objects.filter(
            episode__in=_discharged(scope, f), track__steps_down_to__isnull=False
        )
        .annotate(stepped=Exists(later))
        .values(
            fr=F("track__code"),
            to=F("track__steps_down_to__code"),
            frn=F("track__name"),
            ton=F("track__steps_down_to__name"),
        )
        .annotate(
            stays=Count("episode", distinct=True),
            stepped_down=Count("episode", distinct=True, filter=Q(stepped=True)),
        )
        .order_by("fr")
    )
    return [
        {
            "key": f"{r['fr']}->{r['to']}",
            "label": f"{r['frn']} → {r['ton']}",
            "stays": r["stays"],
            "stepped_down": r["stepped_down"],
            "rate_pct": percent(r["stepped_down"], r["stays"]),
        }
        for r in rows
    ]


def measure_change(scope, f) -> list[dict]:
    """PHQ-9 and GAD-7: admission (first on/after admission) against discharge (last
    on/before discharge), over discharged stays with two or more administrations.

    One pass over the stays' scored measures, numbered in each stay's window (the
    first is 1, the last is the count), then one aggregation; not six sub-queries per
    stay (2,200 stays a year took 430 ms, half of it compiling the plan with JIT)."""
    cohort = (
        _discharged(scope, f).order_by().values("id", "client_id", "admitted_on", "discharged_on")
    )
    sql, params = cohort.query.sql_with_params()
    codes = ", ".join(["%s"] * len(PHQ_GAD))
    window = "PARTITION BY ep.id, m.instrument"
    query = f"""WITH ep AS ({sql}),
    w AS (
        SELECT ep.id AS e, m.instrument AS i, m.score AS score,
            ROW_NUMBER() OVER ({window} ORDER BY m.administered_on, m.id) AS up,
            COUNT(*) OVER ({window}) AS n
        FROM ep JOIN {Measure._meta.db_table} m ON m.client_id = ep.client_id
            AND m.administered_on >= ep.admitted_on AND m.administered_on <= ep.discharged_on
        WHERE m.instrument IN ({codes}) AND m.score IS NOT NULL),
    stay AS (
        SELECT e, i, MAX(n) AS n, MAX(CASE WHEN up = 1 THEN score END) AS a,
            MAX(CASE WHEN up = n THEN score END) AS d
        FROM w GROUP BY e, i)
    SELECT i, COUNT(*), AVG(a), AVG(d), COUNT(*) FILTER (WHERE d < a)
    FROM stay WHERE n >= 2 GROUP BY i"""
    found = {
        i: (pairs, mean_a, mean_d, improved)
        for i, pairs, mean_a, mean_d, improved in _fetchall(
            query, [*params, *[str(code) for code in PHQ_GAD]]
        )
    }
    labels = dict(Instrument.choices)
    rows = []
    for code in PHQ_GAD:
        pairs, mean_a, mean_d, improved = found.get(str(code), (0, None, None, 0))
        # As the ORM's Avg answers: a float (PostgreSQL's AVG is a numeric).
        mean_a = None if mean_a is None else float(mean_a)
        mean_d = None if mean_d is None else float(mean_d)
        change = None if mean_a is None else Decimal(str(mean_d)) - Decimal(str(mean_a))
        rows.append(
            {
                "key": str(code),
                "label": labels[code],
                "pairs": pairs,
                "mean_admission": _one_place(mean_a),
                "mean_discharge": _one_place(mean_d),
                "mean_change": _one_place(change),
                "improved": improved,
            }
        )
    return rows


CENSUS_LABELS = {"figure": "Figure", "group": "Group", "measure": "Measure", "value": "Value"}
# The census CSV's words: each figure, and each measure as the page's column says it.
CENSUS_FIGURES = {
    "retention_by_track": "Retention by track",
    "retention_by_slot": "Retention by slot",
    "retention_by_profession": "Retention by referral profession",
    "retention_by_slot_profession": "Retention by slot and referral profession",
    "active_on": "Active on",
    "by_month": "Admissions and discharges by month",
    "discharge_reason": "Length of stay by discharge reason",
    "completion": "Completion",
    "step_down": "Step-down",
    "measure_change": "PHQ-9 and GAD-7 change",
}
CENSUS_MEASURES = {
    "admitted": "Admitted",
    "discharged": "Discharged",
    "completed": "Completed",
    "left_early": "Left early",
    "retention_pct": "Retention %",
    "completion_pct": "Completion %",
    "clients": "Clients",
    "admissions": "Admissions",
    "discharges": "Discharges",
    "stays": "Stays",
    "median_days": "Median days",
    "min_days": "Shortest (days)",
    "max_days": "Longest (days)",
    "stepped_down": "Stepped down",
    "rate_pct": "Rate %",
    "pairs": "Stays with two or more",
    "mean_admission": "Mean at admission",
    "mean_discharge": "Mean at discharge",
    "mean_change": "Mean change",
    "improved": "Improved",
}


def _census_rows(result: dict) -> list[dict]:
    """The page's tables as CSV rows (figure, group, measure, value), in page order,
    in the page's words."""
    rows = []

    def add(figure, group, measures: dict):
        for measure, value in measures.items():
            rows.append(
                {
                    "figure": CENSUS_FIGURES[figure],
                    "group": group,
                    "measure": CENSUS_MEASURES[measure],
                    "value": value,
                }
            )

    retention_measures = (
        "admitted",
        "discharged",
        "completed",
        "left_early",
        "retention_pct",
        "completion_pct",
    )
    for name in ("track", "slot", "profession", "slot_profession"):
        for r in result["retention"][name]:
            add(f"retention_by_{name}", r["label"], {m: r[m] for m in retention_measures})
    for r in result["active"]:
        add("active_on", f"{result['on'].isoformat()} {r['label']}", {"clients": r["clients"]})
    for r in result["months"]:
        add("by_month", r["key"], {"admissions": r["admissions"], "discharges": r["discharges"]})
    for r in result["length_of_stay"]:
        add(
            "discharge_reason",
            r["label"],
            {k: r[k] for k in ("stays", "median_days", "min_days", "max_days")},
        )
    add("completion", "All discharges", result["completion"])
    for r in result["step_down"]:
        add("step_down", r["label"], {k: r[k] for k in ("stays", "stepped_down", "rate_pct")})
    for r in result["measures"]:
        add(
            "measure_change",
            r["label"],
            {
                k: r[k]
                for k in ("pairs", "mean_admission", "mean_discharge", "mean_change", "improved")
            },
        )
    return rows


def run_census(*, user, filters, progress=None, page=False) -> dict:
    f = filters
    scope = _census_scope(user, f)
    on = f.get("on") or f["end"]
    base = census_retention(scope, f)
    retention = {
        "track": _roll_up(base, "track"),
        "slot": _roll_up(base, "slot"),
        "profession": _roll_up(base, "profession"),
        "slot_profession": _roll_up(base, "slot", "profession"),
    }
    if progress:
        progress(30)
    los = length_of_stay(scope, f)
    discharged = sum(r["stays"] for r in los)
    completed = sum(r["stays"] for r in los if r["key"] == DischargeReason.COMPLETED)
    months = census_by_month(scope, f)
    result = {
        "filters": f,
        "on": on,
        "retention": retention,
        "active": census_active(scope, on),
        "months": months,
        "length_of_stay": los,
        "completion": {
            "discharged": discharged,
            "completed": completed,
            "completion_pct": percent(completed, discharged),
        },
        "step_down": step_down_rates(scope, f),
        "measures": measure_change(scope, f),
        "month_chart": trend(
            [
                Series("admissions", "Admissions", [(m["month"], m["admissions"]) for m in months]),
                Series("discharges", "Discharges", [(m["month"], m["discharges"]) for m in months]),
            ],
            max_value=max(
                [5, *[m["admissions"] for m in months], *[m["discharges"] for m in months]]
            ),
        ),
    }
    result["active_total"] = sum(r["clients"] for r in result["active"])
    result["rows"] = _census_rows(result)
    if progress:
        progress(100)
    return result


# --- Documentation compliance ----------------------------------------------------------


def note_authors(user):
    """Whose notes ``user`` may count: anyone's for an admin (``None``: no filter, so a
    departed clinician's or a prescriber's notes still count), the supervisees of a
    supervisor (``clinical_supervisor=user``), nobody else."""
    if user.is_program_admin:
        return None
    staff = get_user_model().objects.all()
    if user.has_role(Role.SUPERVISOR):
        return staff.filter(clinical_supervisor=user)
    return staff.none()


def clinician_choices(user):
    """The clinician filter's choices: those authors who may still write notes."""
    authors = note_authors(user)
    if authors is None:
        authors = (
            get_user_model()
            .objects.filter(groups__name__in=[Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL])
            .distinct()
        )
    return authors.filter(is_active=True).order_by("last_name", "username")


class DocumentationReportForm(ReportForm):
    clinician = forms.ModelChoiceField(
        None, to_field_name="pk", required=False, empty_label="Every clinician"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A clinician outside the viewer's team is "not a valid choice": a 400, and no
        # hint whether the id exists.
        self.fields["clinician"].queryset = (
            clinician_choices(self.user)
            if self.user is not None
            else get_user_model().objects.none()
        )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clinic_tz())


# One row per service that needed a note (``clinical.notes.selectors``: a group session
# that met, an appointment kept) and per person answerable for it: the note's author; a
# group session without a note, each facilitator of its group (any of them may write
# it); an appointment, its clinician. Each row carries 0/1 flags, computed by the ORM
# for the backend at hand (interval arithmetic differs), which the report's aggregate
# statements only sum.
UNIT_FLAGS = (
    "signed",
    "on_time",
    "late",
    "draft",
    "no_note",
    "signed_24h",
    "signed_72h",
    "cosign_waiting",
    "copied_text",
)


def _flags(note: str, ended: str = "ends_at") -> dict:
    """The flags of one service, ``note`` being the path to its note."""

    def one(condition):
        return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())

    signed = Q(**{f"{note}__status": NoteStatus.SIGNED})

    def within(hours):
        return signed & Q(**{f"{note}__signed_at__lte": F(ended) + timedelta(hours=hours)})

    # Late or not as the note was marked when it was signed (the locked ``late_entry``
    # column, clinical.notes.models.is_late_entry): what the note itself says.
    late = Q(**{f"{note}__late_entry": True})
    return {
        "signed": one(signed),
        "on_time": one(signed & ~late),
        "late": one(signed & late),
        "draft": one(Q(**{f"{note}__status": NoteStatus.DRAFT})),
        "no_note": one(Q(**{f"{note}__isnull": True})),
        **{f"signed_{h}h": one(within(h)) for h in SIGN_WINDOWS_HOURS},
        "cosign_waiting": one(signed & Q(**{f"{note}__cosign_status": CosignStatus.PENDING})),
        # Signed over a copied-text warning its author acknowledged (clinical/notes/
        # checks.py): the acknowledgment rows exist only for signed notes.
        "copied_text": Case(
            When(
                Exists(
                    SignWarning.objects.filter(
                        note_id=OuterRef(f"{note}__id"), kind__in=COPIED_KINDS
                    )
                ),
                then=Value(1),
            ),
            default=Value(0),
            output_field=IntegerField(),
        ),
    }


def documentation_units(f, *, now: datetime | None = None) -> tuple[str, list]:
    """(SQL, params) of the rows described above, for services that ended in the range
    (and by now): columns staff, grp (the group, or NULL for an appointment), session,
    appointment, then ``UNIT_FLAGS``."""
    now = now or timezone.now()
    ended = Q(
        ends_at__gte=_day_start(f["start"]),
        ends_at__lt=_day_start(f["end"] + timedelta(days=1)),
        ends_at__lte=now,
    )
    # Typed: PostgreSQL's UNION does not guess the type of a bare NULL.
    none = Cast(Value(None), output_field=BigIntegerField())
    columns = ("staff", "grp", "session", "appointment", *UNIT_FLAGS)
    sessions = sessions_that_met().filter(ended)
    written = (
        sessions.filter(group_note__isnull=False)
        .annotate(
            staff=F("group_note__author_id"),
            grp=F("group_id"),
            session=F("pk"),
            appointment=none,
            **_flags("group_note"),
        )
        .values_list(*columns)
        .order_by()
    )
    unwritten = (
        sessions.filter(group_note__isnull=True)
        .annotate(
            staff=F("group__facilitators"),
            grp=F("group_id"),
            session=F("pk"),
            appointment=none,
            **_flags("group_note"),
        )
        .filter(staff__isnull=False)
        .values_list(*columns)
        .order_by()
    )
    appointments = (
        appointments_kept()
        .filter(ended)
        .annotate(
            staff=F("clinician_id"),
            grp=none,
            session=none,
            appointment=F("pk"),
            **_flags("note"),
        )
        .values_list(*columns)
        .order_by()
    )
    return written.union(unwritten, appointments, all=True).query.sql_with_params()


def _staff_filter(user, f) -> tuple[str, list]:
    """The WHERE clause on the rows' ``staff``: the chosen clinician, or a supervisor's
    team (``note_authors``), or nobody's filter for an admin."""
    if f.get("clinician"):
        return "WHERE u.staff = %s", [f["clinician"].pk]
    authors = note_authors(user)
    if authors is None:
        return "", []
    try:
        sql, params = authors.values("pk").query.sql_with_params()
    except EmptyResultSet:  # nobody's: a person who supervises no one and is no admin
        return "WHERE 1 = 0", []
    return f"WHERE u.staff IN ({sql})", list(params)


def _figures(r: dict) -> dict:
    """The derived figures of one row of counts (a clinician, a group, the totals)."""
    row = {
        "sessions_held": r["held"],
        "signed": r["signed"],
        "signed_on_time": r["on_time"],
        "signed_late": r["late"],
        "missing": r["draft"] + r["no_note"],
        "missing_draft": r["draft"],
        "missing_no_note": r["no_note"],
        "cosign_waiting": r["cosign_waiting"],
        "signed_copied_text": r["copied_text"],
    }
    for h in SIGN_WINDOWS_HOURS:
        row[f"signed_{h}h"] = r[f"signed_{h}h"]
        row[f"pct_{h}h"] = percent(r[f"signed_{h}h"], r["held"])
    return row


def documentation_figures(user, f, *, now: datetime | None = None) -> dict:
    """Every count of the report in one statement over the rows above (read once):

    - ``rows``, per person answerable: sessions held (that met or were kept), notes
      signed on time and late, missing (a draft or no note at all), signed within 24 h
      and 72 h of the end (of the sessions held, so a missing note counts against
      both), co-signatures waiting. A session without a note counts for each
      facilitator of its group, so this column can add up to more than the sessions;
    - ``groups``, per group: its sessions that met, each once;
    - ``totals``: every session and appointment once, whoever answers for it.

    Of the people the viewer's report covers (``_staff_filter``)."""
    units, params = documentation_units(f, now=now)
    where, where_params = _staff_filter(user, f)
    users, groups = get_user_model()._meta.db_table, Group._meta.db_table
    sums = ", ".join(f"SUM(u.{flag}) AS {flag}" for flag in UNIT_FLAGS)

    def once(key):
        return ", ".join(
            f"COUNT(DISTINCT CASE WHEN u.{flag} = 1 THEN {key} END) AS {flag}"
            for flag in UNIT_FLAGS
        )

    service = "COALESCE(u.session, -u.appointment)"
    flags = ", ".join(f"x.{flag}" for flag in UNIT_FLAGS)
    # Counted per id alone, then named: grouped by the names too, PostgreSQL sorted a
    # year's rows on disk. ``u`` is read three times (PostgreSQL materialises it once).
    raw = _dict_rows(
        f"""WITH u AS (SELECT * FROM ({units}) u {where})
        SELECT 'clinician' AS part, p.username AS name, p.first_name, p.last_name,
            x.held, {flags}
        FROM (SELECT u.staff AS k, COUNT(*) AS held, {sums} FROM u GROUP BY u.staff) x
        JOIN {users} p ON p.id = x.k
        UNION ALL
        SELECT 'group', g.name, '', '', x.held, {flags}
        FROM (SELECT u.grp AS k, COUNT(DISTINCT u.session) AS held, {once("u.session")}
            FROM u WHERE u.grp IS NOT NULL GROUP BY u.grp) x
        JOIN {groups} g ON g.id = x.k
        UNION ALL
        SELECT 'all', '', '', '', x.held, {flags}
        FROM (SELECT COUNT(DISTINCT {service}) AS held, {once(service)} FROM u) x""",
        [*params, *where_params],
    )
    empty = dict.fromkeys(("held", *UNIT_FLAGS), 0)
    result = {"rows": [], "groups": [], "totals": _figures(empty)}
    for r in raw:
        if r["part"] == "clinician":
            name = f"{r['first_name']} {r['last_name']}".strip()
            result["rows"].append(
                {
                    "clinician": r["name"],
                    "name": name or r["name"],
                    "last_name": r["last_name"],
                    **_figures(r),
                }
            )
        elif r["part"] == "group":
            result["groups"].append({"group": r["name"], **_figures(r)})
        else:
            result["totals"] = _figures(r)
    result["rows"].sort(key=lambda r: (r["last_name"], r["clinician"]))
    result["groups"].sort(key=lambda r: r["group"])
    return result


def _dict_rows(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    # SUM answers a Decimal on PostgreSQL, and NULL over no row: counts are ints.
    counted = {"held", *UNIT_FLAGS}
    return [{k: int(v or 0) if k in counted else v for k, v in r.items()} for r in rows]


def documentation_by_clinician(user, f, *, now: datetime | None = None) -> list[dict]:
    return documentation_figures(user, f, now=now)["rows"]


def documentation_by_group(user, f, *, now: datetime | None = None) -> list[dict]:
    return documentation_figures(user, f, now=now)["groups"]


def documentation_totals(user, f, *, now: datetime | None = None) -> dict:
    return documentation_figures(user, f, now=now)["totals"]


def plans_overdue(user, f, *, today: date | None = None) -> list[dict]:
    """Treatment plans in force whose review date has passed, most overdue first."""
    today = today or timezone.localdate()
    clients = clients_for(user, Purpose.CLINICAL)
    team = CareTeamMember.objects.active(today)
    authors = note_authors(user)
    if f.get("clinician"):
        clients = clients.filter(pk__in=team.filter(staff=f["clinician"]).values("client_id"))
    elif authors is not None:
        # A supervisor's team report: the clients their supervisees care for now.
        clients = clients.filter(
            pk__in=team.filter(staff__in=authors.values("pk")).values("client_id")
        )
    due_after = timedelta(days=review_days())
    versions = (
        TreatmentPlanVersion.objects.in_force()
        .filter(client__in=clients, reviewed_on__lt=today - due_after)
        .order_by("reviewed_on", "pk")
        .values_list("client__public_id", "client__mrn", "reviewed_on")
    )
    # Thousands of rows program-wide: tuples, not plan and client instances (their JSON
    # content decoded for nothing), and the chart's address reversed once.
    chart_url = chart_url_maker()
    rows = []
    for public_id, mrn, reviewed_on in versions:
        due_on = reviewed_on + due_after
        rows.append(
            {
                "public_id": public_id,
                "chart_url": chart_url(public_id),
                "mrn": mrn,
                "reviewed_on": reviewed_on,
                "due_on": due_on,
                "days_overdue": (today - due_on).days,
            }
        )
    return rows


def run_documentation(*, user, filters, progress=None, page=False) -> dict:
    figures = documentation_figures(user, filters)
    if progress:
        progress(60)
    result = {
        **figures,
        "team_only": not user.is_program_admin,
        "late_hours": settings.IOP_LATE_ENTRY_HOURS,
    }
    if progress is None or page:  # the page lists the overdue plans; a CSV alone does not
        result["plans_overdue"] = plans_overdue(user, filters)
    return result


def register():
    from iop.reports.registry import Report
    from iop.reports.registry import register as register_report

    register_report(
        Report(
            key="census",
            title="Census and outcomes",
            roles=(Role.ADMIN,),
            form=CensusReportForm,
            runner=run_census,
            template="clinical/reports/census.html",
            csv_columns=CENSUS_COLUMNS,
            csv_labels=CENSUS_LABELS,
            page_omits=("rows",),  # the CSV's long form of the page's own tables
            description="Retention and completion by track, slot and profession; active "
            "census; admissions and discharges by month; length of stay by discharge "
            "reason; step-down rate; PHQ-9 and GAD-7 change.",
            # A handful of aggregate queries whatever the range: never worth a worker.
            inline_days=MAX_RANGE_DAYS + 1,
        )
    )
    register_report(
        Report(
            key="documentation",
            title="Documentation compliance",
            roles=(Role.ADMIN, Role.SUPERVISOR),
            form=DocumentationReportForm,
            runner=run_documentation,
            template="clinical/reports/documentation.html",
            csv_columns=DOCUMENTATION_COLUMNS,
            csv_labels=DOCUMENTATION_LABELS,
            description="Per clinician and per group: sessions held, notes signed on time "
            "and late, missing notes (a draft or none), signed within 24 and 72 hours, "
            "co-signatures waiting, notes signed over a copied-text warning; treatment "
            "plans overdue for review.",
            inline_days=MAX_RANGE_DAYS + 1,
            # The page lists overdue plans by MRN and date; the CSV is per clinician.
            clients=lambda result: (plan["public_id"] for plan in result.get("plans_overdue", ())),
        )
    )
