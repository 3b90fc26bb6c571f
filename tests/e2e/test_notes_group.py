"""The facilitator charts a 10-client group in the browser: narrative plus ten
sections, a reload mid-way loses nothing (autosave), signs with the password, and a
client's chart shows the group narrative and that client's section only. An addendum
to one client's section shows under that section and on that client's chart only."""

import re
import time

import pytest

from clinical.notes.models import NoteStatus, ProgressNote
from iop import when
from iop.audit.models import AuditEvent
from tests.clinical.notes_factories import group_session, modality, signed_group_note
from tests.e2e.notes_helpers import chart_section
from tests.iop.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = ["Ari", "Bea", "Cyd", "Dov", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo"]


def _fill_section(page, client, name):
    chart_section(page, client, f"{name} named a trigger at work")


def _wait_saved(page, timeout=15.0):
    # notes.js clears the mark once the autosave of the last keystroke succeeded.
    # (Polled from here: wait_for_function evaluates a string, which the CSP forbids.)
    deadline = time.monotonic() + timeout
    while page.evaluate("document.getElementById('note-form').dataset.dirty"):
        assert time.monotonic() < deadline, "the draft was not autosaved"
        time.sleep(0.1)


def test_facilitator_charts_a_ten_client_group_and_each_chart_shows_its_own_section(
    page, browser_login, clinician, admin_user
):
    modality()  # the catalogue, put back after a transactional flush
    session, clients, _ = group_session(clinician, admin_user, 10, names=NAMES)
    browser_login("alice")
    page.goto(f"/scheduling/sessions/{session.public_id}/attendance/")
    started = time.monotonic()
    page.get_by_test_id("write-group-note").click()
    page.wait_for_url("**/clinical/notes/sessions/**")

    page.select_option("#id_modality", label="Cognitive behavioural therapy (CBT)")
    page.check("input[name=interventions][value=role_play]")
    page.fill(
        "#id_narrative", "Identifying triggers: role play of refusing a drink at a work dinner."
    )
    for client, name in zip(clients[:5], NAMES[:5], strict=True):
        _fill_section(page, client, name)
    _wait_saved(page)
    saved = page.get_by_test_id("autosave-status").inner_text().strip()
    assert re.fullmatch(r"Saved \d{1,2}:\d\d:\d\d [AP]M", saved), saved

    page.reload()  # mid-way: nothing typed is lost
    assert page.input_value("#id_narrative").startswith("Identifying triggers")
    assert page.input_value(f"#id_{clients[4].public_id}-response") == (
        "Eli named a trigger at work"
    )
    assert page.is_checked(f"input[name='{clients[4].public_id}-plan_choice'][value=continue]")
    for client, name in zip(clients[5:], NAMES[5:], strict=True):
        _fill_section(page, client, name)
    page.get_by_role("button", name="Save and sign…").click()
    page.wait_for_url("**/sign/")
    # Ten sections from one template with only the name changed: the copied-text check
    # warns before signing, and the author ticks each warning (tests/e2e/test_sign_checks.py).
    assert page.get_by_test_id("sign-warning").count() >= 1
    for box in page.locator("input[name=ack]").all():
        box.check()
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(f"**/clinical/notes/sessions/{session.public_id}/")
    assert page.get_by_test_id("note-status").inner_text() == "Signed"
    elapsed = time.monotonic() - started
    print(f"charted and signed a 10-client group in {elapsed:.1f} s (incl. 2 s autosave wait)")

    note = ProgressNote.objects.get(session=session)
    assert note.status == NoteStatus.SIGNED and note.sections.count() == 10
    # Writes: the draft's creation, the explicit save before signing, one sign row per
    # client; the autosaves in between wrote no row of their own (throttled).
    writes = list(
        AuditEvent.objects.filter(action__startswith="note.")
        .exclude(action="note.sign_warning")  # the acknowledged warnings' codes
        .values_list("action", flat=True)
    )
    assert writes == ["note.create", "note.save"] + ["note.sign"] * 10
    reads = AuditEvent.objects.filter(
        action__startswith="access.", object_id=str(session.public_id)
    )
    print(f"audit: {len(writes)} note rows, {reads.count()} access rows for the session's pages")

    page.goto(f"/clients/{clients[0].public_id}/")
    notes = page.get_by_test_id("section-notes")
    notes.locator("summary").first.click()
    text = notes.inner_text()
    # The date of service first, then the signature as such.
    served = f"{when.day(session.starts_at)} · {when.clock(session.starts_at)}"
    assert notes.get_by_test_id("service-date").first.inner_text().startswith(served)
    assert notes.get_by_test_id("signed-at").first.inner_text().startswith("signed ")
    assert "Identifying triggers: role play" in text
    assert "Ari named a trigger at work" in text
    for name in NAMES[1:]:
        assert f"{name} named a trigger" not in text
    assert "Bea" not in page.content()


def test_leaving_the_page_right_after_typing_keeps_the_text(
    page, browser_login, clinician, admin_user
):
    modality()
    session, clients, _ = group_session(clinician, admin_user, 1, names=["Kim"])
    browser_login("alice")
    page.goto(f"/clinical/notes/sessions/{session.public_id}/")
    page.fill("#id_narrative", "Typed just before closing the tab.")
    page.goto("/")  # sooner than the 2 s autosave: the page's beacon saves it
    deadline = time.monotonic() + 5
    while not ProgressNote.objects.filter(narrative__startswith="Typed just").exists():
        assert time.monotonic() < deadline, "the text typed before leaving was lost"
        time.sleep(0.1)


def test_an_addendum_to_one_clients_section_stays_off_the_other_members_charts(
    page, browser_login, clinician, admin_user
):
    modality()
    session, clients, _ = group_session(clinician, admin_user, 2, names=["Lou", "Max"])
    signed_group_note(session, clients, clinician)
    lou, max_ = clients
    browser_login("alice")
    page.goto(f"/clinical/notes/sessions/{session.public_id}/")
    page.get_by_role("link", name="Add an addendum").click()
    page.wait_for_url("**/addendum/")
    # The form says where the addendum goes; nothing is chosen for the author.
    assert page.get_by_label("The group narrative (shown on every member's chart)").is_visible()
    page.get_by_role("button", name="Sign the addendum").click()
    assert "Choose what the addendum adds to" in page.get_by_test_id("error-target").inner_text()
    page.get_by_label(f"{lou.display_name}'s section, MRN {lou.mrn}").check()
    page.fill("#id_text", "Lou called after group: sponsor found for the weekend.")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign the addendum").click()
    page.wait_for_url(f"**/clinical/notes/sessions/{session.public_id}/")
    # On the group note page (and its printout): under Lou's section, not Max's.
    assert "sponsor found" in page.get_by_test_id(f"section-{lou.public_id}").inner_text()
    assert "sponsor found" not in page.get_by_test_id(f"section-{max_.public_id}").inner_text()

    page.goto(f"/clients/{lou.public_id}/")
    notes = page.get_by_test_id("section-notes")
    notes.locator("summary").first.click()
    assert "Lou called after group: sponsor found" in notes.inner_text()

    page.goto(f"/clients/{max_.public_id}/")
    notes = page.get_by_test_id("section-notes")
    notes.locator("summary").first.click()
    assert f"{max_.display_name} named two triggers" in notes.inner_text()  # his own section
    assert "sponsor found" not in page.content()  # Lou's addendum is not, even hidden
