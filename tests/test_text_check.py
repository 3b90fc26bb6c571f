"""Free text has one check (iop.forms): a NUL character or an overlong text is refused
with the same words whichever form, or service behind it, takes the text."""

from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.models import SupportContact
from clients.services import emergency_reason_problem
from iop.forms import NUL_MESSAGE, clean_text, text_problem, too_long_message
from screening.models import ScreenFollowUp
from screening.services import selection_void
from tests.screening.factories import enrolled_client, screen_with, selection_for

pytestmark = pytest.mark.django_db

NUL = "Lee\x00Park"
LONG = "x" * 10_000


def test_the_messages_say_what_to_do():
    assert text_problem("fine", 10) is None
    assert text_problem("a\x00b", 10) == NUL_MESSAGE
    assert "null character" in NUL_MESSAGE and "remove it" in NUL_MESSAGE
    assert text_problem(LONG, 200) == "Keep this to at most 200 characters (it has 10000)."
    assert text_problem(LONG, None) is None  # no limit: only the NUL check
    assert clean_text("  kept  ", field="f", limit=10) == "kept"
    with pytest.raises(ValidationError) as refused:
        clean_text("a\x00", field="problems", limit=10, label="Problem 2, goal")
    assert refused.value.message_dict == {"problems": [f"Problem 2, goal: t{NUL_MESSAGE[1:]}"]}


def _errors(response) -> str:
    return unescape(response.content.decode())


@pytest.mark.parametrize(
    ("text", "follow_up_message", "contact_message"),
    [
        (NUL, NUL_MESSAGE, NUL_MESSAGE),
        (LONG, too_long_message(4000, 10_000), too_long_message(120, 10_000)),
    ],
    ids=["nul", "10,000 characters"],
)
def test_two_different_forms_refuse_the_same_text_with_the_same_message(
    text, follow_up_message, contact_message, clinician, medical_user, client_as
):
    person = enrolled_client(clinician)
    screen_with(person, medical_user, cocaine=("positive", None))
    item = ScreenFollowUp.objects.get()
    web = client_as(clinician)
    # A plain form (screening: acknowledge a follow-up) ...
    follow_up = web.post(
        reverse("screening:follow_up_acknowledge", args=[item.public_id]),
        {"note": text, "next": "dashboard"},
    )
    # ... and a model form (clients: a support contact).
    contact = web.post(
        reverse("clients:contact_add", args=[person.public_id]),
        {"name": text, "relationship": "Sponsor", "phone": "6175550134"},
    )
    assert follow_up.status_code == contact.status_code == 400
    assert follow_up_message in _errors(follow_up)
    assert contact_message in _errors(contact)
    item.refresh_from_db()
    assert item.is_open
    assert not SupportContact.objects.exists()
    # Django's own words are not shown beside them.
    for response in (follow_up, contact):
        assert "Null characters are not allowed" not in _errors(response)
        assert "Ensure this value has at most" not in _errors(response)


def test_the_services_say_the_same_as_the_forms(clinician, admin_user):
    """A service refuses on every path (a form, a command, a test): same words."""
    selection = selection_for(enrolled_client(clinician))
    with pytest.raises(ValidationError) as refused:
        selection_void(selection=selection, reason="Court\x00date", actor=admin_user)
    assert refused.value.message_dict == {"reason": [NUL_MESSAGE]}
    with pytest.raises(ValidationError) as refused:
        selection_void(selection=selection, reason=LONG, actor=admin_user)
    assert refused.value.message_dict == {"reason": [too_long_message(200, 10_000)]}
    assert emergency_reason_problem("client collapsed, paramedics ask\x00") == NUL_MESSAGE
    assert emergency_reason_problem(LONG) == too_long_message(1000, 10_000)
