"""The benchmark's billing part (issue 22): building a month's charges and claims, timed
on the scale dataset (target under 10 s at 5,000 clients), beside a hand-written SQL
yardstick of the charges' core (the month's billable program days of covered clients,
with their fees).

Each run builds inside a transaction that is rolled back, so every run does the whole
month's work (a build that found everything charged would time nothing)."""

import statistics
import time
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from billing.models import Charge, Claim, ClaimStatus, Payer
from billing.services.charges import build_charges
from billing.services.claims import build_claims, month_bounds
from billing.services.export import export_claims
from iop.audit.services import AuditContext

# Program-day H0015 of covered clients in the month, with the payer's fee: the join the
# service makes, as one statement (the service also applies per-payer rules, the
# signed-note condition, authorizations and the claims' checks).
YARDSTICK = """
WITH days AS (
    SELECT a.client_id AS c, s.date AS d
    FROM scheduling_attendance a
    JOIN scheduling_groupsession s ON s.id = a.session_id AND s.cancelled_at IS NULL
    JOIN scheduling_group g ON g.id = s.group_id
    JOIN scheduling_track t ON t.id = g.track_id
    WHERE s.date BETWEEN %(first)s AND %(last)s
      AND a.status IN ('present', 'late', 'left_early', 'telehealth')
      AND t.hours_per_session >= 3 AND t.days_per_week >= 3
    GROUP BY a.client_id, s.date
)
SELECT COUNT(*), SUM(f.amount)
FROM days
JOIN billing_coverage cv ON cv.client_id = days.c AND cv."order" = 1
    AND cv.effective_on <= days.d AND (cv.ends_on IS NULL OR cv.ends_on >= days.d)
JOIN billing_fee f ON f.payer_id = cv.payer_id AND f.code = 'H0015' AND f.modifier = ''
"""


def last_month(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return month_bounds(today.replace(day=1) - timedelta(days=1))


def bench_billing(*, runs: int = 3, progress=lambda _m: None) -> dict:
    first, last = last_month()
    timings, charges, claims = [], 0, 0
    export_timings, exported, size = [], 0, 0
    built = None
    for _ in range(runs):
        with transaction.atomic():
            before = Charge.objects.count()
            started = time.perf_counter()
            built = build_charges(since=first, through=last)
            result = build_claims(through=last)
            timings.append((time.perf_counter() - started) * 1000)
            charges = Charge.objects.count() - before
            claims = result.created
            ready, held = result.ready, result.held
            # The month's 837P export (target under 5 s at 5,000 clients): every payer's
            # ready claims as one interchange each, batch stored, claims submitted and
            # disclosed; rolled back with the build.
            payers = list(
                Payer.objects.filter(
                    claims__status=ClaimStatus.READY, claims__period_end__lte=last
                ).distinct()
            )
            started = time.perf_counter()
            exported, size = 0, 0
            for payer in payers:
                batch = export_claims(
                    payer=payer,
                    through=last,
                    actor=None,
                    context=AuditContext.system("bench"),
                ).batch
                if batch is not None:
                    exported += batch.claim_count
                    size += len(batch.content)
            export_timings.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
        progress(f"billing build: {timings[-1]:.0f} ms, export: {export_timings[-1]:.0f} ms")
    raw = []
    for _ in range(runs):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(YARDSTICK, {"first": first, "last": last})
            rows, _amount = cursor.fetchone()
        raw.append((time.perf_counter() - started) * 1000)
    median = round(statistics.median(timings), 1)
    raw_ms = round(statistics.median(raw), 1)
    return {
        "month": first.isoformat()[:7],
        "median_ms": median,
        "charges": charges,
        "h0015": built.h0015 if built else 0,
        "appointments": built.appointments if built else 0,
        "claims": claims,
        "ready": ready,
        "held": held,
        "raw_sql_ms": raw_ms,
        "raw_sql_rows": rows,
        "ratio": round(median / raw_ms, 1) if raw_ms else None,
        "existing_claims": Claim.objects.count(),
        "export_ms": round(statistics.median(export_timings), 1) if export_timings else None,
        "exported_claims": exported,
        "export_bytes": size,
    }
