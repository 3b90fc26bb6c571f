"""Which attended days are billable as HCPCS H0015 (intensive outpatient, per diem).

The HCPCS Level II descriptor of H0015 (CMS, HCPCS code set): "alcohol and/or drug
services; intensive outpatient (treatment program that operates at least 3 hours/day and
at least 3 days/week and is based on an individualized treatment plan), including
assessment, counseling; crisis intervention, and activity therapies or education". It
describes the program, not what the client must attend; payers differ on that, so the
rule is the payer's:

- ``PROGRAM_DAY`` (the descriptor's, the default): any day the client attended a session
  (present, late, left early or telehealth) of a program that operates at least
  ``min_hours`` a day on at least ``min_days`` days a week. The program is the session
  group's track, as configured (``hours_per_session`` and ``days_per_week``: IOP 3 and
  IOP 6 qualify, outpatient and alumni do not).
- ``CLIENT_WEEK`` (a stricter payer's): the client attended at least ``min_hours`` that
  day, in a Monday-Sunday week with at least ``min_days`` such days.

Where a payer's rule lives: ``settings.IOP_BILLING_RULES`` keyed by the payer's id,
each with ``label``, ``min_hours``, ``min_days`` and an optional ``h0015_rule``; the
program's default is ``IOP_H0015_RULE``. Issue 22's Payer model takes this over by
giving ``billing_rule(payer)`` a row to read (an ``h0015_rule`` field with these
choices, blank meaning the program's default): the reports ask only ``billing_rule``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models


class H0015Rule(models.TextChoices):
    PROGRAM_DAY = "program_day", "Per day of a qualifying program (H0015 descriptor)"
    CLIENT_WEEK = "client_week", "Per client-week (3 h a day on 3 days that week)"


@dataclass(frozen=True)
class BillingRule:
    payer: str
    label: str
    min_hours: Decimal
    min_days: int
    h0015: H0015Rule

    @property
    def day_minutes(self) -> int:
        return int(self.min_hours * 60)


# The billing app's payers (issue 22): scheduling cannot import billing, so billing
# registers, at start-up, a lookup (code -> the rule's dict, or None when no payer has
# that code) and a listing ([(code, label)]) of its payers' rules.
_PAYER_LOOKUPS: list[Callable[[str], dict | None]] = []
_PAYER_LISTINGS: list[Callable[[], list[tuple[str, str]]]] = []


def register_payer_rules(
    lookup: Callable[[str], dict | None], listing: Callable[[], list[tuple[str, str]]]
) -> None:
    if lookup not in _PAYER_LOOKUPS:
        _PAYER_LOOKUPS.append(lookup)
        _PAYER_LISTINGS.append(listing)


def payer_choices() -> list[tuple[str, str]]:
    """Every payer rule a report may apply: the settings' (the program's default first),
    then each registered payer's whose code the settings do not name."""
    choices = [(code, rule["label"]) for code, rule in settings.IOP_BILLING_RULES.items()]
    named = {code for code, _ in choices}
    for listing in _PAYER_LISTINGS:
        choices += [(code, label) for code, label in listing() if code not in named]
    return choices


def billing_rule(payer: str = "default") -> BillingRule:
    """The payer's rule: a payer row (billing's Payer, by its code) when there is one,
    else ``IOP_BILLING_RULES`` (``KeyError`` for an unknown payer: the report form
    offers only the known ones)."""
    rule = None
    if payer != "default":
        rule = next((found for lookup in _PAYER_LOOKUPS if (found := lookup(payer))), None)
    if rule is None:
        rule = settings.IOP_BILLING_RULES[payer]
    return BillingRule(
        payer=payer,
        label=rule["label"],
        min_hours=Decimal(str(rule["min_hours"])),
        min_days=int(rule["min_days"]),
        h0015=H0015Rule(rule.get("h0015_rule") or settings.IOP_H0015_RULE),
    )
