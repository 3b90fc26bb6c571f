"""The result rules, stated once as plain functions (no database), so every path that
records a screen (form, admin, task, demo) reaches the same answer and the tests can
walk the edges.

Sources: specimen validity and temperature follow the HHS Mandatory Guidelines for
Federal Workplace Drug Testing (urine, 2017: dilute, substituted, 32-38 °C within
4 minutes); the breath-alcohol confirmation window follows 49 CFR 40.251-40.253
(a screen of 0.020 or more is confirmed no sooner than 15 minutes later; we close the
window at 30); EtG/EtS alone is a clinical question, not a violation (SAMHSA advisory,
"The Role of Biomarkers in the Treatment of Alcohol Use Disorders", 2012).
"""

import math
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# --- Urine specimen --------------------------------------------------------------------

# A specimen read outside this range is a typing slip (no urine is at 5 °C or 60 °C):
# refused. Inside it but outside 32-38 °C: out of range, recollect under observation.
TEMPERATURE_PHYSICAL = (Decimal("15.0"), Decimal("45.0"))
TEMPERATURE_ACCEPTED = (Decimal("32.0"), Decimal("38.0"))
TEMPERATURE_READ_MINUTES = 4
CREATININE_PHYSICAL = (Decimal("0"), Decimal("1000"))  # mg/dL
SPECIFIC_GRAVITY_PHYSICAL = (Decimal("0.9900"), Decimal("1.0800"))
DILUTE_CREATININE = Decimal("20")  # creatinine < 20 mg/dL ...
DILUTE_SG = Decimal("1.003")  # ... and SG < 1.003 (and not substituted)
SUBSTITUTED_CREATININE = Decimal("2")  # creatinine < 2 mg/dL ...
SUBSTITUTED_SG_LOW = Decimal("1.0010")  # ... and SG <= 1.0010 ...
SUBSTITUTED_SG_HIGH = Decimal("1.0200")  # ... or SG >= 1.0200


class Validity:
    NORMAL = "normal"
    DILUTE = "dilute"
    SUBSTITUTED = "substituted"
    NOT_TESTED = "not_tested"


def specimen_validity(creatinine: Decimal | None, specific_gravity: Decimal | None) -> str:
    """Dilute, substituted, normal, or not tested (either measure missing)."""
    if creatinine is None or specific_gravity is None:
        return Validity.NOT_TESTED
    if creatinine < SUBSTITUTED_CREATININE and (
        specific_gravity <= SUBSTITUTED_SG_LOW or specific_gravity >= SUBSTITUTED_SG_HIGH
    ):
        return Validity.SUBSTITUTED
    if creatinine < DILUTE_CREATININE and specific_gravity < DILUTE_SG:
        return Validity.DILUTE
    return Validity.NORMAL


class TemperatureUnit:
    """The unit a specimen's temperature is read in. It is stored in °C (the column's
    0.1 degree); a reading in °F is converted once, here."""

    CELSIUS = "C"
    FAHRENHEIT = "F"
    CHOICES = [(CELSIUS, "°C"), (FAHRENHEIT, "°F")]
    LABELS = dict(CHOICES)


def to_celsius(value: Decimal, unit: str) -> Decimal:
    """A reading in ``unit`` as °C to 0.1 degree, half up. The accepted window's bounds
    are exact both ways: 89.6 °F is 32.0 °C and 100.4 °F is 38.0 °C, and a reading a
    tenth of a degree F outside them stays outside (89.5 °F is 31.9 °C)."""
    if unit == TemperatureUnit.FAHRENHEIT:
        value = (value - 32) * 5 / 9
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def to_fahrenheit(value: Decimal) -> Decimal:
    return (value * 9 / 5 + 32).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def temperature_in_range(temperature: Decimal | None, read_in_time: bool) -> bool:
    """A temperature read late is no reading: the specimen is recollected, observed."""
    if temperature is None or not read_in_time:
        return False
    low, high = TEMPERATURE_ACCEPTED
    return low <= temperature <= high


class Outcome:
    """A screen's overall result (urine and breath share the words)."""

    PENDING = "pending"  # ordered, or collected with results not yet in
    NEGATIVE = "negative"
    EXPECTED_POSITIVE = "expected_positive"  # every positive explained by a medication
    UNEXPECTED_POSITIVE = "unexpected_positive"
    NEEDS_REVIEW = "needs_review"  # EtG/EtS alone
    DILUTE = "dilute"
    SUBSTITUTED = "substituted"
    INVALID = "invalid"
    RECOLLECT = "recollect"  # temperature out of range or read late
    NO_SHOW = "no_show"
    REFUSED = "refused"
    INCOMPLETE = "incomplete"  # breath: 0.020+ with no confirmation yet

    CHOICES = [
        (PENDING, "Pending"),
        (NEGATIVE, "Negative"),
        (EXPECTED_POSITIVE, "Expected positive (prescribed)"),
        (UNEXPECTED_POSITIVE, "Unexpected positive"),
        (NEEDS_REVIEW, "Needs clinical review (EtG/EtS alone)"),
        (DILUTE, "Dilute"),
        (SUBSTITUTED, "Substituted"),
        (INVALID, "Invalid"),
        (RECOLLECT, "Recollect under observation"),
        (NO_SHOW, "No-show"),
        (REFUSED, "Refused"),
        (INCOMPLETE, "Incomplete (confirmation due)"),
    ]
    LABELS = dict(CHOICES)
    # Outcomes that call for a follow-up item for the primary clinician.
    FOLLOW_UP = frozenset({UNEXPECTED_POSITIVE, DILUTE, SUBSTITUTED})


class AnalyteOutcome:
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INVALID = "invalid"
    CHOICES = [(NEGATIVE, "Negative"), (POSITIVE, "Positive"), (INVALID, "Invalid")]


class Confirmation:
    """The lab's confirmation of a positive immunoassay (GC-MS or LC-MS/MS)."""

    NONE = ""
    SENT = "sent"
    PENDING = "pending"
    CONFIRMED_POSITIVE = "confirmed_positive"
    CONFIRMED_NEGATIVE = "confirmed_negative"
    CHOICES = [
        (NONE, "Not sent"),
        (SENT, "Sent to the lab"),
        (PENDING, "Pending at the lab"),
        (CONFIRMED_POSITIVE, "Confirmed positive"),
        (CONFIRMED_NEGATIVE, "Confirmed negative"),
    ]
    FINAL = frozenset({CONFIRMED_POSITIVE, CONFIRMED_NEGATIVE})
    # The order a specimen moves in; a final state is not changed again.
    ORDER = {NONE: 0, SENT: 1, PENDING: 2, CONFIRMED_POSITIVE: 3, CONFIRMED_NEGATIVE: 3}


@dataclass(frozen=True)
class AnalyteReading:
    code: str
    outcome: str  # AnalyteOutcome
    expected: bool = False  # made expected by an active medication on the day
    alcohol_marker: bool = False  # EtG or EtS
    confirmation: str = Confirmation.NONE


def reading_is_positive(reading: AnalyteReading) -> bool:
    """Positive on the immunoassay and not overturned by the lab."""
    return (
        reading.outcome == AnalyteOutcome.POSITIVE
        and reading.confirmation != Confirmation.CONFIRMED_NEGATIVE
    )


def urine_outcome(
    *,
    collected: bool,
    status: str = "",
    temperature_ok: bool = True,
    validity: str = Validity.NOT_TESTED,
    readings: list[AnalyteReading] = (),
) -> str:
    """The overall result of a urine screen, in order of precedence.

    1. Not collected: no-show, refused, or pending.
    2. Substituted: a refusal to test in HHS terms, whatever the analytes say.
    3. Temperature out of range or read late: recollect under observation.
    4. No results yet: pending.
    5. A positive that no medication explains (EtG/EtS aside): unexpected positive,
       even while the lab confirms (a confirmed negative overturns it).
    6. Unexplained positives that are only EtG/EtS: needs clinical review.
    7. An analyte the lab could not read: invalid.
    8. Dilute: negative-dilute (or expected-only dilute), recollect observed next time.
    9. Only positives a medication explains: expected positive.
    10. Negative.
    """
    if status in (Outcome.NO_SHOW, Outcome.REFUSED):
        return status
    if not collected:
        return Outcome.PENDING
    if validity == Validity.SUBSTITUTED:
        return Outcome.SUBSTITUTED
    if not temperature_ok:
        return Outcome.RECOLLECT
    if not readings:
        return Outcome.PENDING
    unexplained = [r for r in readings if reading_is_positive(r) and not r.expected]
    if any(not r.alcohol_marker for r in unexplained):
        return Outcome.UNEXPECTED_POSITIVE
    if unexplained:
        return Outcome.NEEDS_REVIEW
    if any(r.outcome == AnalyteOutcome.INVALID for r in readings):
        return Outcome.INVALID
    if validity == Validity.DILUTE:
        return Outcome.DILUTE
    if any(reading_is_positive(r) for r in readings):
        return Outcome.EXPECTED_POSITIVE
    return Outcome.NEGATIVE


# --- Breath alcohol --------------------------------------------------------------------

BAC_RANGE = (Decimal("0.000"), Decimal("0.400"))  # g/210 L; outside is refused
BAC_POSITIVE = Decimal("0.020")
CONFIRM_AFTER_MINUTES = (15, 30)


def breath_outcome(screen_bac: Decimal, confirm_bac: Decimal | None) -> str:
    """Below 0.020: negative. At or above: incomplete until confirmed; the confirmation
    governs (a confirmation under 0.020 makes the test negative)."""
    if screen_bac < BAC_POSITIVE:
        return Outcome.NEGATIVE
    if confirm_bac is None:
        return Outcome.INCOMPLETE
    return Outcome.UNEXPECTED_POSITIVE if confirm_bac >= BAC_POSITIVE else Outcome.NEGATIVE


# --- Random selection ------------------------------------------------------------------


def daily_probability(tests_per_week: Decimal | float, min_gap_days: int) -> float:
    """The chance to draw on each eligible day so that the long-run rate is the policy's.

    After a test a client is not eligible for ``min_gap_days - 1`` days; from then on
    each day is drawn with probability p, so the mean time between tests is
    ``(g - 1) + 1/p`` days. Setting it to ``7 / tests_per_week`` gives
    ``p = r / (1 - r (g - 1))`` with ``r = tests_per_week / 7``. The draw is
    memoryless once eligible (a geometric wait), so neither the weekday nor the days
    since the last test tell a client when the next one comes, beyond the gap itself.
    """
    rate = float(tests_per_week) / 7
    if rate <= 0:
        return 0.0
    denominator = 1 - rate * (min_gap_days - 1)
    if denominator <= 0 or rate / denominator > 1:
        raise ValueError("The gap leaves no room for that many tests a week.")
    return rate / denominator


def policy_problem(tests_per_week: Decimal, min_gap_days: int) -> str | None:
    """The message for a policy no draw can meet, or None."""
    if tests_per_week < 0 or tests_per_week > 7:
        return "Tests a week must be between 0 and 7."
    if min_gap_days < 1 or min_gap_days > 14:
        return "The minimum gap must be between 1 and 14 days."
    if tests_per_week > 0 and tests_per_week * min_gap_days > 7:
        return (
            f"{tests_per_week} tests a week cannot keep {min_gap_days} days apart; "
            "lower one of them."
        )
    return None


_SYSTEM_RANDOM = secrets.SystemRandom()


def draw(*, probability: float, days_since_last: int | None, min_gap_days: int, rng=None) -> bool:
    """Whether today is a test day: never inside the gap, otherwise a fair coin of
    ``probability`` from the operating system's random source (``secrets``), which no
    one can reproduce from the calendar or from earlier draws."""
    if days_since_last is not None and days_since_last < min_gap_days:
        return False
    rng = rng or _SYSTEM_RANDOM
    return rng.random() < probability


def simulate(
    *, days: int, tests_per_week: Decimal | float, min_gap_days: int, rng=None
) -> list[int]:
    """Day indexes drawn over ``days`` days for one client (the tests' simulation)."""
    probability = daily_probability(tests_per_week, min_gap_days)
    drawn, last = [], None
    for day in range(days):
        since = None if last is None else day - last
        if draw(probability=probability, days_since_last=since, min_gap_days=min_gap_days, rng=rng):
            drawn.append(day)
            last = day
    return drawn


def chi_square_uniform(counts: list[int]) -> tuple[float, float]:
    """Pearson's chi-square of ``counts`` against equal expected counts, and its p-value.

    The p-value is the upper tail of the chi-square distribution with k - 1 degrees of
    freedom; for even degrees of freedom it has a closed form:
    ``P = exp(-x/2) * sum_{i < dof/2} (x/2)^i / i!`` (6 dof for the weekdays).
    """
    total = sum(counts)
    expected = total / len(counts)
    statistic = sum((c - expected) ** 2 / expected for c in counts)
    dof = len(counts) - 1
    if dof % 2:
        raise ValueError("The closed form needs an even number of degrees of freedom.")
    half = statistic / 2
    p_value = math.exp(-half) * sum(half**i / math.factorial(i) for i in range(dof // 2))
    return statistic, p_value
