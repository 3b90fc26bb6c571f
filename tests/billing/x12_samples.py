"""Plain 837P/835 data for the pure writer and parser tests."""

from datetime import date, datetime
from decimal import Decimal

from billing.x12 import p835, p837

ADDRESS = p837.Address("1 Main St", "Springfield", "IL", "627011234")
PROVIDER = p837.BillingProvider("IOP Clinic", "1234567893", "123456789", "261QR0405X", ADDRESS)
COMM = p837.Payer("Demo Commercial", "DEMO1", "CI")


def claim(number="C000000001", lines=None, **kwargs):
    fields = {
        "number": number,
        "subscriber": p837.Person("Doé", "Jane", date(1980, 1, 2), "F", ADDRESS),
        "member_id": "M123",
        "payer": COMM,
        "place_of_service": "11",
        "principal_diagnosis": "F10.20",
        "other_diagnoses": ["F11.20"],
        "prior_authorization": "AUTH-1",
        "rendering": p837.Provider("Smith", "Ann", "1245319599", "101YA0400X"),
        "lines": lines
        or [
            p837.Line("H0015", Decimal("150.00"), date(2026, 11, 2), control_number="L1"),
            p837.Line(
                "90834",
                Decimal("120.50"),
                date(2026, 11, 3),
                modifiers=("95",),
                place_of_service="10",
                control_number="L2",
            ),
        ],
    }
    fields.update(kwargs)
    return p837.Claim(**fields)


def interchange(claims, **kwargs):
    fields = {
        "sender_id": "IOPCLINIC",
        "receiver_id": "DEMOCLEAR",
        "isa_control": 12,
        "gs_control": 12,
        "st_control": 1,
        "created": datetime(2026, 12, 1, 9, 30),
        "submitter": p837.Submitter("IOP Clinic", "IOP123", "Billing Office", "217-555-1234"),
        "receiver": p837.Receiver("Demo Clearinghouse", "DEMOCLEAR"),
        "billing_provider": PROVIDER,
        "claims": claims,
    }
    fields.update(kwargs)
    return p837.Interchange(**fields)


def payment(claims, **kwargs):
    fields = {
        "control_number": "0001",
        "handling": "I",
        "total_paid": sum((c.paid for c in claims), Decimal("0")),
        "credit_debit": "C",
        "method": "ACH",
        "paid_on": date(2026, 12, 10),
        "trace_number": "EFT-1001",
        "originator": "1999999999",
        "payer_name": "Demo Commercial",
        "payer_id": "DEMO1",
        "payee_name": "IOP Clinic",
        "payee_id": "1234567893",
        "claims": claims,
    }
    fields.update(kwargs)
    return p835.Payment(**fields)


def paid_and_denied(number="C000000001"):
    """Line L1 paid 100 of 150 (CO-45 30, PR-2 20), line L2 denied CO-197 with N54."""
    return p835.ClaimPayment(
        number=number,
        status="1",
        charge=Decimal("270.50"),
        paid=Decimal("100.00"),
        patient_responsibility=Decimal("20.00"),
        filing_indicator="12",
        patient_last_name="Doe",
        patient_first_name="Jane",
        member_id="M123",
        lines=[
            p835.ServiceLine(
                "H0015", (), Decimal("150"), Decimal("100"), Decimal("1"), date(2026, 11, 2), "L1",
                Decimal("120"),
                [
                    p835.Adjustment("CO", "45", Decimal("30")),
                    p835.Adjustment("PR", "2", Decimal("20")),
                ],
                ["N130"],
            ),
            p835.ServiceLine(
                "90834", ("95",), Decimal("120.50"), Decimal("0"), Decimal("1"), date(2026, 11, 3),
                "L2", None, [p835.Adjustment("CO", "197", Decimal("120.50"))], ["N54"],
            ),
        ],
    )  # fmt: skip


def render_835(payment_, isa_control=7):
    return p835.render(
        payment_,
        sender_id="DEMO1",
        receiver_id="IOPCLINIC",
        isa_control=isa_control,
        created=datetime(2026, 12, 10, 8, 0),
    )
