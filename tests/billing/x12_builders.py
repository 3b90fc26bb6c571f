"""Ready claims for the export and import tests, made directly as the claims build leaves
them (the build and its checks are tested in test_claims/test_charges)."""

from datetime import date
from decimal import Decimal

from billing.models import Authorization, Charge, Claim, ClaimLine, ClaimStatus, Coverage
from tests.billing.claims_builders import covered_client


def with_address(client):
    Coverage.objects.filter(client=client).update(
        address_line1="12 Elm St", city="Boston", state="MA", postal_code="02108"
    )
    return client


def ready_claim(the_payer, *, client=None, days=(), rendering=None, appointments=(), status=None):
    """A ready claim of ``client`` (a covered client with consent, made when None): H0015
    on each of ``days`` and a 90834 on each of ``appointments``."""
    client = client or with_address(covered_client(the_payer))
    coverage = Coverage.objects.get(client=client, payer=the_payer)
    auth = Authorization.objects.filter(client=client, payer=the_payer).first()
    claim = Claim.objects.create(
        client=client,
        payer=the_payer,
        coverage=coverage,
        period_start=min([*days, *appointments]).replace(day=1),
        period_end=max([*days, *appointments]),
        status=status or ClaimStatus.READY,
        principal_diagnosis="F10.20",
        diagnoses=["F10.20", "F12.20"],
    )
    rows = [("H0015", day, Decimal("210.00"), auth) for day in days]
    rows += [("90834", day, Decimal("120.00"), None) for day in appointments]
    for n, (code, day, amount, authorization) in enumerate(sorted(rows, key=lambda r: r[1]), 1):
        charge = Charge.objects.create(
            client=client,
            service_date=day,
            code=code,
            amount=amount,
            rendering=rendering,
            payer=the_payer,
            coverage=coverage,
            authorization=authorization,
            source_key=f"test:{client.pk}:{code}:{day.isoformat()}",
        )
        ClaimLine.objects.create(
            claim=claim,
            charge=charge,
            line_number=n,
            service_date=day,
            code=code,
            units=1,
            amount=amount,
        )
    claim.total = sum((r[2] for r in rows), Decimal("0"))
    claim.save(update_fields=["total"])
    return claim


NOV = [date(2026, 11, d) for d in (2, 3, 4)]
