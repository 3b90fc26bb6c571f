import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_claim, outbox_deliver, outbox_enqueue
from iop.notifications.tasks import deliver_message, deliver_outbox

ROOT = Path(__file__).resolve().parents[2]


def _enqueue(key="reminder:1"):
    return outbox_enqueue(
        idempotency_key=key,
        channel="email",
        recipient="someone@example.org",
        subject="Your appointment",
        body="Tuesday 18:00, Suite 200",
    )


@pytest.mark.django_db
def test_the_same_key_writes_one_message():
    first, created = _enqueue()
    second, created_again = _enqueue()
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_message_is_claimed_once(mailoutbox):
    message, _ = _enqueue()
    assert outbox_claim(message_id=message.pk) is True
    assert outbox_claim(message_id=message.pk) is False
    assert outbox_deliver(message_id=message.pk) == "skipped"
    assert mailoutbox == []


@pytest.mark.django_db
def test_beat_task_delivers_what_is_due(mailoutbox):
    _enqueue("a")
    _enqueue("b")
    assert deliver_outbox()["sent"] == 2
    assert deliver_outbox()["sent"] == 0
    assert [m.subject for m in mailoutbox] == ["Your appointment"] * 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


@pytest.mark.django_db
def test_failed_delivery_is_retried_later(settings):
    settings.EMAIL_BACKEND = "tests.iop.test_notifications.BrokenBackend"
    message, _ = _enqueue()
    assert outbox_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "pending",
        1,
        "ConnectionError",
    )
    assert message.scheduled_for > message.created_at


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        """Takes whatever Django passes a backend; this one only fails."""

    def send_messages(self, messages):
        raise ConnectionError("smtp down")


def _database_url():
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_a_message_queued_after_commit(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "iop",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            "celery",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with transaction.atomic():
            message, _ = _enqueue("worker-test")
            transaction.on_commit(lambda: deliver_message.delay(message.pk))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == OutboxStatus.SENT:
                break
            time.sleep(0.5)
        assert message.status == OutboxStatus.SENT, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
        connection.close()


# --- The admin's outbox page ----------------------------------------------------------


@pytest.mark.django_db
def test_outbox_page_is_for_admins_and_every_view_is_audited(client_as, admin_user, clinician):
    from iop.audit.models import AuditEvent

    _enqueue("page")
    assert client_as(clinician).get("/notifications/outbox/").status_code in (403, 404)
    response = client_as(admin_user).get("/notifications/outbox/")
    assert response.status_code == 200
    assert "Tuesday 18:00, Suite 200" in response.content.decode()  # bodies: admins only
    assert AuditEvent.objects.filter(action="outbox.view", actor=admin_user).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 30])
def test_outbox_page_query_count_does_not_grow(client_as, admin_user, rows,
                                               django_assert_max_num_queries):  # fmt: skip
    for n in range(rows):
        _enqueue(f"q{n}")
    browser = client_as(admin_user)
    browser.get("/notifications/outbox/")
    # session, user with roles, counts by status and channel, the page of rows,
    # failed rows, audit chain head + insert (and its advisory lock)
    with django_assert_max_num_queries(11):
        assert browser.get("/notifications/outbox/?channel=email").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["resolved", "subject-cancelled", "opt-out"])
def test_what_the_app_cancelled_offers_no_retry(client_as, admin_user, reason):
    """A task closed because its item is done, a reminder of a cancelled session and a
    message to a client who opted out stay cancelled: the outbox offers no Retry, and a
    forged retry answers 400 and changes nothing. A message staff cancelled can be."""
    message, _ = _enqueue("closed")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.CANCELLED, last_error=reason
    )
    staff_cancelled, _ = _enqueue("by-staff")
    OutboxMessage.objects.filter(pk=staff_cancelled.pk).update(status=OutboxStatus.CANCELLED)
    browser = client_as(admin_user)
    page = browser.get("/notifications/outbox/").content.decode()
    assert page.count('value="retry"') == 1
    assert f'value="{staff_cancelled.public_id}"' in page
    assert f'value="{message.public_id}"' not in page
    forged = browser.post(
        "/notifications/outbox/action/", {"message": message.public_id, "action": "retry"}
    )
    assert forged.status_code == 400
    assert "no longer needed" in forged.content.decode()
    message.refresh_from_db()
    assert (message.status, message.last_error) == (OutboxStatus.CANCELLED, reason)
    assert (
        browser.post(
            "/notifications/outbox/action/",
            {"message": staff_cancelled.public_id, "action": "retry"},
        ).status_code
        == 302
    )
    staff_cancelled.refresh_from_db()
    assert staff_cancelled.status == OutboxStatus.PENDING


@pytest.mark.django_db
def test_outbox_retry_and_cancel_from_the_page(client_as, admin_user, settings):
    from iop.audit.models import AuditEvent

    message, _ = _enqueue("act")
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.FAILED)
    browser = client_as(admin_user)
    post = browser.post
    assert (
        post(
            "/notifications/outbox/action/", {"message": message.public_id, "action": "retry"}
        ).status_code
        == 302
    )
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    post("/notifications/outbox/action/", {"message": message.public_id, "action": "cancel"})
    message.refresh_from_db()
    assert message.status == OutboxStatus.CANCELLED
    assert set(AuditEvent.objects.filter(action__startswith="outbox.").values_list(
        "action", flat=True)) >= {"outbox.retry", "outbox.cancel"}  # fmt: skip
    bad = post("/notifications/outbox/action/", {"message": "x" * 10_000, "action": "retry"})
    assert bad.status_code == 400
    assert post("/notifications/outbox/", {}).status_code in (200, 405)
    assert browser.get("/notifications/outbox/?since=0001-01-01").status_code == 400
