"""``access.can(action)``: a page shows a button only to whom its target would answer,
and the rule behind each action is clients/access.py's (issue 17)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import services
from clients.access import ACTIONS, Action, Purpose, may
from clinical.notes.services import appointment_note_save, note_sign
from tests.clinical.notes_factories import individual_content, past_appointment
from tests.clock import at
from tests.iop.factories import PASSWORD, UserFactory
from tests.screening.factories import enrolled_client, selection_for

pytestmark = pytest.mark.django_db

SCREEN_BUTTONS = ("Collect urine", "Breath test", ">No-show<", ">Refused<")


def test_every_action_is_in_the_table():
    assert set(Action.ALL) == set(ACTIONS)
    # Writing clinical content is one named thing: the care team's EDIT and CLINICAL.
    assert ACTIONS[Action.WRITE_CLINICAL].purposes == Purpose.CLINICAL_WRITE
    assert ACTIONS[Action.RECORD_SCREEN].purposes == Purpose.CLINICAL_WRITE


@pytest.fixture
def screening_day(clinician, medical_user, intake_user):
    client = enrolled_client(clinician, actor=intake_user)
    services.care_team_add(client=client, staff=medical_user, role="prescriber", actor=intake_user)
    selection = selection_for(client)
    return client, selection


def _links_answer(web, html, selection, client):
    """Each screen button that is shown opens for the person who sees it."""
    targets = []
    if "Collect urine" in html:
        targets.append(reverse("screening:selection_collect", args=[selection.public_id]))
    if "Breath test" in html:
        targets.append(reverse("screening:breath_new", args=[client.public_id]))
    for url in targets:
        assert web.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "who, buttons, void",
    [
        ("clinician", True, False),  # primary clinician: the care team records screens
        ("medical_user", True, False),  # prescriber on the team
        ("supervisor", False, False),  # reads through the supervisee, never collects
        ("admin_user", True, True),
    ],
)
def test_screens_today_offers_the_buttons_only_to_whom_they_open(
    who, buttons, void, screening_day, client_as, request
):
    client, selection = screening_day
    user = request.getfixturevalue(who)
    web = client_as(user)
    html = web.get(reverse("screening:collection_list")).content.decode()
    assert client.mrn in html  # the row is listed: every one of them may read it
    for label in SCREEN_BUTTONS:
        assert (label in html) is buttons, (who, label)
    assert (">Void<" in html) is void
    _links_answer(web, html, selection, client)
    # The buttons that are hidden would have answered 404.
    if not buttons:
        url = reverse("screening:selection_collect", args=[selection.public_id])
        assert web.get(url).status_code == 404
        post = reverse("screening:selection_not_collected", args=[selection.public_id])
        assert web.post(post, {"status": "no_show"}).status_code == 404


@pytest.fixture
def morning(time_machine):
    """11:00 in the clinic today: an appointment that began two hours ago never meets
    the client's evening group (run between 17:00 and 21:00, booking refused it)."""
    time_machine.move_to(at(timezone.localdate(), "11:00"), tick=False)


@pytest.fixture
def signed_note(morning, clinician, supervisor, intake_user):
    client = enrolled_client(clinician, actor=intake_user)
    colleague = UserFactory(username="colleague", roles=["clinician"])
    services.care_team_add(client=client, staff=colleague, role="counsellor", actor=intake_user)
    appointment = past_appointment(client, clinician)
    note = appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    note = note_sign(note=note, actor=clinician, password=PASSWORD)
    return note, colleague


def test_the_note_buttons_follow_can(signed_note, clinician, supervisor, client_as):
    note, colleague = signed_note
    page = reverse("notes:appointment_note", args=[note.appointment.public_id])
    addendum = reverse("notes:appointment_addendum", args=[note.appointment.public_id])
    cosign = reverse("notes:cosign", args=[note.public_id])
    # The author: an addendum; the colleague on the team reads the note, adds nothing.
    assert "Add an addendum" in client_as(clinician).get(page).content.decode()
    html = client_as(colleague).get(page).content.decode()
    assert "Add an addendum" not in html
    refused = client_as(colleague).get(addendum).content.decode()
    assert 'data-testid="addendum-refused"' in refused and "Sign the addendum" not in refused
    # The author's supervisor co-signs; the colleague reads the note there, no form.
    assert 'data-testid="cosign-form"' in client_as(supervisor).get(cosign).content.decode()
    assert 'data-testid="cosign-form"' not in client_as(colleague).get(cosign).content.decode()
    # The same rules answer the services: the relations are clients.access's.
    label = "clinical.progressnote"
    assert may(clinician, label, note, Action.ADDENDUM)
    assert not may(colleague, label, note, Action.ADDENDUM)
    assert may(supervisor, label, note, Action.COSIGN)
    assert not may(clinician, label, note, Action.COSIGN)
    assert not may(supervisor, label, note, Action.SIGN)


def test_the_draft_is_editable_only_by_its_author(morning, clinician, intake_user, client_as):
    client = enrolled_client(clinician, actor=intake_user)
    colleague = UserFactory(username="colleague", roles=["clinician"])
    services.care_team_add(client=client, staff=colleague, role="counsellor", actor=intake_user)
    appointment = past_appointment(client, clinician)
    appointment_note_save(
        appointment=appointment, content=individual_content(appointment), actor=clinician
    )
    page = reverse("notes:appointment_note", args=[appointment.public_id])
    assert "Save and sign" in client_as(clinician).get(page).content.decode()
    html = client_as(colleague).get(page).content.decode()
    assert "Save and sign" not in html and "only the author edits it" in html


def test_a_misspelt_action_fails_the_page_instead_of_hiding_the_button(clinician):
    from django.template import Context, Template

    from clients.access import ClientAccess, UnknownAction

    access = ClientAccess({Purpose.EDIT: "care team"}, clinician)
    template = Template("{% if access.can.edit %}edit{% endif %}")
    assert template.render(Context({"access": access})) == "edit"
    with pytest.raises(UnknownAction):
        Template("{% if access.can.edti %}x{% endif %}").render(Context({"access": access}))
    with pytest.raises(UnknownAction):
        access.can("edti")
