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
DILUTE_SG = Decimal("1.003")  # ... and SG < 1.003 (and not substituted or invalid)
SUBSTITUTED_CREATININE = Decimal("2")  # creatinine < 2 mg/dL ...
SUBSTITUTED_SG_LOW = Decimal("1.0010")  # ... and SG <= 1.0010 ...
SUBSTITUTED_SG_HIGH = Decimal("1.0200")  # ... or SG >= 1.0200
# pH and nitrite as the lab or a point-of-care cup reads them.
PH_PHYSICAL = (Decimal("0"), Decimal("14"))
NITRITE_PHYSICAL = (Decimal("0"), Decimal("100000"))  # µg/mL
# Adulterated (HHS Mandatory Guidelines, urine, 2017, Subpart C; 49 CFR 40.95, 2023):
# pH < 4 or >= 11, nitrite >= 500 µg/mL, an oxidant (e.g. chromium VI, halogen,
# peroxide) present.
ADULTERATED_PH_LOW = Decimal("4")
ADULTERATED_PH_HIGH = Decimal("11")
ADULTERATED_NITRITE = Decimal("500")
# Invalid (HHS 2017, section 3.8; 49 CFR 40.96): pH >= 4 and < 4.5, or >= 9 and < 11;
# nitrite >= 200 and < 500 µg/mL; creatinine and SG that disagree (below).
INVALID_PH_LOW = Decimal("4.5")
INVALID_PH_HIGH = Decimal("9")
INVALID_NITRITE = Decimal("200")


class Validity:
    NORMAL = "normal"
    DILUTE = "dilute"
    SUBSTITUTED = "substituted"
    INVALID = "invalid"
    ADULTERATED = "adulterated"
    NOT_TESTED = "not_tested"
    LABELS = {
        NORMAL: "Normal",
        DILUTE: "Dilute",
        SUBSTITUTED: "Substituted",
        INVALID: "Invalid",
        ADULTERATED: "Adulterated",
        NOT_TESTED: "Not tested",
    }
    # The next collection is observed after any of these (HHS 2017 section 8.5;
    # 49 CFR 40.67(a)(1) for invalid).
    OBSERVE_NEXT = frozenset({DILUTE, SUBSTITUTED, INVALID, ADULTERATED})


class InvalidReason:
    """The lab's other reasons for an invalid result (HHS 2017, section 3.8), besides
    the creatinine/SG, pH and nitrite criteria the app computes itself."""

    NONE = ""
    IMMUNOASSAY_INTERFERENCE = "immunoassay_interference"
    CONFIRMATORY_INTERFERENCE = "confirmatory_interference"
    OXIDANT_BELOW_CUTOFF = "oxidant_below_cutoff"
    PHYSICAL_APPEARANCE = "physical_appearance"
    BOTTLES_DIFFER = "bottles_differ"
    CHOICES = [
        (NONE, "None reported"),
        (IMMUNOASSAY_INTERFERENCE, "Interference on the immunoassay (two aliquots)"),
        (CONFIRMATORY_INTERFERENCE, "Interference on the confirmatory test"),
        (OXIDANT_BELOW_CUTOFF, "Oxidant or adulterant found below its adulterated cutoff"),
        (PHYSICAL_APPEARANCE, "Abnormal physical appearance (testing not possible)"),
        (BOTTLES_DIFFER, "Bottles A and B clearly differ"),
    ]
    LABELS = dict(CHOICES)


@dataclass(frozen=True)
class SpecimenAssessment:
    validity: str
    reasons: tuple[str, ...] = ()


def assess_specimen(
    creatinine: Decimal | None,
    specific_gravity: Decimal | None,
    *,
    ph: Decimal | None = None,
    nitrite: Decimal | None = None,
    oxidant: bool | None = None,
    invalid_reason: str = "",
) -> SpecimenAssessment:
    """The specimen's validity class and the findings behind it, most serious first:
    adulterated, substituted, invalid, dilute, normal (or not tested when neither
    creatinine/SG nor any other validity test was read).

    - Adulterated (HHS 2017, Subpart C; 49 CFR 40.95): pH < 4 or >= 11, nitrite
      >= 500 µg/mL, or an oxidant present.
    - Substituted (49 CFR 40.88(b), 2023): creatinine < 2 mg/dL and SG
      <= 1.0010 or >= 1.0200.
    - Invalid (HHS 2017 s. 3.8; 49 CFR 40.96): creatinine < 2 mg/dL with SG > 1.0010
      and < 1.0200, or SG <= 1.0010 with creatinine >= 2 mg/dL (the two disagree);
      pH >= 4 and < 4.5, or >= 9 and < 11; nitrite >= 200 and < 500 µg/mL; or a reason
      the lab reports (``InvalidReason``).
    - Dilute (49 CFR 40.88(a), 2023): creatinine < 20 mg/dL and SG < 1.003,
      when none of the above.

    Worked examples: 1.9 mg/dL with SG 1.0199, 1.5/1.0020 and 10/1.0005 are invalid
    (before issue 21 the app called the first normal and the others dilute).
    """
    adulterated, invalid = [], []
    if ph is not None:
        if ph < ADULTERATED_PH_LOW or ph >= ADULTERATED_PH_HIGH:
            adulterated.append(f"pH {ph}")
        elif ph < INVALID_PH_LOW or ph >= INVALID_PH_HIGH:
            invalid.append(f"pH {ph}")
    if nitrite is not None:
        if nitrite >= ADULTERATED_NITRITE:
            adulterated.append(f"nitrite {nitrite} µg/mL")
        elif nitrite >= INVALID_NITRITE:
            invalid.append(f"nitrite {nitrite} µg/mL")
    if oxidant:
        adulterated.append("oxidant present")
    if adulterated:
        return SpecimenAssessment(Validity.ADULTERATED, tuple(adulterated))
    measured = creatinine is not None and specific_gravity is not None
    if measured:
        pair = f"creatinine {creatinine} mg/dL with SG {specific_gravity}"
        if creatinine < SUBSTITUTED_CREATININE and (
            specific_gravity <= SUBSTITUTED_SG_LOW or specific_gravity >= SUBSTITUTED_SG_HIGH
        ):
            return SpecimenAssessment(Validity.SUBSTITUTED, (pair,))
        if (creatinine < SUBSTITUTED_CREATININE) != (specific_gravity <= SUBSTITUTED_SG_LOW):
            invalid.insert(0, f"{pair} disagree")
    if invalid_reason:
        invalid.append(InvalidReason.LABELS.get(invalid_reason, invalid_reason))
    if invalid:
        return SpecimenAssessment(Validity.INVALID, tuple(invalid))
    if not measured:
        return SpecimenAssessment(Validity.NOT_TESTED)
    if creatinine < DILUTE_CREATININE and specific_gravity < DILUTE_SG:
        return SpecimenAssessment(
            Validity.DILUTE, (f"creatinine {creatinine} mg/dL with SG {specific_gravity}",)
        )
    return SpecimenAssessment(Validity.NORMAL)


def specimen_validity(
    creatinine: Decimal | None, specific_gravity: Decimal | None, **validity_tests
) -> str:
    """The validity class alone (see ``assess_specimen``)."""
    return assess_specimen(creatinine, specific_gravity, **validity_tests).validity


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
    ADULTERATED = "adulterated"
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
        (ADULTERATED, "Adulterated"),
        (INVALID, "Invalid"),
        (RECOLLECT, "Recollect under observation"),
        (NO_SHOW, "No-show"),
        (REFUSED, "Refused"),
        (INCOMPLETE, "Incomplete (confirmation due)"),
    ]
    LABELS = dict(CHOICES)
    # Outcomes that call for a follow-up item for the primary clinician.
    FOLLOW_UP = frozenset(
        {UNEXPECTED_POSITIVE, DILUTE, SUBSTITUTED, ADULTERATED, INVALID, RECOLLECT}
    )


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
    2. Substituted or adulterated: a refusal to test under DOT (49 CFR 40.191(b),
       2023), whatever the analytes say; for the clinic a follow-up and the next
       collection observed.
    3. A positive that no medication explains (EtG/EtS aside): unexpected positive,
       even while the lab confirms (a confirmed negative overturns it), and whatever
       the temperature or the validity: the first specimen is tested as well as the
       observed recollection (49 CFR 40.65(b)(6)), and a positive is a positive.
    4. Unexplained positives that are only EtG/EtS: needs clinical review.
    5. Temperature out of range or read late: recollect under observation (the
       first specimen's results are kept; its negatives clear nothing).
    6. No results yet: pending.
    7. An invalid specimen (HHS 2017 s. 3.8) or an analyte the lab could not read:
       invalid (49 CFR 40.67(a)(1): the next collection observed).
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
    if validity == Validity.ADULTERATED:
        return Outcome.ADULTERATED
    unexplained = [r for r in readings if reading_is_positive(r) and not r.expected]
    if any(not r.alcohol_marker for r in unexplained):
        return Outcome.UNEXPECTED_POSITIVE
    if unexplained:
        return Outcome.NEEDS_REVIEW
    if not temperature_ok:
        return Outcome.RECOLLECT
    if not readings:
        return Outcome.PENDING
    if validity == Validity.INVALID or any(r.outcome == AnalyteOutcome.INVALID for r in readings):
        return Outcome.INVALID
    if validity == Validity.DILUTE:
        return Outcome.DILUTE
    if any(reading_is_positive(r) for r in readings):
        return Outcome.EXPECTED_POSITIVE
    return Outcome.NEGATIVE


# --- MAT adherence -----------------------------------------------------------------------

# A MAT medication's parent drug and the metabolite the body makes of it. Negative for
# both: possible non-adherence or diversion; the parent without its metabolite: the
# drug was likely added to the cup (a spiked sample). SAMHSA TIP 63, "Medications for
# Opioid Use Disorder" (2021), part 3 (drug testing of patients on buprenorphine and
# methadone); ASAM "Appropriate Use of Drug Testing in Clinical Addiction Medicine"
# (2017), buprenorphine/norbuprenorphine and methadone/EDDP.
MAT_PAIRS = {
    "buprenorphine": ("buprenorphine", "norbuprenorphine"),
    "methadone": ("methadone", "eddp"),
}
MAT_NAMES = {"buprenorphine": "Buprenorphine", "methadone": "Methadone",
             "norbuprenorphine": "norbuprenorphine", "eddp": "EDDP"}  # fmt: skip


class MatFinding:
    ABSENT = "mat_absent"
    NO_METABOLITE = "mat_no_metabolite"


def mat_findings(agents, readings: list[AnalyteReading]) -> list[tuple[str, str]]:
    """(kind, words) for each MAT medication ``agents`` the screen contradicts.

    Only analytes on the panel and read (not invalid) count: a panel without
    buprenorphine says nothing about it.
    """
    by_code = {r.code: r for r in readings if r.outcome != AnalyteOutcome.INVALID}
    found = []
    for agent in sorted(set(agents) & set(MAT_PAIRS)):
        parent, metabolite = MAT_PAIRS[agent]
        on_panel = [code for code in (parent, metabolite) if code in by_code]
        if not on_panel:
            continue
        present = {code for code in on_panel if reading_is_positive(by_code[code])}
        if not present:
            found.append(
                (
                    MatFinding.ABSENT,
                    f"{MAT_NAMES[agent]} prescribed, not detected: possible non-adherence "
                    "or diversion",
                )
            )
        elif parent in present and metabolite in by_code and metabolite not in present:
            found.append(
                (
                    MatFinding.NO_METABOLITE,
                    f"{MAT_NAMES[parent]} without {MAT_NAMES[metabolite]}: possible "
                    "adulterated (spiked) sample",
                )
            )
    return found


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
