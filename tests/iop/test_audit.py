import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from iop.audit.models import GENESIS_HASH, AuditEvent
from iop.audit.services import audit_record, audit_verify_chain

pytestmark = pytest.mark.django_db


def _events(n, actor=None):
    for i in range(n):
        audit_record(action="test.event", actor=actor, detail=f"n={i}")


def test_each_event_chains_to_the_one_before(clinician):
    _events(3, clinician)
    first, second, third = AuditEvent.objects.order_by("id")
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert audit_verify_chain() == (3, None)


def test_verify_audit_reports_the_chain_holds(capsys):
    _events(4)
    call_command("verify_audit")
    assert "Audit chain holds: 4 events verified" in capsys.readouterr().out


def _tamper(sql, params):
    """Change a row behind the application's back, as an intruder with SQL would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch user triggers off for the session; the chain still tells.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_verify_audit_finds_a_row_changed_by_raw_sql():
    _events(5)
    victim = AuditEvent.objects.order_by("id")[2]
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["auth.nothing", victim.id])
    with pytest.raises(CommandError, match=f"broken at event {victim.id}.*does not match its hash"):
        call_command("verify_audit")


def test_verify_audit_finds_a_removed_row():
    _events(5)
    victim = AuditEvent.objects.order_by("id")[1]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [victim.id])
    with pytest.raises(CommandError, match="previous hash does not match"):
        call_command("verify_audit")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_postgres_trigger_refuses_update_and_delete(sql):
    _events(2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.filter(action="test.event").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    errors = []

    def writer():
        try:
            _events(15)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert audit_verify_chain() == (90, None)
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 90


def test_audit_page_is_for_admins_only(client_as, clinician):
    assert client_as(clinician).get(reverse("audit:list")).status_code == 403


def test_audit_page_filters_by_person_outcome_and_date(client_as, admin_user, clinician):
    audit_record(action="client.view", actor=clinician)
    audit_record(action="client.view", actor=clinician, outcome="denied")
    audit_record(action="client.view", actor=admin_user)
    client = client_as(admin_user)
    response = client.get(reverse("audit:list"), {"person": "alice", "outcome": "denied"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    bad = client.get(reverse("audit:list"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert bad.status_code == 400
    assert "end date is before the start date" in bad.content.decode()
    assert client.get(reverse("audit:list"), {"client": "not-a-uuid"}).status_code == 400


def test_audit_page_query_count_does_not_grow(client_as, admin_user, django_assert_max_num_queries):
    client = client_as(admin_user)
    _events(5, admin_user)
    # session, user, roles (menu), count, page of events with actors
    with django_assert_max_num_queries(7):
        assert client.get(reverse("audit:list")).status_code == 200
    _events(120, admin_user)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("audit:list"))
    assert len(response.context["page"].object_list) == 50
