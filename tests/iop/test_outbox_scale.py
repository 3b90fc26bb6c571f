"""The outbox page at clinic scale (issue 13): its status x channel table is counted
from an index, not by reading every message ever sent."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from iop.notifications.models import OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_enqueue

pytestmark = pytest.mark.django_db


def _nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_outbox_counts_read_an_index_not_the_messages(client_as, admin_user):
    """A year of reminders is tens of thousands of rows: the counts were a sequential
    scan of all of them on every view (~10-18 ms at 27,000). The (status, channel)
    index answers them with an index-only scan."""
    for n in range(40):
        outbox_enqueue(
            idempotency_key=f"scale:{n}",
            channel=("email", "sms")[n % 2],
            recipient="someone@example.org",
            subject="Your appointment",
            body="Tuesday 18:00",
        )
    OutboxMessage.objects.filter(
        pk__in=OutboxMessage.objects.order_by("pk")[:25].values("pk")
    ).update(status=OutboxStatus.SENT)
    with CaptureQueriesContext(connection) as queries:
        response = client_as(admin_user).get("/notifications/outbox/")
    assert response.status_code == 200
    [counts] = [q["sql"] for q in queries if "GROUP BY" in q["sql"] and "outboxmessage" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + counts)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = [n for n in _nodes(plan[0]["Plan"]) if n.get("Relation Name")]
    assert [(s["Node Type"], s.get("Index Name")) for s in scans] == [
        ("Index Only Scan", "outbox_status_channel")
    ]
    # The table the admin sees: 25 sent, 15 pending, by channel.
    page = response.content.decode()
    assert response.context["table"][[s for s, _ in OutboxStatus.choices].index("sent")]["cells"][
        :2
    ] == [13, 12]
    assert "Tuesday 18:00" in page
