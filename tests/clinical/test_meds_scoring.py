"""Scoring of every measure against hand-worked examples, band edges included."""

import pytest
from django.core.exceptions import ValidationError

from clinical.meds.measures import BAM, GAD7, PHQ9, band_label, score


def _answers(values):
    return {str(n): v for n, v in enumerate(values, start=1)}


# Hand-worked: 2+1+3+0+1+2+1+0+1 = 11, moderate, item 9 = 1 raises the flag.
def test_phq9_hand_worked_example():
    items, result = score("phq9", _answers([2, 1, 3, 0, 1, 2, 1, 0, 1]))
    assert (result.total, result.band, result.band_label) == (11, "moderate", "Moderate")
    assert result.safety_flag is True
    assert items == _answers([2, 1, 3, 0, 1, 2, 1, 0, 1])


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([0] * 9, 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1], 9, "mild"),
        ([2, 1, 1, 1, 1, 1, 1, 1, 1], 10, "moderate"),
        ([3, 3, 3, 3, 2, 0, 0, 0, 0], 14, "moderate"),
        ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderately_severe"),
        ([3, 3, 3, 3, 3, 3, 1, 0, 0], 19, "moderately_severe"),
        ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"),
        ([3] * 9, 27, "severe"),
    ],
)
def test_phq9_band_edges(values, total, band):
    _items, result = score("phq9", _answers(values))
    assert (result.total, result.band) == (total, band)


def test_phq9_item9_flag_is_independent_of_the_total():
    assert score("phq9", _answers([0] * 8 + [1]))[1].safety_flag is True
    assert score("phq9", _answers([0] * 8 + [1]))[1].band == "minimal"
    assert score("phq9", _answers([3] * 8 + [0]))[1].safety_flag is False


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ([0] * 7, 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),
        ([3, 3, 3, 0, 0, 0, 0], 9, "mild"),
        ([3, 3, 3, 1, 0, 0, 0], 10, "moderate"),
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),
        ([3, 2, 2, 2, 2, 2, 2], 15, "severe"),
        ([3] * 7, 21, "severe"),
    ],
)
def test_gad7_band_edges(values, total, band):
    _items, result = score("gad7", _answers(values))
    assert (result.total, result.band, result.safety_flag) == (total, band, False)


def _bam(**answers):
    base = {item.code: 0 for item in BAM.items if item.required}
    base.update({k.removeprefix("i"): v for k, v in answers.items()})
    return base


def test_bam_hand_worked_example():
    # Use 4+5+6 = 1+0+0 = 1 (any use: a concern); Risk 1+2+3+8+11+15 = 2+1+2+3+1+2 = 11
    # (below 12); Protective 9+10+12+13+14+16 = 2+4+0+4+4+3 = 17 (above 12). Items 7 and
    # 17 are not scored.
    items = _bam(
        i1=2, i2=1, i3=2, i4=1, i5=0, i6=0, i8=3, i9=2, i10=4, i11=1, i12=0, i13=4, i14=4,
        i15=2, i16=3, i17=4,
    )  # fmt: skip
    _items, result = score("bam", items)
    assert result.total is None
    assert result.subscores == {"use": 1, "risk": 11, "protective": 17}
    assert result.band == "use"
    assert result.band_label == "Any use"


def test_bam_cut_offs_at_their_edges():
    # Risk exactly 12 (6 items x 2) is high; Protective exactly 12 is low; no use.
    edge = _bam(i1=2, i2=2, i3=2, i8=2, i11=2, i15=2, i9=2, i10=2, i12=2, i13=2, i14=4, i16=0)
    assert score("bam", edge)[1].subscores == {"use": 0, "risk": 12, "protective": 12}
    assert score("bam", edge)[1].band == "risk,protective"
    # One point less risk, one point more protection: nothing past a cut-off.
    edge.update({"15": 1, "16": 1})
    _items, result = score("bam", edge)
    assert result.subscores == {"use": 0, "risk": 11, "protective": 13}
    assert result.band == "none"
    assert band_label("bam", result.band) == "No summary score past its cut-off"


def test_bam_item_7_elaborates_item_6_and_is_not_scored():
    items = _bam(i6=2, **{"7a": 4, "7e": 2})
    _items, result = score("bam", items)
    assert result.subscores["use"] == 2


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"4": 0, "5": 1}, "item_5", "Heavy-drinking days need drinking days"),
        ({"6": 0, "7b": 1}, "item_6", "item 6 cannot be 0"),
        ({"14": 2}, "item_14", "Choose an answer from 0 to 4"),
    ],
)
def test_bam_refuses_answers_its_form_does_not_allow(answers, field, message):
    with pytest.raises(ValidationError) as exc:
        score("bam", _bam(**{f"i{k}": v for k, v in answers.items()}))
    assert message in str(exc.value.message_dict[field])


@pytest.mark.parametrize("value", [4, -1, 30, "1", 1.0, True, None, "x" * 10_000, "\x00", 10**30])
def test_an_item_outside_its_scale_is_refused(value):
    answers = _answers([0] * 9)
    answers["3"] = value
    with pytest.raises(ValidationError) as exc:
        score("phq9", answers)
    assert "item_3" in exc.value.message_dict


def test_missing_and_unknown_items_are_refused():
    with pytest.raises(ValidationError) as exc:
        score("gad7", _answers([0] * 6))
    assert exc.value.message_dict == {"item_7": ["Answer this item."]}
    with pytest.raises(ValidationError):
        score("gad7", {**_answers([0] * 7), "8": 0})
    with pytest.raises(ValidationError):
        score("audit", _answers([0] * 7))


def test_every_instrument_has_its_published_item_count_and_range():
    assert [len(PHQ9.items), PHQ9.max_score] == [9, 27]
    assert [len(GAD7.items), GAD7.max_score] == [7, 21]
    # 17 BAM items: 1-6, 7 (as 7A-7G, optional, unscored), 8-17.
    assert len({item.code.rstrip("abcdefg") for item in BAM.items}) == 17
