"""The staff task list, its navigation count and the daily digest: a person sees and
closes only their own tasks, a client is named and linked only for a viewer who may
open them, the page's query count does not grow with tasks, and the digest email
names no client."""

import uuid
from datetime import time, timedelta

import pytest
from django.utils import timezone

from iop.audit.models import AuditEvent
from iop.notifications.digest import DIGEST
from iop.notifications.models import Audience, Channel, OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_sweep, reminders_schedule
from iop.notifications.sources import SOURCES, Source
from scheduling.models import local_datetime
from tests.clinical.factories_meds import treated_client

pytestmark = pytest.mark.django_db

TASKS = "/notifications/tasks/"
COUNT = "/notifications/tasks/count/"
DONE = "/notifications/tasks/done/"
# Session and user with their roles for the menu (2), the 2FA middleware's device (1),
# the tasks (1), the clients among the tasks the viewer may open (1); and the read
# audit (``read_audit_queries``), one append whatever the number of clients named.
TASK_LIST_QUERIES = 5


def make_task(staff, client=None, *, kind="clinical.note_unsigned", url="/clinical/x/"):
    refs = {"kind": kind, "item": str(uuid.uuid4()), "url": url}
    if client is not None:
        refs["client"] = str(client.public_id)
    return OutboxMessage.objects.create(
        idempotency_key=f"test:{uuid.uuid4()}",
        audience="staff",
        staff=staff,
        channel=Channel.IN_APP,
        template="note_unsigned",
        subject="A note is still unsigned",
        body="Your note of the session on Tue 3 Nov is still unsigned more than 24 hours later.",
        refs=refs,
        scheduled_for=timezone.now(),
        status=OutboxStatus.SENT,
    )


def test_task_list_groups_own_tasks_and_names_openable_clients(
    clinician, other_clinician, client_as
):
    client = treated_client(clinician)
    mine = make_task(clinician, client, url=f"/clinical/notes/clients/{client.public_id}/")
    theirs_client = treated_client(other_clinician)
    make_task(other_clinician, theirs_client)
    html = client_as(clinician).get(TASKS).content.decode()
    assert "Notes unsigned 24 hours after the session" in html
    assert str(client) in html  # name and MRN, the viewer may open the client
    assert f'href="{mine.refs["url"]}"' in html
    assert theirs_client.legal_last_name not in html and theirs_client.mrn not in html
    assert html.count('data-testid="task"') == 1


def test_a_client_the_viewer_may_no_longer_open_is_neither_named_nor_linked(
    clinician, other_clinician, client_as
):
    # A task about a client who moved to bob's caseload since it was written.
    client = treated_client(other_clinician)
    make_task(clinician, client, url=f"/clinical/notes/clients/{client.public_id}/")
    html = client_as(clinician).get(TASKS).content.decode()
    assert html.count('data-testid="task"') == 1  # the task stays, to be closed
    assert client.legal_last_name not in html and client.mrn not in html
    assert str(client.public_id) not in html
    assert 'data-testid="task-link"' not in html


def test_task_list_query_count_does_not_grow_with_tasks(
    clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    web = client_as(clinician)
    client = treated_client(clinician)
    make_task(clinician, client)
    with django_assert_max_num_queries(TASK_LIST_QUERIES + read_audit_queries):
        assert web.get(TASKS).status_code == 200
    for n in range(15):
        make_task(
            clinician,
            treated_client(clinician) if n % 2 else None,
            kind=("clinical.cosign_waiting", "clinical.measure_due", "scheduling.absences")[n % 3],
        )
    with django_assert_max_num_queries(TASK_LIST_QUERIES + read_audit_queries):
        response = web.get(TASKS)
    assert response.content.decode().count('data-testid="task"') == 16


def test_nav_count_comes_by_htmx_and_counts_own_open_tasks(
    clinician, other_clinician, client_as, django_assert_max_num_queries
):
    web = client_as(clinician)
    make_task(clinician)
    make_task(clinician)
    make_task(other_clinician)
    done = make_task(clinician)
    done.read_at = timezone.now()
    done.save()
    page = web.get("/").content.decode()
    assert f'hx-get="{COUNT}"' in page and 'data-testid="task-count"' not in page
    # Session, user, 2FA device (3) and the count (1).
    with django_assert_max_num_queries(4):
        badge = web.get(COUNT, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="task-count">2<' in badge


def test_mark_done_is_audited_once_and_closes_the_task(clinician, client_as):
    client = treated_client(clinician)
    task = make_task(clinician, client)
    web = client_as(clinician)
    for _ in range(2):  # double submission
        response = web.post(DONE, {"task": str(task.public_id)})
        assert response.status_code == 302
    task.refresh_from_db()
    assert task.read_at is not None
    (row,) = AuditEvent.objects.filter(action="task.done")
    assert row.client_id == client.public_id and row.detail == "kind=clinical.note_unsigned"
    assert 'data-testid="task"' not in web.get(TASKS).content.decode()


def test_a_colleagues_task_cannot_be_closed(clinician, other_clinician, client_as):
    task = make_task(other_clinician)
    response = client_as(clinician).post(DONE, {"task": str(task.public_id)})
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.read_at is None
    assert not AuditEvent.objects.filter(action="task.done").exists()


@pytest.mark.parametrize("value", ["", "not-a-uuid", "x" * 10_000, "a\x00b", str(uuid.uuid4())])
def test_bad_task_ids_answer_4xx(clinician, client_as, value):
    response = client_as(clinician).post(DONE, {"task": value})
    assert response.status_code in (400, 404)


def test_task_pages_need_a_login(client):
    for url in (TASKS, COUNT):
        assert client.get(url).status_code == 302
    assert client.post(DONE, {"task": str(uuid.uuid4())}).status_code == 302


def test_staff_tasks_on_the_admin_outbox_page_and_only_there(clinician, admin_user, client_as):
    make_task(clinician)
    assert client_as(admin_user).get("/notifications/outbox/").status_code == 200
    assert client_as(clinician).get("/notifications/outbox/").status_code in (403, 404)


# --- The daily digest -------------------------------------------------------------------


def _at(hour, day=None):
    return local_datetime(day or timezone.localdate(), time(hour, 5))


def digests(**filters):
    return OutboxMessage.objects.filter(refs__kind=DIGEST, **filters)


def test_digest_is_written_once_a_day_at_the_hour_and_names_no_client(
    settings, monkeypatch, clinician, other_clinician
):
    settings.IOP_STAFF_DIGEST_HOUR = 7
    # Tasks of two sources that never close their own (as the absences source).
    for key, title in (("tests.unsigned", "Notes unsigned"), ("tests.cosign", "Co-signatures")):
        monkeypatch.setitem(SOURCES, key, Source(key, Audience.STAFF, lambda now: [], title))
    clients = [treated_client(clinician) for _ in range(3)]
    for client in clients:
        make_task(clinician, client, kind="tests.unsigned")
    make_task(clinician, clients[0], kind="tests.cosign")
    reminders_schedule(now=_at(6))
    assert not digests().exists()  # before the hour

    reminders_schedule(now=_at(7))
    assert reminders_schedule(now=_at(7)) == 0
    reminders_schedule(now=_at(15))
    (digest,) = digests()
    assert digest.staff == clinician and digest.channel == Channel.EMAIL
    assert digest.recipient == clinician.email
    text = digest.subject + "\n" + digest.body
    # The PHQ-9 and GAD-7 tasks of the three new clients are counted too.
    assert "Co-signatures: 1" in text and "Notes unsigned: 3" in text
    assert "Outcome measures due: 6" in text
    assert "/notifications/tasks/" in text
    for client in clients:
        for word in (
            client.legal_first_name,
            client.legal_last_name,
            client.preferred_name,
            client.mrn,
            str(client.public_id),
        ):
            if word:
                assert word not in text
    assert not digests(staff=other_clinician).exists()  # no open tasks of his own

    reminders_schedule(now=_at(7, timezone.localdate() + timedelta(days=1)))
    assert digests(staff=clinician).count() == 2  # the next day's


def test_digest_skips_people_without_open_tasks_or_email(
    settings, monkeypatch, clinician, other_clinician
):
    settings.IOP_STAFF_DIGEST_HOUR = 0
    monkeypatch.setitem(SOURCES, "tests.k", Source("tests.k", Audience.STAFF, lambda now: []))
    other_clinician.email = ""
    other_clinician.save()
    make_task(other_clinician, kind="tests.k")
    done = make_task(clinician, kind="tests.k")
    done.read_at = timezone.now()
    done.save()
    reminders_schedule(now=_at(9))
    assert not digests().exists()


def test_the_sweep_sends_the_digest_and_shows_the_tasks(settings, mailoutbox, clinician):
    settings.IOP_STAFF_DIGEST_HOUR = 0
    treated_client(clinician)  # PHQ-9 and GAD-7 due since admission
    result = outbox_sweep(now=_at(9))
    assert result["written"] == 3
    assert OutboxMessage.objects.open_tasks_for(clinician).count() == 2
    (email,) = mailoutbox
    assert email.to == [clinician.email] and "Outcome measures due: 2" in email.body
