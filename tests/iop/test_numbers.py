"""Every percentage the app shows is rounded once, half up (iop.numbers.percent)."""

import pytest

from iop.numbers import percent
from screening.selectors import Statistics


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (1, 8, 13),
        (7, 8, 88),
        (3, 8, 38),
        (5, 8, 63),
        (1, 3, 33),
        (2, 3, 67),
        (1, 200, 1),
        (0, 5, 0),
    ],
)
def test_a_percentage_rounds_half_up_as_a_clinic_reads_it(part, whole, shown):
    # round() would give 12, 88, 38, 62: half to the even neighbour.
    assert percent(part, whole) == shown


def test_nothing_to_divide_is_no_figure_not_zero():
    assert percent(0, 0) == ""
    assert percent(3, 0, empty=None) is None


def test_the_screening_history_shows_one_negative_of_eight_as_13():
    assert Statistics(counted=8, negative=1).percent_negative == 13
    assert Statistics().percent_negative is None
