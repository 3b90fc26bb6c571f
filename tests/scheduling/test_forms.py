import pytest

from scheduling.forms import GroupChoiceField
from tests.scheduling.factories import GroupFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("taken", "words"), [(11, "1 seat left"), (10, "2 seats left")])
def test_seats_left_is_plural_only_when_more_than_one(taken, words):
    group = GroupFactory(capacity=12)
    group.taken = taken
    label = GroupChoiceField(queryset=None).label_from_instance(group)
    assert label.endswith(f"· {words}")
