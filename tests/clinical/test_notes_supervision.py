"""A supervisor reads a supervisee's group note through Purpose.SUPERVISION (issue 18,
finding 2): every client's section, while the co-signature is outstanding and for
IOP_SUPERVISION_READ_DAYS after it, never through the clients' care teams; and each
client whose section the page shows has an access row of their own naming the reader.

The facilitator (alice, pre-licensed, supervised by carol) is on none of the clients'
care teams, so carol has no other reason to reach them. Time is moved with the
``clock`` fixture, which shifts ``django.utils.timezone.now``.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.access import Purpose, clients_for
from clinical.notes.models import CosignStatus
from clinical.notes.services import addendum_add, group_note_save, note_cosign, note_return
from iop.audit.models import AuditEvent
from tests.clinical.notes_factories import (
    complete_content,
    group_session,
    section,
    signed_group_note,
)
from tests.iop.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

READ_DAYS = 30


class _Clock:
    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **kwargs):
        self.offset += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.IOP_SUPERVISION_READ_DAYS = READ_DAYS
    return _Clock(monkeypatch)


@pytest.fixture
def group(clinician, admin_user):
    """Three attending clients and one absent; alice on none of their care teams."""
    return group_session(clinician, admin_user, 3, absent=1, care_team=False)


@pytest.fixture
def waiting(group, clinician):
    session, present, _ = group
    note = signed_group_note(session, present, clinician)
    assert note.cosign_status == CosignStatus.PENDING
    return note


def _cosign_url(note):
    return reverse("notes:group_cosign", args=[note.public_id])


def _last_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _rows_since(before, actor):
    return list(
        AuditEvent.objects.filter(id__gt=before, actor=actor, action__startswith="access.")
        .order_by("id")
        .values_list("action", "outcome", "client_id", "object_id")
    )


def test_the_supervisor_reads_a_waiting_note_and_each_clients_trail_names_them(
    group, waiting, supervisor, client_as
):
    _session, present, absent = group
    http = client_as(supervisor)
    before = _last_id()
    response = http.get(_cosign_url(waiting))
    assert response.status_code == 200
    page = response.content.decode()
    for client in present:
        assert f"{client.display_name} named two triggers" in page
    assert 'data-testid="cosign-form"' in page

    # One access row per client whose section is shown, none without a client.
    rows = _rows_since(before, supervisor)
    assert sorted(rows, key=str) == sorted(
        (
            ("access.supervision", "allowed", client.public_id, str(waiting.public_id))
            for client in present
        ),
        key=str,
    )
    for client in present:
        trail = AuditEvent.objects.filter(client_id=client.public_id, actor=supervisor)
        assert trail.filter(action="access.supervision").count() == 1
        assert "via=supervisor" in trail.get().detail
    # The absent client has no section and is not on the page.
    assert not AuditEvent.objects.filter(client_id=absent[0].public_id, actor=supervisor).exists()
    assert absent[0].display_name not in page

    # The reason is the note, not a care team: no chart, no clinical content.
    for client in present:
        assert client in clients_for(supervisor, Purpose.SUPERVISION)
        assert client not in clients_for(supervisor, Purpose.CHART)
        assert client not in clients_for(supervisor, Purpose.CLINICAL)
        assert http.get(reverse("clients:chart", args=[client.public_id])).status_code == 404


def test_the_co_sign_page_writes_its_rows_in_one_insert_whatever_the_group(
    clinician, supervisor, admin_user, client_as
):
    """The page's query count does not grow with the number of sections."""
    http = client_as(supervisor)
    counts = {}
    for size in (2, 9):
        session, present, _ = group_session(clinician, admin_user, size, care_team=False)
        note = signed_group_note(session, present, clinician)
        http.get(_cosign_url(note))  # the first request of a session touches it
        before = _last_id()
        with CaptureQueriesContext(connection) as queries:
            assert http.get(_cosign_url(note)).status_code == 200
        counts[size] = len(queries)
        assert len(_rows_since(before, supervisor)) == size
        inserts = [q for q in queries if 'INSERT INTO "audit_auditevent"' in q["sql"]]
        assert len(inserts) == 1
    assert counts[2] == counts[9]


def test_the_supervisor_reads_a_returned_note_until_the_author_answers(
    waiting, clinician, supervisor, client_as
):
    note_return(note=waiting, comment="Add the plan for Ana.", actor=supervisor)
    assert client_as(supervisor).get(_cosign_url(waiting)).status_code == 200
    addendum_add(note=waiting, text="Plan added.", actor=clinician, password=PASSWORD)
    assert client_as(supervisor).get(_cosign_url(waiting)).status_code == 200


def test_the_supervisor_reads_a_cosigned_note_for_n_days_then_404_audited(
    group, waiting, supervisor, client_as, clock
):
    _session, present, _ = group
    note_cosign(note=waiting, actor=supervisor, password=PASSWORD)
    assert client_as(supervisor).get(_cosign_url(waiting)).status_code == 200

    clock.advance(days=READ_DAYS - 1)
    assert client_as(supervisor).get(_cosign_url(waiting)).status_code == 200
    assert present[0] in clients_for(supervisor, Purpose.SUPERVISION)

    clock.advance(days=1, minutes=1)
    http = client_as(supervisor)  # signed in again: a session ends after 12 hours
    before = _last_id()
    assert http.get(_cosign_url(waiting)).status_code == 404
    assert _rows_since(before, supervisor) == [
        ("access.supervision", "denied", None, str(waiting.public_id))
    ]
    # The clients went with the note: nothing reaches them for supervision any more.
    assert not clients_for(supervisor, Purpose.SUPERVISION).filter(pk__in=[c.pk for c in present])


def test_a_supervisor_of_someone_else_gets_404_audited(waiting, client_as):
    other = UserFactory(username="sup3", roles=["supervisor"])
    before = _last_id()
    assert client_as(other).get(_cosign_url(waiting)).status_code == 404
    assert _rows_since(before, other) == [
        ("access.supervision", "denied", None, str(waiting.public_id))
    ]
    assert not clients_for(other, Purpose.SUPERVISION).exists()


def test_a_draft_is_not_the_supervisors_to_read(group, clinician, supervisor, client_as):
    session, present, _ = group
    draft = group_note_save(
        session=session,
        content=complete_content(session),
        sections={c: section(c) for c in present},
        actor=clinician,
    )
    assert client_as(supervisor).get(_cosign_url(draft)).status_code == 404
    assert not clients_for(supervisor, Purpose.SUPERVISION).exists()


def test_the_author_and_an_admin_still_read_the_page(waiting, clinician, admin_user, client_as):
    assert client_as(clinician).get(_cosign_url(waiting)).status_code == 200
    assert client_as(admin_user).get(_cosign_url(waiting)).status_code == 200


def test_the_group_note_page_writes_one_access_row_per_client_shown(group, clinician, client_as):
    """Each attending client's section, objectives and last plan, and each absent
    client's name and attendance: one access row each, none without a client."""
    session, present, absent = group
    http = client_as(clinician)
    url = reverse("notes:group_note", args=[session.public_id])
    http.get(url)
    before = _last_id()
    assert http.get(url).status_code == 200
    rows = _rows_since(before, clinician)
    assert sorted(r[2] for r in rows) == sorted(c.public_id for c in present + absent)
    assert {(r[0], r[1], r[3]) for r in rows} == {
        ("access.attendance", "allowed", str(session.public_id))
    }
