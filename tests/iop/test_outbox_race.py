"""Two sweepers at once (a second beat started by mistake, or a sweep that overran the
minute) on PostgreSQL: each message is claimed by one of them and sent once."""

import json
import threading

import pytest
from django.db import connection

from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_enqueue, outbox_sweep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SKIP LOCKED races need PostgreSQL")
def test_two_sweepers_at_once_send_each_message_once(tmp_path, settings):
    sms = tmp_path / "sms.jsonl"
    settings.IOP_SMS_FILE_PATH = str(sms)
    settings.IOP_SMS_BACKEND = "iop.notifications.channels.FileSmsBackend"
    for n in range(60):
        outbox_enqueue(
            idempotency_key=f"race:{n}",
            channel="sms",
            recipient="+16175550134",
            subject="",
            body=f"Message {n}",
        )
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(outbox_sweep())
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    sent = [json.loads(line)["reference"] for line in sms.read_text().splitlines()]
    assert len(sent) == 60 and len(set(sent)) == 60  # every message once, none twice
    assert sum(r["sent"] for r in results) == 60
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 60
