from datetime import date, timedelta
from decimal import Decimal

from billing.models import Authorization, Charge, Coverage, Fee, Payer


def payer(code="TEST-COMM", name="Test Health", filing="CI", **fields) -> Payer:
    found, _ = Payer.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "payer_id": code.replace("-", ""),
            "filing_indicator": filing,
            **fields,
        },
    )
    return found


def fee(p, code="H0015", amount="250.00", modifier="", effective_on=date(2020, 1, 1)) -> Fee:
    return Fee.objects.create(
        payer=p, code=code, modifier=modifier, amount=Decimal(amount), effective_on=effective_on
    )


def coverage(client, p, actor, *, effective_on=None, ends_on=None, order=1) -> Coverage:
    return Coverage.objects.create(
        client=client,
        payer=p,
        order=order,
        member_id="M100",
        effective_on=effective_on or date.today() - timedelta(days=60),
        ends_on=ends_on,
        created_by=actor,
    )


def authorization(client, p, actor, *, units=10, starts_on=None, ends_on=None, code="H0015"):
    starts_on = starts_on or date.today() - timedelta(days=10)
    return Authorization.objects.create(
        client=client,
        payer=p,
        service_code=code,
        units_approved=units,
        starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=90),
        reference=f"A{Authorization.objects.count() + 1}",
        created_by=actor,
    )


def charges(client, auth, days, *, units=1, code="H0015", amount="250.00", p=None):
    """One charge per day in ``days`` (dates), against ``auth``."""
    return [
        Charge.objects.create(
            client=client,
            service_date=day,
            code=code,
            units=units,
            amount=Decimal(amount),
            payer=p or (auth.payer if auth else None),
            authorization=auth,
            source_key=f"test:{client.pk}:{code}:{day.isoformat()}",
        )
        for day in days
    ]
