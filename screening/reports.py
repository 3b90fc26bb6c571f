"""The screening report: read-only, computed in the database.

Rules, on top of screening.rules (the stored ``outcome`` of a screen and the
per-analyte ``expected`` flag are the ones the chart shows):

- a urine screen belongs to the day it was due: the random selection's date when it
  came from one (a no-show is closed the next day), else the collection's clinic date;
- screens by order kind count collected specimens, no-shows and refusals apart;
- positivity counts analyte results of collected specimens by analyte and month:
  ``tested`` = results read negative or positive (an invalid reading tested nothing);
  a positive is one the lab did not overturn (``rules.reading_is_positive``); an
  expected positive (a prescribed medication explains it) is counted apart and never
  in the positivity rate, which is unexpected positives over tested;
- time since the last unexpected positive, per active client: the latest urine screen
  or breath test with outcome ``unexpected_positive`` on or before the range's end,
  in days to the range's end (blank when there is none).

Scope: ``clients.access.clients_for(user, CLINICAL)`` (admins program-wide, supervisors
their team's clients, clinicians their caseload), then the track filter (clients
enrolled on that track at some point of the range). Three queries whatever the number
of clients, screens or months.
"""

from datetime import date, timedelta

from django import forms
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from clients.access import Purpose, clients_for
from clients.models import Client, ClientStatus
from iop.accounts.models import Role
from iop.charts import Series, trend
from iop.numbers import percent
from iop.reports.forms import ReportForm
from iop.reports.values import as_date
from scheduling.models import Enrollment, Track
from screening.models import Analyte, AnalyteResult, BreathTest, OrderKind, UrineScreen, UrineStatus
from screening.rules import AnalyteOutcome, Confirmation, Outcome

SCREENING_COLUMNS = (
    "section",
    "order_kind",
    "analyte",
    "month",
    "mrn",
    "track",
    "screens",
    "collected",
    "no_shows",
    "refusals",
    "tested",
    "unexpected_positive",
    "expected_positive",
    "positivity_pct",
    "last_unexpected_positive",
    "days_since",
)
SCREENING_LABELS = {
    "section": "Section",
    "order_kind": "Order kind",
    "analyte": "Analyte",
    "month": "Month",
    "mrn": "MRN",
    "track": "Track",
    "screens": "Screens",
    "collected": "Collected",
    "no_shows": "No-shows",
    "refusals": "Refusals",
    "tested": "Tested",
    "unexpected_positive": "Unexpected positive",
    "expected_positive": "Expected positive (prescribed)",
    "positivity_pct": "Positivity %",
    "last_unexpected_positive": "Last unexpected positive",
    "days_since": "Days since",
}
REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.CLINICIAN)


class ScreeningReportForm(ReportForm):
    track = forms.ModelChoiceField(
        Track.objects.all(), to_field_name="code", required=False, empty_label="All tracks"
    )


def _scope(user, f):
    clients = clients_for(user, Purpose.CLINICAL)
    if f.get("track"):
        clients = clients.filter(
            pk__in=Enrollment.objects.during(f["start"], f["end"])
            .filter(track=f["track"])
            .values("client_id")
        )
    return clients


def _screens(scope, f):
    return (
        UrineScreen.objects.filter(client__in=scope.values("pk"))
        .annotate(day=Coalesce("selection__date", TruncDate("collected_at")))
        .filter(day__gte=f["start"], day__lte=f["end"])
    )


def _blank(section, **values):
    row = dict.fromkeys(SCREENING_COLUMNS, "")
    row.update(section=section, **values)
    return row


def screens_by_kind(scope, f) -> list[dict]:
    """One query: screens per order kind, collected, no-shows and refusals."""
    raw = {
        r["order_kind"]: r
        for r in _screens(scope, f)
        .values("order_kind")
        .annotate(
            screens=Count("pk"),
            collected=Count("pk", filter=Q(status=UrineStatus.COLLECTED)),
            no_shows=Count("pk", filter=Q(status=UrineStatus.NO_SHOW)),
            refusals=Count("pk", filter=Q(status=UrineStatus.REFUSED)),
        )
        .order_by()
    }
    rows = []
    for kind in OrderKind:
        r = raw.get(kind.value, {})
        rows.append(
            _blank(
                "by_kind",
                order_kind=kind.value,
                label=kind.label,
                **{n: int(r.get(n, 0)) for n in ("screens", "collected", "no_shows", "refusals")},
            )
        )
    total = {n: sum(r[n] for r in rows) for n in ("screens", "collected", "no_shows", "refusals")}
    rows.append(_blank("by_kind", order_kind="all", label="All screens", **total))
    return rows


def positivity(scope, f) -> list[dict]:
    """One query: per analyte and month, results tested and positives, expected apart."""
    # The month is worked out once per screen (83,000 a year), not per analyte result
    # (1.4 million), and the results are grouped by analyte id and month alone (a small
    # hash aggregate); the analytes' names are joined to the 200-odd groups after.
    screens = (
        _screens(scope, f)
        .filter(status=UrineStatus.COLLECTED)
        .order_by()
        .values(sid=F("pk"), month=TruncMonth("day"))
    )
    sql, params = screens.query.sql_with_params()
    positive = "r.outcome = %s AND r.confirmation <> %s"
    query = f"""WITH s AS ({sql}),
    per AS (
        SELECT r.analyte_id AS a, s.month AS month,
            COUNT(*) FILTER (WHERE r.outcome IN (%s, %s)) AS tested,
            COUNT(*) FILTER (WHERE {positive} AND NOT r.expected) AS unexpected,
            COUNT(*) FILTER (WHERE {positive} AND r.expected) AS expected_n
        FROM {AnalyteResult._meta.db_table} r JOIN s ON s.sid = r.screen_id
        GROUP BY r.analyte_id, s.month)
    SELECT per.month, an.code, an.name, per.tested, per.unexpected, per.expected_n
    FROM per JOIN {Analyte._meta.db_table} an ON an.id = per.a
    ORDER BY an."order", an.name, per.month"""
    outcomes = [
        str(AnalyteOutcome.NEGATIVE),
        str(AnalyteOutcome.POSITIVE),
        *[str(AnalyteOutcome.POSITIVE), str(Confirmation.CONFIRMED_NEGATIVE)] * 2,
    ]
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, *outcomes])
        columns = [c[0] for c in cursor.description]
        raw = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for r in raw:
        r["month"] = as_date(r["month"])
    return [
        _blank(
            "positivity",
            analyte=r["code"],
            label=r["name"],
            month=f"{r['month']:%Y-%m}",
            tested=int(r["tested"]),
            unexpected_positive=int(r["unexpected"]),
            expected_positive=int(r["expected_n"]),
            positivity_pct=percent(int(r["unexpected"]), int(r["tested"])),
        )
        for r in raw
    ]


def since_last_positive(scope, f) -> list[dict]:
    """One query: each active client in scope with the day of their last unexpected
    positive (urine or breath) on or before the range's end."""
    end = f["end"]
    upto = end + timedelta(days=1)
    last_urine = (
        UrineScreen.objects.filter(
            client=OuterRef("pk"), outcome=Outcome.UNEXPECTED_POSITIVE, collected_at__date__lt=upto
        )
        .order_by("-collected_at")
        .annotate(day=TruncDate("collected_at"))
        .values("day")[:1]
    )
    last_breath = (
        BreathTest.objects.filter(
            client=OuterRef("pk"), outcome=Outcome.UNEXPECTED_POSITIVE, tested_at__date__lt=upto
        )
        .order_by("-tested_at")
        .annotate(day=TruncDate("tested_at"))
        .values("day")[:1]
    )
    track = (
        Enrollment.objects.filter(client=OuterRef("pk"), start_on__lte=end)
        .order_by("-start_on", "-pk")
        .values("track__name")[:1]
    )
    clients = (
        Client.objects.filter(pk__in=scope.values("pk"), status=ClientStatus.ACTIVE)
        .annotate(urine=Subquery(last_urine), breath=Subquery(last_breath), tc=Subquery(track))
        .values(
            "public_id",
            "mrn",
            "legal_first_name",
            "preferred_name",
            "legal_last_name",
            "urine",
            "breath",
            "tc",
        )  # fmt: skip
        .order_by("mrn")
    )
    rows = []
    for c in clients:
        days = [day for day in (c["urine"], c["breath"]) if day is not None]
        last = max(days) if days else None
        rows.append(
            _blank(
                "client",
                public_id=c["public_id"],
                name=f"{c['preferred_name'] or c['legal_first_name']} {c['legal_last_name']}",
                mrn=c["mrn"],
                track=c["tc"] or "",
                last_unexpected_positive=last.isoformat() if last else "",
                days_since=(end - last).days if last else "",
            )
        )
    return rows


def _chart(rows):
    """Positivity per month across analytes: unexpected and expected positives over
    results tested, in per cent."""
    months: dict = {}
    for r in rows:
        m = months.setdefault(r["month"], [0, 0, 0])
        m[0] += r["tested"]
        m[1] += r["unexpected_positive"]
        m[2] += r["expected_positive"]
    points = sorted(
        (date.fromisoformat(f"{month}-01"), tested, unexpected, expected)
        for month, (tested, unexpected, expected) in months.items()
    )
    monthly = [
        {
            "month": day,
            "tested": tested,
            "unexpected": unexpected,
            "expected": expected,
            "unexpected_pct": percent(unexpected, tested) or 0,
            "expected_pct": percent(expected, tested) or 0,
        }
        for day, tested, unexpected, expected in points
    ]
    unexpected = [(m["month"], m["unexpected_pct"]) for m in monthly]
    expected = [(m["month"], m["expected_pct"]) for m in monthly]
    top = max([20, *[pct + 5 for _day, pct in unexpected + expected]])
    chart = trend(
        [
            Series("unexpected", "Unexpected positive %", unexpected),
            Series("expected", "Expected (prescribed) positive %", expected),
        ],
        max_value=min(top, 100),
    )
    return monthly, chart


def run_screening(*, user, filters, progress=None, page=False) -> dict:
    scope = _scope(user, filters)
    by_kind = screens_by_kind(scope, filters)
    if progress:
        progress(30)
    positives = positivity(scope, filters)
    if progress:
        progress(60)
    clients = since_last_positive(scope, filters)
    monthly, chart = _chart(positives)
    return {
        "rows": [*by_kind, *positives, *clients],
        "by_kind": by_kind,
        "positivity": positives,
        "clients": clients,
        "monthly": monthly,
        "chart": chart,
        "filters": filters,
    }


def register():
    from iop.reports.registry import Report
    from iop.reports.registry import register as register_report

    register_report(
        Report(
            key="screening",
            title="Screening",
            roles=REPORT_ROLES,
            form=ScreeningReportForm,
            runner=run_screening,
            template="screening/reports/screening.html",
            csv_columns=SCREENING_COLUMNS,
            csv_labels=SCREENING_LABELS,
            description="Screens by order kind, no-shows and refusals; positivity by analyte "
            "and month with expected (prescribed) positives apart; days since each active "
            "client's last unexpected positive.",
            # Each active client's last unexpected positive: a screen result per client.
            clients=lambda result: (
                row.get("public_id") for row in result["rows"] if row["section"] == "client"
            ),
            clinical=True,
        )
    )
