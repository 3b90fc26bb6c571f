"""A/R aging and payer mix, with hand-worked figures, their CSV, and a query bound."""

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Claim, ClaimLine, LinePayment, Remittance
from scheduling.models import clinic_tz
from tests.billing import factories as f
from tests.clients.factories import EpisodeFactory
from tests.iop.report_csv import report_csv_rows

pytestmark = pytest.mark.django_db

END = date(2026, 11, 30)
SERVICE_DAYS = itertools.count(1)  # each charge its own day (one charge per service)


def _claim(client, payer, *, submitted_days_ago, amounts, paid=(), adjusted=()):
    submitted = datetime.combine(END - timedelta(days=submitted_days_ago), time(15), clinic_tz())
    claim = Claim.objects.create(
        client=client,
        payer=payer,
        period_start=END - timedelta(days=120),
        period_end=END - timedelta(days=100),
        status="submitted",
        total=sum(Decimal(a) for a in amounts),
        submitted_at=submitted,
    )
    for i, amount in enumerate(amounts):
        charge = f.charges(
            client,
            None,
            [date(2026, 1, 1) + timedelta(days=next(SERVICE_DAYS))],
            amount=amount,
            p=payer,
        )[0]
        ClaimLine.objects.create(
            claim=claim,
            charge=charge,
            line_number=i + 1,
            service_date=charge.service_date,
            code="H0015",
            amount=Decimal(amount),
            paid=Decimal(paid[i] if i < len(paid) else "0"),
            adjusted=Decimal(adjusted[i] if i < len(adjusted) else "0"),
        )
    return claim


@pytest.fixture
def books(db):
    comm, mcd = f.payer("DEMO-COMM", "Commercial Co"), f.payer("DEMO-MCD", "State Medicaid", "MC")
    a, b = EpisodeFactory().client, EpisodeFactory().client
    # Commercial: 250 submitted today (0 days), 250 30 days ago (0-30), 300 31 days ago
    # (31-60), of which 100 paid and 50 adjusted (150 owed), 200 95 days ago (over 90).
    _claim(a, comm, submitted_days_ago=0, amounts=["250.00"])
    _claim(a, comm, submitted_days_ago=30, amounts=["250.00"])
    _claim(b, comm, submitted_days_ago=31, amounts=["300.00"], paid=["100.00"], adjusted=["50.00"])
    _claim(b, comm, submitted_days_ago=95, amounts=["200.00"])
    # Medicaid: 180 61 days ago (61-90), 90 at 90 days (61-90); one fully paid (not owed).
    _claim(a, mcd, submitted_days_ago=61, amounts=["180.00"])
    _claim(b, mcd, submitted_days_ago=90, amounts=["90.00"])
    _claim(b, mcd, submitted_days_ago=10, amounts=["120.00"], paid=["120.00"])
    return comm, mcd


def _run(web, key, **filters):
    params = {"start": "2026-01-01", "end": END.isoformat(), **filters}
    return web.get(reverse("reports:report", args=[key]), params)


def test_ar_aging_by_payer_and_bucket(books, client_as, billing_user):
    response = _run(client_as(billing_user), "ar_aging")
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.context["result"]["rows"]}
    comm, mcd = rows["DEMO-COMM"], rows["DEMO-MCD"]
    assert (comm["d0_30"], comm["d31_60"], comm["d61_90"], comm["d90_plus"]) == (
        Decimal("500.00"),
        Decimal("150.00"),
        Decimal("0.00"),
        Decimal("200.00"),
    )
    assert (comm["outstanding"], comm["claims"]) == (Decimal("850.00"), 4)
    assert (mcd["d61_90"], mcd["outstanding"], mcd["claims"]) == (
        Decimal("270.00"),
        Decimal("270.00"),
        2,
    )
    assert response.context["result"]["total"]["outstanding"] == Decimal("1120.00")
    csv = client_as(billing_user).get(
        reverse("reports:csv", args=["ar_aging"]), {"start": "2026-01-01", "end": END.isoformat()}
    )
    lines = report_csv_rows(b"".join(csv.streaming_content).decode("utf-8-sig"), "ar_aging")
    assert {(r["payer"], r["outstanding"]) for r in lines} == {
        ("Commercial Co", "850.00"),
        ("State Medicaid", "270.00"),
    }


def test_payer_mix_charges_and_payments_with_shares(books, client_as, billing_user):
    comm, mcd = books
    # A remittance from Medicaid paid in the range: 120 on its paid line.
    remit = Remittance.objects.create(
        payer=mcd, file_sha256="a" * 64, trace_number="T1", paid_on=END, content="x"
    )
    line = ClaimLine.objects.get(claim__payer=mcd, paid=Decimal("120.00"))
    LinePayment.objects.create(
        remittance=remit, claim_line=line, paid=Decimal("120.00"), status="paid"
    )
    response = _run(client_as(billing_user), "payer_mix")
    rows = {r["payer"]: r for r in response.context["result"]["rows"]}
    # Charges: commercial 250+250+300+200 = 1000 of 1390 (72 %), Medicaid 390 (28 %).
    assert (rows["Commercial Co"]["charges"], rows["Commercial Co"]["charged"]) == (
        4,
        Decimal("1000.00"),
    )
    assert rows["Commercial Co"]["charge_share_pct"] == 72
    assert rows["State Medicaid"]["charge_share_pct"] == 28
    assert (rows["State Medicaid"]["paid"], rows["State Medicaid"]["payment_share_pct"]) == (
        Decimal("120.00"),
        100,
    )
    csv = client_as(billing_user).get(
        reverse("reports:csv", args=["payer_mix"]), {"start": "2026-01-01", "end": END.isoformat()}
    )
    assert (
        len(report_csv_rows(b"".join(csv.streaming_content).decode("utf-8-sig"), "payer_mix")) == 2
    )


def test_reports_are_billing_and_admin_only(client_as, billing_user, clinician, admin_user):
    for key in ("ar_aging", "payer_mix"):
        link = reverse("reports:report", args=[key])
        assert link in client_as(billing_user).get(reverse("reports:index")).content.decode()
        assert link in client_as(admin_user).get(reverse("reports:index")).content.decode()
        assert link not in client_as(clinician).get(reverse("reports:index")).content.decode()


def test_report_queries_do_not_grow_with_claims(
    books, client_as, billing_user, django_assert_max_num_queries
):
    web = client_as(billing_user)
    _run(web, "ar_aging")
    with django_assert_max_num_queries(20) as counted:
        _run(web, "ar_aging")
        _run(web, "payer_mix")
    comm, mcd = books
    for n in range(20):
        _claim(
            EpisodeFactory().client,
            comm if n % 2 else mcd,
            submitted_days_ago=n * 7,
            amounts=["100.00", "50.00"],
        )
    with django_assert_max_num_queries(len(counted.captured_queries)):
        _run(web, "ar_aging")
        _run(web, "payer_mix")
