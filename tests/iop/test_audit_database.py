"""On PostgreSQL the application's role cannot cut or unprotect the audit trail.

The role is made by the same script docker compose runs on a new database
(docker/postgres-init/app-role.psql), inside the test's transaction, so it vanishes
with the rollback. CI connects as the superuser ``postgres``; SET ROLE drops to the
app role for each probe, inside a savepoint that also undoes the SET ROLE.
"""

import re
import secrets
import threading
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, connections, transaction

from iop.audit.models import AuditEvent
from iop.audit.services import _CHAIN_LOCK_KEY, audit_record

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL roles"),
]
SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "postgres-init" / "app-role.psql"


def _create_app_role() -> str:
    role = f"iop_app_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        sql = re.sub(r"--[^\n]*", "", SCRIPT.read_text())
        sql = (
            sql.replace(':"app_role"', f'"{role}"')
            .replace(":'app_password'", "'not-used'")
            .replace(':"owner"', f'"{owner}"')
            .replace(':"DBNAME"', f'"{database}"')
        )
        for statement in filter(str.strip, sql.split(";")):
            cursor.execute(statement)
    return role


def _as_role(role, sql, params=None):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(sql, params)


@pytest.fixture
def app_role():
    audit_record(action="test.event", detail="first")
    audit_record(action="test.event", detail="second")
    return _create_app_role()


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("TRUNCATE audit_auditevent", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only", "owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("UPDATE audit_auditevent SET detail = 'rewritten'", "append-only"),
        ("DELETE FROM audit_auditevent", "append-only"),
        ("DROP TABLE audit_auditevent", "owner"),
    ],
)
def test_the_app_role_cannot_cut_or_unprotect_the_trail(app_role, sql, refusal):
    with pytest.raises(DatabaseError, match=refusal):
        _as_role(app_role, sql)
    assert AuditEvent.objects.count() == 2


def test_the_app_role_can_append(app_role):
    _as_role(
        app_role,
        "INSERT INTO audit_auditevent (at, actor_username, action, object_type, object_id,"
        " outcome, detail, prev_hash, hash) VALUES (now(), '', 'test.insert', '', '',"
        " 'allowed', '', %s, %s)",
        ["0" * 64, "f" * 64],
    )
    assert AuditEvent.objects.filter(action="test.insert").exists()


def test_the_app_role_reads_and_writes_ordinary_tables(app_role):
    _as_role(app_role, "UPDATE django_session SET expire_date = expire_date")
    _as_role(app_role, "DELETE FROM django_session WHERE session_key = 'none'")


def _advisory_locks_held(cursor) -> int:
    cursor.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_chain_lock_ends_with_its_transaction_so_a_transaction_pooler_is_safe():
    """PgBouncer in transaction mode hands the server connection to another client at
    each commit. A session-level advisory lock would stay behind on that connection
    (held for a stranger, or released by one); the chain's lock is transaction-level
    (pg_advisory_xact_lock): held until the audit row commits, gone after."""
    audit_record(action="test.event", detail="autocommit")
    with connection.cursor() as cursor:
        assert _advisory_locks_held(cursor) == 0

    others = []

    def another_writer_tries_the_lock():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
                others.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    with transaction.atomic():
        audit_record(action="test.event", detail="in a transaction")
        with connection.cursor() as cursor:
            assert _advisory_locks_held(cursor) == 1
        thread = threading.Thread(target=another_writer_tries_the_lock)
        thread.start()
        thread.join()
    assert others == [False]  # held until the row commits: no fork of the chain
    with connection.cursor() as cursor:
        assert _advisory_locks_held(cursor) == 0
