"""Billing's part of seed_demo: the two payers with their fees, the program as billing
provider, the billing account and the clinicians' NPIs; running twice adds nothing."""

import io

import pytest
from django.contrib.auth.models import Group

from billing import demo
from billing.models import BillingProvider, Fee, Payer
from iop.accounts import demo as accounts_demo
from iop.accounts.models import Role, User
from iop.accounts.npi import is_valid

pytestmark = pytest.mark.django_db


def test_demo_payers_fees_provider_and_accounts_twice():
    # A transactional test elsewhere may have flushed the roles the migration made.
    for role in Role.values:
        Group.objects.get_or_create(name=role)
    for _ in range(2):
        accounts_demo.seed(stdout=io.StringIO())
        demo.seed(stdout=io.StringIO())
    assert dict(Payer.objects.values_list("code", "filing_indicator")) == {
        "DEMO-COMM": "CI",
        "DEMO-MCD": "MC",
    }
    assert Fee.objects.count() == 2 * len(demo.FEES)
    assert Fee.objects.get(payer__code="DEMO-COMM", code="H0015").amount == 275
    provider = BillingProvider.objects.get()
    assert is_valid(provider.npi) and len(provider.postal_code) == 9
    billing = User.objects.get(username="billing")
    assert billing.check_password(accounts_demo.DEMO_PASSWORD)
    assert billing.role_names == ["billing"]
    for username in accounts_demo.DEMO_NPI:
        assert is_valid(User.objects.get(username=username).npi)
