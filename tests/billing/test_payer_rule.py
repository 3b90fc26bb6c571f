"""scheduling.billing.billing_rule(payer) reads billing's Payer rows (registered by
billing at start-up), falling back to IOP_BILLING_RULES."""

from decimal import Decimal

import pytest

from scheduling.billing import H0015Rule, billing_rule, payer_choices
from tests.billing import factories as f

pytestmark = pytest.mark.django_db


def test_a_payer_row_is_the_rule(settings):
    f.payer(
        "STRICT-CO", "Strict Co", h0015_rule="client_week", min_hours=Decimal("3.5"), min_days=4
    )
    rule = billing_rule("STRICT-CO")
    assert (rule.label, rule.min_hours, rule.min_days, rule.h0015) == (
        "Strict Co",
        Decimal("3.50"),
        4,
        H0015Rule.CLIENT_WEEK,
    )
    assert ("STRICT-CO", "Strict Co (STRICT-CO)") in payer_choices()


def test_a_blank_rule_is_the_programs_and_unknown_falls_back_to_settings(settings):
    settings.IOP_H0015_RULE = "program_day"
    f.payer("PLAIN-CO", "Plain Co")
    assert billing_rule("PLAIN-CO").h0015 == H0015Rule.PROGRAM_DAY
    assert billing_rule().label == settings.IOP_BILLING_RULES["default"]["label"]
    with pytest.raises(KeyError):
        billing_rule("NOBODY")
