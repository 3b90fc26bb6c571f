"""Payers, fee schedules and the billing provider through their pages."""

import pytest
from django.urls import reverse

from billing.models import BillingProvider, Fee, Payer
from iop.audit.models import AuditEvent
from tests.billing import factories as f

pytestmark = pytest.mark.django_db

PAYER = {
    "code": "acme-1",
    "name": "Acme Health",
    "payer_id": "ACME01",
    "filing_indicator": "CI",
    "h0015_rule": "",
    "min_hours": "3",
    "min_days": "3",
    "state": "or",
    "postal_code": "97201-1234",
    "active": "on",
}


def test_admin_adds_a_payer_and_its_fees_billing_reads_them(client_as, admin_user, billing_user):
    web = client_as(admin_user)
    response = web.post(reverse("billing:payer_add"), PAYER)
    assert response.status_code == 302
    payer = Payer.objects.get()
    assert (payer.code, payer.state, payer.postal_code) == ("ACME-1", "OR", "972011234")
    # The same code again: refused in words, nothing added.
    again = web.post(reverse("billing:payer_add"), PAYER)
    assert again.status_code == 400
    assert "exists already" in again.content.decode()
    url = reverse("billing:payer", args=["ACME-1"])
    fee = {"code": "h0015", "modifier": "", "amount": "250.00", "effective_on": "2026-01-01"}
    assert web.post(url, fee).status_code == 302
    twice = web.post(url, fee)
    assert twice.status_code == 400 and "already has a fee from that day" in twice.content.decode()
    assert Fee.objects.get().code == "H0015"
    for bad in ({"amount": "-5"}, {"code": "H0"}, {"modifier": "GTX"}, {"amount": "9" * 40}):
        assert web.post(url, {**fee, "effective_on": "2026-02-01", **bad}).status_code == 400
    assert Fee.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="billing.").count() == 2
    # Billing reads the payer and its fees, and adds none.
    billing = client_as(billing_user)
    page = billing.get(url).content.decode()
    assert "Acme Health" in page and "250.00" in page and 'name="amount"' not in page
    assert billing.post(url, {**fee, "effective_on": "2026-03-01"}).status_code == 404
    assert billing.get(reverse("billing:payer_add")).status_code == 403


@pytest.mark.parametrize(
    "bad",
    [
        {"code": "x" * 10_000},
        {"name": "A\x00"},
        {"min_days": "9"},
        {"min_hours": "9" * 40},
        {"payer_id": "a b"},
    ],
)
def test_bad_payer_input_is_a_message_and_nothing_saved(client_as, admin_user, bad):
    response = client_as(admin_user).post(reverse("billing:payer_add"), {**PAYER, **bad})
    assert response.status_code == 400
    assert not Payer.objects.exists()


def test_billing_provider_npi_check_digit(client_as, billing_user):
    web = client_as(billing_user)
    form = {
        "name": "Harbor IOP",
        "npi": "1234567890",
        "tax_id": "99-0000001",
        "taxonomy": "261qr0405x",
        "address_line1": "200 Harbor Street",
        "city": "Portland",
        "state": "OR",
        "postal_code": "97201-1234",
        "phone": "(503) 555-0100",
    }
    response = web.post(reverse("billing:provider"), form)
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert not BillingProvider.objects.exists()
    assert web.post(reverse("billing:provider"), {**form, "npi": "1234567893"}).status_code == 302
    provider = BillingProvider.objects.get()
    assert (provider.tax_id, provider.taxonomy, provider.postal_code, provider.phone) == (
        "990000001",
        "261QR0405X",
        "972011234",
        "5035550100",
    )
    # Saved again: still one row.
    assert (
        web.post(
            reverse("billing:provider"), {**form, "npi": "1234567893", "city": "Salem"}
        ).status_code
        == 302
    )
    assert BillingProvider.objects.get().city == "Salem"


def test_payer_list_query_bound(client_as, billing_user, django_assert_max_num_queries):
    for n in range(3):
        f.fee(f.payer(f"P-{n}", f"Payer {n}"))
    web = client_as(billing_user)
    web.get(reverse("billing:payers"))
    with django_assert_max_num_queries(12) as few:
        web.get(reverse("billing:payers"))
    for n in range(3, 12):
        f.fee(f.payer(f"P-{n}", f"Payer {n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Payer 11" in web.get(reverse("billing:payers")).content.decode()
