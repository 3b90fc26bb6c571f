"""In Chromium: the author of a group note whose sections share one response and name
another member sees both warnings on the sign page, each with a link to the field; the
signature is refused until each is ticked, then the note is signed."""

import pytest

from clients.models import Client
from clinical.notes.models import NoteStatus, ProgressNote, SignWarning
from clinical.notes.services import group_note_save
from tests.clinical.notes_factories import complete_content, group_session, modality, section
from tests.iop.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAME = "Engaged in the role play and named a plan for the weekend."


def test_the_author_sees_the_warnings_ticks_them_and_signs(
    page, browser_login, clinician, admin_user
):
    modality()
    session, clients, _ = group_session(clinician, admin_user, 3)
    names = [("Ariadne", "Quill", ""), ("Hope", "Varga", ""), ("Corin", "Wexley", "")]
    for client, (first, last, preferred) in zip(clients, names, strict=True):
        Client.objects.filter(pk=client.pk).update(
            legal_first_name=first, legal_last_name=last, preferred_name=preferred
        )
        client.refresh_from_db()
    sections = {c: section(c, response=SAME) for c in clients}
    sections[clients[0]]["plan"] = "Keeps hope; will ask Varga for a lift (ref 1)."
    group_note_save(
        session=session, content=complete_content(session), sections=sections, actor=clinician
    )

    browser_login("alice")
    page.goto(f"/clinical/notes/sessions/{session.public_id}/sign/")
    warnings = page.get_by_test_id("sign-warning")
    assert warnings.count() == 3  # the response; "Hope" and "Varga" in Ariadne's plan
    text = page.get_by_test_id("sign-warnings").inner_text()
    assert "The same response in 3 sections" in text
    assert "“Varga” is the name of a member" in text and "“Hope” is the name" in text
    link = page.get_by_role("link", name=f"{clients[0].display_name} (MRN {clients[0].mrn}): plan")
    assert link.first.get_attribute("href").endswith(f"#id_{clients[0].public_id}-plan")

    # Not ticked: refused, nothing signed.
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    assert "3 warnings before signing" in page.get_by_test_id("sign-errors").inner_text()
    assert ProgressNote.objects.get(session=session).status == NoteStatus.DRAFT

    boxes = page.locator("input[name=ack]")
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(f"**/clinical/notes/sessions/{session.public_id}/")
    assert page.get_by_test_id("note-status").inner_text() == "Signed"
    note = ProgressNote.objects.get(session=session)
    assert note.status == NoteStatus.SIGNED
    assert sorted(SignWarning.objects.filter(note=note).values_list("kind", flat=True)) == [
        "copied_text",
        "name_hit",
        "name_hit",
    ]
