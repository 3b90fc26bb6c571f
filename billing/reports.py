"""Billing's reports (issue 22), computed in the database, by payer:

- **A/R aging**: what is still owed on submitted claims, as of the range's last day, in
  buckets by days since submission (0-30, 31-60, 61-90, over 90). Outstanding on a
  claim line = amount - paid - adjusted (a denial the payer adjusted off is no longer
  owed; what the patient owes is adjusted off the payer's share). Claims submitted in
  the range (make the range long to see everything still open). One query.
- **Payer mix**: charges (not void) with a date of service in the range, and payments
  posted from remittances paid in the range, by payer, with each payer's share. Two
  queries.

Scope: ``clients_for(user, Purpose.BILLING)``: the billing role's clients in reach,
program-wide for an admin. Rows name payers, never clients.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import Charge, ClaimLine, ClaimStatus, LinePayment, Payer
from clients.access import Purpose, clients_for
from iop.accounts.models import Role
from iop.numbers import percent
from iop.reports.forms import ReportForm
from scheduling.models import clinic_tz

REPORT_ROLES = (Role.BILLING, Role.ADMIN)
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))
BUCKETS = (("d0_30", 0, 30), ("d31_60", 31, 60), ("d61_90", 61, 90), ("d90_plus", 91, None))

AGING_COLUMNS = ("payer", "claims", "d0_30", "d31_60", "d61_90", "d90_plus", "outstanding")
AGING_LABELS = {
    "payer": "Payer",
    "claims": "Claims with a balance",
    "d0_30": "0-30 days",
    "d31_60": "31-60 days",
    "d61_90": "61-90 days",
    "d90_plus": "Over 90 days",
    "outstanding": "Outstanding",
}
MIX_COLUMNS = ("payer", "charges", "charged", "charge_share_pct", "paid", "payment_share_pct")
MIX_LABELS = {
    "payer": "Payer",
    "charges": "Charges",
    "charged": "Amount charged",
    "charge_share_pct": "Share of charges %",
    "paid": "Payments",
    "payment_share_pct": "Share of payments %",
}
OPEN = (ClaimStatus.SUBMITTED, ClaimStatus.PARTIAL, ClaimStatus.DENIED, ClaimStatus.PAID)


class AgingForm(ReportForm):
    pass


def _midnight(day):
    return datetime.combine(day, time(0), tzinfo=clinic_tz())


def _money(value) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def run_aging(*, user, filters, progress=None, page=False) -> dict:
    start, end = filters["start"], filters["end"]
    scope = clients_for(user, Purpose.BILLING)
    outstanding = F("amount") - F("paid") - F("adjusted")
    lines = ClaimLine.objects.filter(
        claim__client__in=scope.values("pk"),
        claim__status__in=OPEN,
        claim__submitted_at__gte=_midnight(start),
        claim__submitted_at__lt=_midnight(end + timedelta(days=1)),
    ).annotate(owed=outstanding)
    lines = lines.filter(owed__gt=0)
    buckets = {}
    for key, low, high in BUCKETS:
        # Days since submission, counted to the end of the range: submitted on the
        # range's last day is 0 days; ``low`` days ago starts at that day's midnight.
        condition = Q(claim__submitted_at__lt=_midnight(end - timedelta(days=low - 1)))
        if high is not None:
            condition &= Q(claim__submitted_at__gte=_midnight(end - timedelta(days=high)))
        buckets[key] = Coalesce(Sum("owed", filter=condition), ZERO)
    raw = (
        lines.values("claim__payer__name", "claim__payer__code")
        .annotate(claims=Count("claim", distinct=True), outstanding=Sum("owed"), **buckets)
        .order_by("claim__payer__name")
    )
    rows = [
        {
            "payer": r["claim__payer__name"],
            "code": r["claim__payer__code"],
            "claims": r["claims"],
            **{key: _money(r[key]) for key, *_ in BUCKETS},
            "outstanding": _money(r["outstanding"]),
        }
        for r in raw
    ]
    total = {
        "payer": "All payers",
        "claims": sum(r["claims"] for r in rows),
        **{key: sum((r[key] for r in rows), Decimal("0.00")) for key, *_ in BUCKETS},
        "outstanding": sum((r["outstanding"] for r in rows), Decimal("0.00")),
    }
    return {"rows": rows, "total": total, "filters": filters}


def run_payer_mix(*, user, filters, progress=None, page=False) -> dict:
    start, end = filters["start"], filters["end"]
    scope = clients_for(user, Purpose.BILLING).values("pk")
    charged = {
        r["payer_id"]: r
        for r in Charge.objects.filter(
            client__in=scope, void=False, service_date__gte=start, service_date__lte=end
        )
        .values("payer_id")
        .annotate(charges=Count("pk"), charged=Sum("amount"))
        .order_by()
    }
    paid = dict(
        LinePayment.objects.filter(
            claim_line__claim__client__in=scope,
            remittance__paid_on__gte=start,
            remittance__paid_on__lte=end,
        )
        .values("remittance__payer_id")
        .annotate(total=Sum("paid"))
        .order_by()
        .values_list("remittance__payer_id", "total")
    )
    names = dict(Payer.objects.filter(pk__in={*charged, *paid} - {None}).values_list("pk", "name"))
    total_charged = sum((_money(r["charged"]) for r in charged.values()), Decimal("0.00"))
    total_paid = sum((_money(v) for v in paid.values()), Decimal("0.00"))
    rows = []
    for payer_id in sorted({*charged, *paid}, key=lambda p: names.get(p, "~")):
        amount = _money(charged.get(payer_id, {}).get("charged"))
        received = _money(paid.get(payer_id))
        rows.append(
            {
                "payer": names.get(payer_id, "No payer (self-pay)"),
                "charges": charged.get(payer_id, {}).get("charges", 0),
                "charged": amount,
                "charge_share_pct": percent(amount, total_charged, empty=0),
                "paid": received,
                "payment_share_pct": percent(received, total_paid, empty=0),
            }
        )
    total = {
        "payer": "All payers",
        "charges": sum(r["charges"] for r in rows),
        "charged": total_charged,
        "paid": total_paid,
    }
    return {"rows": rows, "total": total, "filters": filters}


def register():
    from iop.reports.registry import Report
    from iop.reports.registry import register as register_report

    register_report(
        Report(
            key="ar_aging",
            title="A/R aging",
            roles=REPORT_ROLES,
            form=AgingForm,
            runner=run_aging,
            template="billing/reports/ar_aging.html",
            csv_columns=AGING_COLUMNS,
            csv_labels=AGING_LABELS,
            description="What payers still owe on claims submitted in the range, by days "
            "since submission (0-30, 31-60, 61-90, over 90), as of the range's last day.",
            # One grouped sum over the open claim lines, whatever the range.
            inline_days=800,
        )
    )
    register_report(
        Report(
            key="payer_mix",
            title="Payer mix",
            roles=REPORT_ROLES,
            form=ReportForm,
            runner=run_payer_mix,
            template="billing/reports/payer_mix.html",
            csv_columns=MIX_COLUMNS,
            csv_labels=MIX_LABELS,
            description="Charges by date of service and payments received in the range, "
            "by payer, with each payer's share.",
            # Two grouped sums: a year runs inline.
            inline_days=800,
        )
    )
