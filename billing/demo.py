"""Billing's demo configuration (fake payers, fees and the program as billing provider),
idempotent. The coverages, authorizations, charges and claims of the demo clients are
the claims part's (issue 22), built on these two payers."""

from datetime import date
from decimal import Decimal

from billing.models import BillingProvider, Fee, Payer

FEES_FROM = date(2026, 1, 1)
# code: (commercial, Medicaid). H0015 per diem; psychotherapy 30/45/60 minutes; family
# psychotherapy with the patient; an established-patient visit of a prescriber.
FEES = {
    "H0015": ("275.00", "160.00"),
    "90832": ("95.00", "68.00"),
    "90834": ("130.00", "92.00"),
    "90837": ("180.00", "124.00"),
    "90847": ("150.00", "101.00"),
    "99213": ("110.00", "74.00"),
}
PAYERS = {
    "DEMO-COMM": {
        "name": "Demo Commercial Health",
        "payer_id": "DEMOCOMM1",
        "filing_indicator": "CI",
        "address_line1": "PO Box 1000",
        "city": "Portland",
        "state": "OR",
        "postal_code": "97208",
    },
    "DEMO-MCD": {
        "name": "Demo State Medicaid",
        "payer_id": "DEMOMCD01",
        "filing_indicator": "MC",
        # A stricter payer: 3 hours a day on 3 days of the client's week.
        "h0015_rule": "client_week",
        "address_line1": "PO Box 2000",
        "city": "Salem",
        "state": "OR",
        "postal_code": "97309",
    },
}


def seed(*, stdout):
    payers = {}
    for code, fields in PAYERS.items():
        payers[code], _ = Payer.objects.get_or_create(code=code, defaults=fields)
    for code, amounts in FEES.items():
        for payer, amount in zip(payers.values(), amounts, strict=True):
            Fee.objects.get_or_create(
                payer=payer,
                code=code,
                modifier="",
                effective_on=FEES_FROM,
                defaults={"amount": Decimal(amount)},
            )
    BillingProvider.objects.get_or_create(
        key="program",
        defaults={
            "name": "Harbor IOP",
            "npi": "1881234565",  # fake, with a valid check digit
            "tax_id": "990000001",
            "taxonomy": "261QR0405X",  # clinic/center, substance use disorder rehabilitation
            "address_line1": "200 Harbor Street, Suite 410",
            "city": "Portland",
            "state": "OR",
            "postal_code": "972011234",
            "phone": "5035550100",
        },
    )
    stdout.write(f"Billing: payers {', '.join(PAYERS)} with {len(FEES)} fees each")
