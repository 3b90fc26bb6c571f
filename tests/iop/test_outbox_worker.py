"""The outbox against a real Celery worker and Redis: written once, sent once, a worker
killed mid-delivery, and a broker that is down when a page queues work.

Each test starts its own worker (solo pool, the session's Redis database) whose SMS
backend writes JSON lines to a file, so the test counts what really left."""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from clients.models import ReminderChannel
from iop.celery import app
from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_enqueue, outbox_recover_stuck, queue_delivery
from iop.notifications.tasks import sweep_outbox
from scheduling.models import Enrollment, EnrollmentStatus
from tests.clients.factories import EpisodeFactory
from tests.iop.test_notifications import _database_url
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_broker():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL (a real Redis broker)")
    app.control.purge()
    yield
    app.control.purge()


@pytest.fixture
def sms_file(tmp_path, settings):
    path = tmp_path / "sms.jsonl"
    settings.IOP_SMS_FILE_PATH = str(path)
    settings.IOP_SMS_BACKEND = "iop.notifications.channels.FileSmsBackend"
    return path


def _sent(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@contextmanager
def worker(tmp_path, *, sms_file, backend="iop.notifications.channels.FileSmsBackend"):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "IOP_SMS_BACKEND": backend,
        "IOP_SMS_FILE_PATH": str(sms_file),
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / f"worker-{time.monotonic_ns()}.log"
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "iop", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait(lambda: "ready" in log_path.read_text(), 30, log_path)
        yield process, log_path
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        log.close()
        connection.close()


def _wait(condition, seconds, log_path=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(log_path.read_text()[-3000:] if log_path else "timed out")


def _session_in_two_hours():
    """A session starting two hours from now with one client who takes texts: its 2-hour
    reminder is due at once."""
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    group = GroupFactory()
    session = GroupSessionFactory(
        group=group,
        date=timezone.localdate(starts),
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
    )
    episode = EpisodeFactory()
    client = episode.client
    client.reminder_channel = ReminderChannel.SMS
    client.reminder_consent = True
    client.quiet_hours_start = client.quiet_hours_end = None
    client.save()
    Enrollment.objects.create(
        client=client, episode=episode, track=group.track, group=group,
        start_on=session.date - timedelta(days=3), status=EnrollmentStatus.ACTIVE,
        created_by=episode.admitted_by,
    )  # fmt: skip
    return session, client


def test_a_reminder_is_written_once_and_delivered_once(tmp_path, redis_broker, sms_file):
    session, client = _session_in_two_hours()
    with worker(tmp_path, sms_file=sms_file) as (_process, log):
        # Two sweeps queued back to back (beat overlapping itself): one row, one text.
        sweep_outbox.delay()
        sweep_outbox.delay()
        _wait(lambda: _sent(sms_file), 30, log)
        _wait(lambda: log.read_text().count("sweep_outbox") >= 4, 30, log)  # both ran
        sweep_outbox.delay()  # a third, after the send
        _wait(lambda: log.read_text().count("sweep_outbox") >= 6, 30, log)
    rows = list(OutboxMessage.objects.all())
    assert len(rows) == 1
    assert rows[0].status == OutboxStatus.SENT
    assert rows[0].provider_id == f"file-{rows[0].public_id}"
    sent = _sent(sms_file)
    assert [s["reference"] for s in sent] == [str(rows[0].public_id)]
    assert sent[0]["to"] == client.phone


@pytest.mark.parametrize(
    ("backend", "outcome"),
    [("DiesBeforeSendingBackend", "requeued"), ("DiesAfterSendingBackend", "recorded")],
)
def test_a_worker_killed_mid_delivery_is_recovered_without_a_double_send(
    tmp_path, redis_broker, sms_file, backend, outcome
):
    _session_in_two_hours()
    with worker(tmp_path, sms_file=sms_file, backend=f"tests.iop.outbox_fakes.{backend}") as (
        process,
        log,
    ):
        sweep_outbox.delay()
        _wait(lambda: process.poll() is not None, 30, log)  # the worker died mid-delivery
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.SENDING  # claimed before the send
    assert len(_sent(sms_file)) == (0 if outcome == "requeued" else 1)
    # Nothing moves it before the claim is stale; after that the sweep asks the channel.
    assert outbox_recover_stuck() == {"requeued": 0, "failed": 0}
    recovered = outbox_recover_stuck(now=timezone.now() + timedelta(minutes=11))
    message.refresh_from_db()
    if outcome == "requeued":
        assert recovered == {"requeued": 1, "failed": 0}
        with worker(tmp_path, sms_file=sms_file) as (_process, log):
            sweep_outbox.delay()
            _wait(lambda: _sent(sms_file), 30, log)
        message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert [s["reference"] for s in _sent(sms_file)] == [str(message.public_id)]  # once


def test_redis_down_when_a_page_queues_work_loses_nothing(
    tmp_path, redis_broker, sms_file, monkeypatch
):
    message, _ = outbox_enqueue(
        idempotency_key="broker-down",
        channel="sms",
        recipient="+16175550134",
        subject="Reminder",
        body="Reminder: Tuesday 8 December at 18:00.",
        scheduled_for=timezone.now(),
    )
    good_url = app.conf.broker_url
    # A closed port: nothing listens on the discard port.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/8")
    app._pool = None
    started = time.monotonic()
    with transaction.atomic():  # what a page does: write, then queue after commit
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=0)
        queue_delivery(message.pk)
    assert time.monotonic() - started < 15  # the page answers
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    monkeypatch.setattr(app.conf, "broker_url", good_url)
    app._pool = None
    with worker(tmp_path, sms_file=sms_file) as (_process, log):
        sweep_outbox.delay()  # the broker is back: the next minute's sweep sends it
        _wait(lambda: _sent(sms_file), 30, log)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert len(_sent(sms_file)) == 1
