"""The result rules and the randomness of the draw, without a database."""

import random
import secrets
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from screening import rules
from screening.rules import AnalyteReading, Confirmation, Outcome, Validity

D = Decimal

# --- Specimen validity (HHS: dilute, substituted) -------------------------------------------


@pytest.mark.parametrize(
    ("creatinine", "gravity", "validity"),
    [
        (D("120"), D("1.0150"), Validity.NORMAL),
        (D("19.9"), D("1.0029"), Validity.DILUTE),
        (D("20"), D("1.0029"), Validity.NORMAL),  # creatinine at 20 is not < 20
        (D("19.9"), D("1.0030"), Validity.NORMAL),  # SG at 1.003 is not < 1.003
        (D("2"), D("1.0011"), Validity.DILUTE),  # creatinine 2 is not < 2, SG > 1.0010
        (D("1.9"), D("1.0010"), Validity.SUBSTITUTED),  # SG <= 1.0010
        (D("1.9"), D("1.0200"), Validity.SUBSTITUTED),  # SG >= 1.0200
        # Invalid: creatinine and SG disagree (HHS 2017 s. 3.8; 49 CFR 40.96). The
        # issue's worked examples: 1.9/1.0199 was normal, 1.5/1.0020 and 10/1.0005 dilute.
        (D("1.9"), D("1.0199"), Validity.INVALID),
        (D("1.5"), D("1.0020"), Validity.INVALID),
        (D("10"), D("1.0005"), Validity.INVALID),
        (D("1.9"), D("1.0011"), Validity.INVALID),  # the edges of the SG band
        (D("2"), D("1.0010"), Validity.INVALID),  # SG <= 1.0010 with creatinine >= 2
        (None, D("1.0100"), Validity.NOT_TESTED),
        (D("50"), None, Validity.NOT_TESTED),
    ],
)
def test_specimen_validity_at_the_edges(creatinine, gravity, validity):
    assert rules.specimen_validity(creatinine, gravity) == validity


@pytest.mark.parametrize(
    ("temperature", "in_time", "ok"),
    [
        (D("32.0"), True, True),
        (D("38.0"), True, True),
        (D("31.9"), True, False),
        (D("38.1"), True, False),
        (D("35.0"), False, False),  # read late: no reading
        (None, True, False),
    ],
)
def test_temperature_window(temperature, in_time, ok):
    assert rules.temperature_in_range(temperature, in_time) is ok


# --- The overall result ------------------------------------------------------------------------


def _r(code, outcome="negative", **kwargs):
    return AnalyteReading(code=code, outcome=outcome, **kwargs)


NEG = [_r("thc"), _r("cocaine"), _r("buprenorphine"), _r("etg")]


@pytest.mark.parametrize(
    ("kwargs", "outcome"),
    [
        ({"collected": False}, Outcome.PENDING),
        ({"collected": False, "status": "no_show"}, Outcome.NO_SHOW),
        ({"collected": False, "status": "refused"}, Outcome.REFUSED),
        ({"collected": True}, Outcome.PENDING),  # collected, no results yet
        ({"collected": True, "readings": NEG}, Outcome.NEGATIVE),
        (
            {"collected": True, "readings": [_r("buprenorphine", "positive", expected=True)]},
            Outcome.EXPECTED_POSITIVE,
        ),
        (
            {"collected": True, "readings": [_r("buprenorphine", "positive", expected=False)]},
            Outcome.UNEXPECTED_POSITIVE,
        ),
        (
            {
                "collected": True,
                "readings": [
                    _r("buprenorphine", "positive", expected=True),
                    _r("cocaine", "positive"),
                ],
            },
            Outcome.UNEXPECTED_POSITIVE,
        ),
        # EtG/EtS alone: clinical review, never an automatic violation (SAMHSA).
        (
            {
                "collected": True,
                "readings": [
                    _r("etg", "positive", alcohol_marker=True),
                    _r("ets", "positive", alcohol_marker=True),
                ],
            },
            Outcome.NEEDS_REVIEW,
        ),
        (
            {
                "collected": True,
                "readings": [_r("etg", "positive", alcohol_marker=True), _r("thc", "positive")],
            },
            Outcome.UNEXPECTED_POSITIVE,
        ),
        # A confirmed negative overturns the immunoassay; pending confirmation does not.
        (
            {
                "collected": True,
                "readings": [
                    _r("cocaine", "positive", confirmation=Confirmation.CONFIRMED_NEGATIVE)
                ],
            },
            Outcome.NEGATIVE,
        ),
        (
            {
                "collected": True,
                "readings": [_r("cocaine", "positive", confirmation=Confirmation.PENDING)],
            },
            Outcome.UNEXPECTED_POSITIVE,
        ),
        ({"collected": True, "readings": [_r("thc", "invalid")]}, Outcome.INVALID),
        (
            {"collected": True, "validity": Validity.DILUTE, "readings": NEG},
            Outcome.DILUTE,
        ),
        (
            {
                "collected": True,
                "validity": Validity.DILUTE,
                "readings": [_r("cocaine", "positive")],
            },
            Outcome.UNEXPECTED_POSITIVE,  # a positive shows through a dilute specimen
        ),
        (
            {
                "collected": True,
                "validity": Validity.SUBSTITUTED,
                "readings": [_r("cocaine", "positive")],
            },
            Outcome.SUBSTITUTED,
        ),
        ({"collected": True, "temperature_ok": False, "readings": NEG}, Outcome.RECOLLECT),
    ],
)
def test_overall_urine_result(kwargs, outcome):
    assert rules.urine_outcome(**kwargs) == outcome


# --- Breath alcohol -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("screen", "confirm", "outcome"),
    [
        (D("0.000"), None, Outcome.NEGATIVE),
        (D("0.019"), None, Outcome.NEGATIVE),
        (D("0.020"), None, Outcome.INCOMPLETE),
        (D("0.020"), D("0.020"), Outcome.UNEXPECTED_POSITIVE),
        (D("0.060"), D("0.019"), Outcome.NEGATIVE),  # the confirmation governs
        (D("0.400"), D("0.310"), Outcome.UNEXPECTED_POSITIVE),
    ],
)
def test_breath_result(screen, confirm, outcome):
    assert rules.breath_outcome(screen, confirm) == outcome


# --- Policies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_week", "gap", "probability"),
    [(2, 2, 0.4), (1, 3, 0.2), (1, 1, 1 / 7), (D("0.5"), 3, 1 / 12), (7, 1, 1.0), (0, 2, 0.0)],
)
def test_daily_probability_meets_the_weekly_rate(per_week, gap, probability):
    assert rules.daily_probability(per_week, gap) == pytest.approx(probability)


@pytest.mark.parametrize(
    ("per_week", "gap", "problem"),
    [
        (D("2"), 2, None),
        (D("3"), 3, "cannot keep 3 days apart"),
        (D("8"), 1, "between 0 and 7"),
        (D("1"), 0, "between 1 and 14"),
        (D("1"), 15, "between 1 and 14"),
    ],
)
def test_impossible_policies_are_refused(per_week, gap, problem):
    message = rules.policy_problem(per_week, gap)
    assert (message is None) if problem is None else (problem in message)


# --- Randomness over 10,000 simulated days ------------------------------------------------------

DAYS = 10_000
START = date(2026, 1, 5)  # a Monday: day i is weekday i % 7
# Chi-square critical values for 6 degrees of freedom.
CRITICAL_P05 = 12.592
CRITICAL_P001 = 22.458


def _weekday_counts(drawn):
    counts = Counter((START + timedelta(days=day)).weekday() for day in drawn)
    return [counts.get(weekday, 0) for weekday in range(7)]


POLICIES = [(D(2), 2), (D(1), 3)]


@pytest.mark.parametrize(("per_week", "gap"), POLICIES, ids=["iop6", "iop3"])
def test_seeded_simulation_rate_weekdays_and_gap(per_week, gap):
    """Reproducible: a seeded generator stands in for the system's, the draw is the
    same code. Reported in the issue note: statistic, p-value, rate."""
    drawn = rules.simulate(
        days=DAYS, tests_per_week=per_week, min_gap_days=gap, rng=random.Random(20261124)
    )
    rate = len(drawn) / DAYS * 7
    assert rate == pytest.approx(float(per_week), rel=0.05)
    statistic, p_value = rules.chi_square_uniform(_weekday_counts(drawn))
    print(f"policy {per_week}/week gap {gap}: {len(drawn)} tests, {rate:.3f}/week, "
          f"chi2={statistic:.2f}, p={p_value:.3f}")  # fmt: skip
    assert statistic < CRITICAL_P05 and p_value > 0.05
    assert min(b - a for a, b in zip(drawn, drawn[1:], strict=False)) >= gap


@pytest.mark.parametrize(("per_week", "gap"), POLICIES, ids=["iop6", "iop3"])
def test_system_random_simulation_rate_weekdays_and_gap(per_week, gap):
    """The production source (``secrets.SystemRandom``): unseeded, so the weekday test
    is held to p = 0.001 to keep a fair draw from failing one run in twenty."""
    drawn = rules.simulate(days=DAYS, tests_per_week=per_week, min_gap_days=gap)
    assert len(drawn) / DAYS * 7 == pytest.approx(float(per_week), rel=0.06)
    statistic, _p = rules.chi_square_uniform(_weekday_counts(drawn))
    assert statistic < CRITICAL_P001
    assert min(b - a for a, b in zip(drawn, drawn[1:], strict=False)) >= gap


def test_the_next_test_day_cannot_be_inferred_from_the_last():
    """Once the gap has passed, each day's chance is the same however long it has been
    (a geometric wait): the hazard at gap, gap+1, ... is the policy's probability."""
    per_week, gap = D(2), 2
    probability = rules.daily_probability(per_week, gap)
    drawn = rules.simulate(
        days=200_000, tests_per_week=per_week, min_gap_days=gap, rng=random.Random(7)
    )
    waits = Counter(b - a for a, b in zip(drawn, drawn[1:], strict=False))
    at_risk = sum(waits.values())
    for wait in range(gap, gap + 5):
        hazard = waits[wait] / at_risk
        assert hazard == pytest.approx(probability, abs=0.02)
        at_risk -= waits[wait]


def test_the_draw_uses_the_operating_systems_random_source():
    assert isinstance(rules._SYSTEM_RANDOM, secrets.SystemRandom)


def test_chi_square_p_value_matches_known_values():
    # 6 dof: critical 12.592 at p = 0.05, 16.812 at p = 0.01.
    assert rules.chi_square_uniform([100] * 7) == (0.0, pytest.approx(1.0))
    half = CRITICAL_P05 / 2
    p = rules.math.exp(-half) * sum(half**i / rules.math.factorial(i) for i in range(3))
    assert p == pytest.approx(0.05, abs=1e-3)


def test_inside_the_gap_nothing_is_drawn():
    always = random.Random(1)
    always.random = lambda: 0.0
    assert not rules.draw(probability=1.0, days_since_last=1, min_gap_days=2, rng=always)
    assert rules.draw(probability=1.0, days_since_last=2, min_gap_days=2, rng=always)
    assert rules.draw(probability=1.0, days_since_last=None, min_gap_days=2, rng=always)
