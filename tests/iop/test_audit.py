import hashlib
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import GENESIS_HASH, AuditEvent
from iop.audit.services import AuditContext, audit_record, audit_verify_chain, client_ip

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


def test_one_event_per_client_in_one_insert_chained_like_the_rest(clinician):
    """A page showing several clients writes a row in each client's trail: one INSERT,
    chained after the head and each to the one before, verified like single rows."""
    import uuid

    from django.test.utils import CaptureQueriesContext

    from iop.audit.services import audit_record_per_client

    _events(1, clinician)
    clients = [uuid.uuid4() for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        events = audit_record_per_client(
            clients=clients, action="access.attendance", actor=clinician, detail="page=x"
        )
    inserts = [q for q in queries if 'INSERT INTO "audit_auditevent"' in q["sql"]]
    assert len(inserts) == 1
    rows = list(AuditEvent.objects.order_by("id"))
    assert [r.client_id for r in rows[1:]] == clients
    assert all(r.prev_hash == before.hash for before, r in zip(rows, rows[1:], strict=False))
    assert {(r.action, r.actor_id, r.detail) for r in rows[1:]} == {
        ("access.attendance", clinician.pk, "page=x")
    }
    assert len(events) == 5
    assert audit_verify_chain() == (6, None)
    assert audit_record_per_client(clients=[], action="access.attendance") == []
    assert AuditEvent.objects.count() == 6


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


def test_verification_reads_the_trail_in_keyed_pages_and_finds_a_break_past_the_first():
    """Pages of ``id > last`` (no server-side cursor, so it runs through PgBouncer in
    transaction mode in bounded memory): every row is checked once, across pages, and
    a break on a later page is still found."""
    _events(7)
    assert audit_verify_chain(batch_size=3) == (7, None)
    assert audit_verify_chain(batch_size=7) == (7, None)  # a full last page, then an empty one
    victim = AuditEvent.objects.order_by("id")[5]
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["auth.nothing", victim.id])
    checked, broken = audit_verify_chain(batch_size=2)
    assert (checked, broken.event_id) == (5, victim.id)


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


def _filter(web, **data) -> str:
    """Filter the way the page does: a POST, redirected to the list named by an opaque
    filter id. Answers the list's address."""
    response = web.post(reverse("audit:list"), data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"].startswith(reverse("audit:list") + "?f=")
    return response["Location"]


def test_audit_page_filters_by_person_outcome_and_date(client_as, admin_user, clinician):
    audit_record(action="client.view", actor=clinician)
    audit_record(action="client.view", actor=clinician, outcome="denied")
    audit_record(action="client.view", actor=admin_user)
    client = client_as(admin_user)
    response = client.get(_filter(client, person="alice", outcome="denied"))
    assert response.status_code == 200
    assert len(response.context["events"]) == 1
    bad = client.post(reverse("audit:list"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert bad.status_code == 400
    assert "end date is before the start date" in bad.content.decode()
    not_an_id = client.post(reverse("audit:list"), {"client": "not-a-uuid"})
    assert not_an_id.status_code == 400
    assert "Enter a valid UUID." in not_an_id.content.decode()
    assert AuditEvent.objects.filter(action="audit.export").count() == 0


def test_audit_page_query_count_does_not_grow(
    client_as, admin_user, django_assert_max_num_queries, read_audit_queries
):
    client = client_as(admin_user)
    _events(5, admin_user)
    # session, user with roles (menu), session save (last seen), page of events with
    # actors, MRN and name of the page's clients: no COUNT(*) of the trail; and the
    # page's own read audit
    bound = 5 + read_audit_queries
    with django_assert_max_num_queries(bound):
        assert client.get(reverse("audit:list")).status_code == 200
    _events(320, admin_user)
    with django_assert_max_num_queries(bound) as queries:
        response = client.get(reverse("audit:list"))
    assert len(response.context["events"]) == 50
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


def _bulk_events(n, actor):
    """``n`` rows inserted in bulk (a trail that has grown for years); not a valid chain,
    which the list page never walks."""
    start = AuditEvent.objects.count()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=timezone.now(),
            actor=actor,
            actor_username=actor.username,
            action="access.chart",
            detail=f"n={start + i}",
            prev_hash=GENESIS_HASH,
            hash=hashlib.sha256(f"bulk-{start + i}".encode()).hexdigest(),
        )
        for i in range(n)
    )


def test_the_audit_list_costs_the_same_at_20000_rows_as_at_1000(
    client_as, admin_user, django_assert_max_num_queries, read_audit_queries
):
    """Issue 13: keyset pages, no COUNT(*): the newest page, an older page deep in the
    trail and a filtered page ask the same queries at 20,000 rows as at 1,000."""
    client = client_as(admin_user)
    _bulk_events(1_000, admin_user)

    def pages():
        middle = AuditEvent.objects.order_by("id").values_list("id", flat=True)[500]
        return [
            reverse("audit:list"),
            f"{reverse('audit:list')}?before={middle}",
            filtered,
        ]

    filtered = _filter(client, person=admin_user.username, action="access")
    counts = []
    for url in pages():
        with django_assert_max_num_queries(5 + read_audit_queries) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    _bulk_events(19_000, admin_user)
    client.get(reverse("audit:list"))  # building took seconds: this one saves last-seen
    for url, count in zip(pages(), counts, strict=True):
        with django_assert_max_num_queries(count) as queries:
            response = client.get(url)
        assert len(response.context["events"]) == 50
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    # The newest row when the page was asked for (the page's own read audit comes after).
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    newest = client.get(reverse("audit:list")).context["events"][0]
    assert newest.id == last


def test_audit_page_pages_by_id_with_newer_and_older_links(client_as, admin_user):
    client = client_as(admin_user)
    _events(119, admin_user)
    ids = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    assert len(ids) == 120  # with the sign-in
    filtered = _filter(client, person="avery")
    first = client.get(filtered)
    assert [e.id for e in first.context["events"]] == ids[:50]
    assert first.context["newer_after"] is None
    older = first.context["older_before"]
    # The pages keep the filter by its id alone.
    assert f'href="{filtered}&amp;before={older}"' in first.content.decode()
    second = client.get(f"{filtered}&before={older}")
    assert [e.id for e in second.context["events"]] == ids[50:100]
    third = client.get(f"{filtered}&before={ids[99]}")
    assert [e.id for e in third.context["events"]] == ids[100:]
    assert third.context["older_before"] is None
    back = client.get(f"{filtered}&after={third.context['newer_after']}")
    assert [e.id for e in back.context["events"]] == ids[50:100]


@pytest.fixture
def registered_subjects(monkeypatch):
    """A stand-in for the clients app's registration: two known clients."""
    import uuid

    from iop.audit import subjects

    known = {
        uuid.UUID(int=1): subjects.Subject(mrn="MRN-0001", name="Alex Abbott"),
        uuid.UUID(int=2): subjects.Subject(mrn="MRN-0002", name="Alex Abbott"),
    }
    monkeypatch.setattr(
        subjects,
        "_resolve_mrn",
        lambda mrn: next((k for k, v in known.items() if v.mrn.lower() == mrn.lower()), None),
    )
    monkeypatch.setattr(
        subjects, "_describe", lambda ids: {k: v for k, v in known.items() if k in ids}
    )
    return list(known)


def test_audit_page_shows_mrn_and_name_and_filters_by_mrn(
    client_as, admin_user, clinician, registered_subjects
):
    first, second = registered_subjects
    audit_record(action="client.view", actor=clinician, client=first)
    audit_record(action="client.view", actor=clinician, client=second)
    audit_record(action="client.view", actor=clinician, client=second, outcome="denied")
    client = client_as(admin_user)
    html = client.get(reverse("audit:list")).content.decode()
    assert "MRN-0001</button></form> Alex Abbott" in html
    assert "MRN-0002</button></form> Alex Abbott" in html
    filtered = client.get(_filter(client, mrn="mrn-0002"))
    assert [e.client_id for e in filtered.context["events"]] == [second, second]
    nobody = client.get(_filter(client, mrn="MRN-9999"))
    assert nobody.context["events"] == []
    # A row's MRN is a button that posts the client's opaque id, and the page says
    # whose events it shows.
    by_row = client.get(_filter(client, client=str(second)))
    assert [e.client_id for e in by_row.context["events"]] == [second, second]
    assert "Only events about MRN-0002 Alex Abbott." in by_row.content.decode()


def test_the_clients_app_registers_its_subjects(client_as, admin_user, clinician):
    from tests.clients.factories import ClientFactory

    person = ClientFactory()
    audit_record(action="client.view", actor=clinician, client=person)
    client = client_as(admin_user)
    response = client.get(_filter(client, mrn=person.mrn))
    assert len(response.context["events"]) == 1
    assert f"{person.mrn}</button></form> {person.legal_name}" in response.content.decode()


def _csv(response):
    return _csv_rows(b"".join(response.streaming_content))


def _csv_rows(raw: bytes):
    import csv
    import io

    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_export_has_the_filtered_pages_rows_and_is_audited(
    client_as, admin_user, clinician, registered_subjects
):
    first, second = registered_subjects
    for _ in range(3):
        audit_record(action="client.view", actor=clinician, client=second)
    audit_record(action="client.view", actor=clinician, client=first)
    audit_record(action="auth.login", actor=clinician)
    client = client_as(admin_user)
    filtered = _filter(client, mrn="MRN-0002", action="client.")
    page = client.get(filtered)
    export_url = f"{reverse('audit:export')}?{filtered.split('?')[1]}"
    assert f'href="{export_url}"' in page.content.decode()
    response = client.get(export_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = _csv(response)
    assert [int(row["id"]) for row in rows] == [e.id for e in page.context["events"]]
    assert {(row["client_mrn"], row["client_name"]) for row in rows} == {
        ("MRN-0002", "Alex Abbott")
    }
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == admin_user
    assert export.client_id == second
    assert export.detail == "csv; filters=mrn,action"


def test_csv_export_streams_past_one_batch_and_defuses_formulas(client_as, admin_user, monkeypatch):
    from iop.audit import views

    monkeypatch.setattr(views, "EXPORT_BATCH", 7)
    client = client_as(admin_user)  # writes auth.login
    audit_record(action="auth.login_failed", username="=HYPERLINK(1)", outcome="denied")
    _events(20)
    rows = _csv(client.get(reverse("audit:export")))
    assert len(rows) == 22
    assert [int(r["id"]) for r in rows] == sorted((int(r["id"]) for r in rows), reverse=True)
    assert rows[-2]["actor"] == "'=HYPERLINK(1)"


def test_csv_export_is_utf8_with_a_bom_names_in_full_and_defuses(client_as, admin_user, clinician):
    """Issue 18 items 7 and 11: a spreadsheet shows "Zoë Ñúñez" as written (UTF-8 with a
    byte-order mark, the charset said), and a formula-looking name typed at sign-in
    comes out as text; ids stay numbers."""
    from tests.clients.factories import ClientFactory

    person = ClientFactory(legal_first_name="Zoë", legal_last_name="Ñúñez")
    audit_record(action="client.view", actor=clinician, client=person)
    for typed in ("-2+3", "@SUM(1)", "+1", "\t=1"):
        audit_record(action="auth.login_failed", username=typed, outcome="denied")
    response = client_as(admin_user).get(reverse("audit:export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert "Zoë Ñúñez".encode() in raw
    rows = _csv_rows(raw)
    viewed = next(r for r in rows if r["action"] == "client.view")
    assert (viewed["client_mrn"], viewed["client_name"]) == (person.mrn, "Zoë Ñúñez")
    failed = [r["actor"] for r in rows if r["action"] == "auth.login_failed"]
    assert failed == ["'\t=1", "'+1", "'@SUM(1)", "'-2+3"]  # newest first
    assert all(r["id"].isdigit() for r in rows)


def test_csv_export_is_for_admins_only(client_as, clinician):
    assert client_as(clinician).get(reverse("audit:export")).status_code == 403


# --- Keyed chain and checkpoints (issue 7, finding 8) --------------------------------


def _verify_fails(match):
    with pytest.raises(CommandError, match=match):
        call_command("verify_audit")


def test_the_chain_is_keyed_with_the_audit_key(settings):
    _events(3)
    assert audit_verify_chain() == (3, None)
    settings.IOP_AUDIT_KEY = "another-key-that-an-intruder-might-guess-0123456789"
    checked, broken = audit_verify_chain()
    assert checked == 0
    assert "does not match its hash" in broken.reason


def test_verify_audit_writes_a_checkpoint_outside_the_database(settings, caplog):
    _events(4)
    with caplog.at_level("INFO", logger="iop.audit.checkpoint"):
        call_command("verify_audit")
    head = AuditEvent.objects.order_by("-id").first()
    lines = settings.IOP_AUDIT_CHECKPOINT_FILE.read_text().splitlines()
    assert len(lines) == 1
    assert f'"event_id": {head.id}' in lines[0]
    assert head.hash in lines[0]
    assert head.hash in caplog.text  # the log holds a second copy


def test_the_beat_task_writes_a_checkpoint(settings):
    from iop.audit.tasks import audit_checkpoint

    _events(2)
    audit_checkpoint()
    assert str(AuditEvent.objects.order_by("-id").first().id) in (
        settings.IOP_AUDIT_CHECKPOINT_FILE.read_text()
    )
    assert "iop.audit.tasks.audit_checkpoint" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_truncating_the_last_50_rows_is_detected():
    """The probe: cut the newest rows. Every remaining row still chains, so only the
    checkpoint (taken before the cut) can tell."""
    _events(120)
    call_command("verify_audit")  # writes a checkpoint of the head
    cut_from = AuditEvent.objects.order_by("-id")[49].id
    _tamper("DELETE FROM audit_auditevent WHERE id >= %s", [cut_from])
    assert AuditEvent.objects.count() == 70
    _verify_fails(r"checkpointed event is missing; the trail ends at event \d+ \(truncated\)")


def test_rehashing_from_row_500_with_plain_sha256_is_detected():
    """The probe: rewrite rows 500.. and re-hash them as the old unkeyed chain did."""
    _events(520)
    rows = list(AuditEvent.objects.order_by("id"))
    prev = rows[498].hash
    for event in rows[499:]:
        event.detail = "rewritten"
        event.prev_hash = prev
        payload = json.dumps(event.content(), sort_keys=True, separators=(",", ":"))
        new_hash = hashlib.sha256(f"{prev}|{payload}".encode()).hexdigest()
        _tamper(
            "UPDATE audit_auditevent SET detail = %s, prev_hash = %s, hash = %s WHERE id = %s",
            ["rewritten", prev, new_hash, event.id],
        )
        prev = new_hash
    _verify_fails(f"broken at event {rows[499].id}.*does not match its hash")


def test_rehashing_with_the_key_is_caught_by_a_checkpoint(settings):
    """Even someone holding the key cannot rewrite a row a checkpoint has seen."""
    _events(10)
    call_command("verify_audit")
    rows = list(AuditEvent.objects.order_by("id"))
    prev = rows[4].hash
    for event in rows[5:]:
        event.detail = "rewritten"
        event.prev_hash = prev
        new_hash = event.compute_hash()
        _tamper(
            "UPDATE audit_auditevent SET detail = %s, prev_hash = %s, hash = %s WHERE id = %s",
            ["rewritten", prev, new_hash, event.id],
        )
        prev = new_hash
    _verify_fails(f"broken at event {rows[-1].id}.*differs from its checkpoint")


def test_a_change_in_the_middle_is_detected_with_checkpoints():
    _events(30)
    call_command("verify_audit")
    victim = AuditEvent.objects.order_by("id")[14]
    _tamper("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [victim.id])
    _verify_fails(f"broken at event {victim.id}.*does not match its hash")


def test_checkpoints_of_another_database_are_ignored(settings):
    settings.IOP_AUDIT_CHECKPOINT_FILE.write_text(
        '{"database": "sqlite::/elsewhere.sqlite3", "event_id": 999999, "hash": "ab"}\n'
        "not json at all\n"
    )
    _events(3)
    assert audit_verify_chain() == (3, None)


# --- The recorded address (issue 7, finding 6; issue 8) ------------------------------


def _request(remote="198.51.100.7", forwarded=None):
    factory = RequestFactory()
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return factory.get("/", REMOTE_ADDR=remote, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9, 127.0.0.1", "198.51.100.7"),  # no proxy: the header is ignored
        (0, None, "198.51.100.7"),
        (1, "203.0.113.9, 127.0.0.1", "127.0.0.1"),  # the one proxy's own entry
        (1, "203.0.113.9", "203.0.113.9"),
        (2, "203.0.113.9, 192.0.2.4", "203.0.113.9"),
        (2, "spoofed, 203.0.113.9, 192.0.2.4", "203.0.113.9"),
        (1, None, "198.51.100.7"),  # not through the proxy: the socket
        (1, "not-an-ip", None),
        (1, "203.0.113.9:8080", None),
        (1, "fe80::1%eth0", None),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.IOP_TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(forwarded=forwarded)) == expected


def test_audit_record_survives_hostile_input():
    event = audit_record(
        action="x" * 100,
        audit=AuditContext(ip_address="not-an-ip"),
        username="nul\x00name" + "u" * 200,
        object_id="o" * 100,
        detail="d" * 400,
    )
    event.refresh_from_db()
    assert event.ip_address is None
    assert event.actor_username.startswith("nulname")
    assert (len(event.action), len(event.object_id), len(event.detail)) == (64, 64, 255)
    assert audit_verify_chain() == (1, None)


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_forged_forwarded_header_never_fails_an_audited_request(
    settings, client, clinician, password, proxies
):
    # Signing in writes auth.login: on PostgreSQL "not-an-ip" used to reach the inet
    # column and answer 500.
    settings.IOP_TRUSTED_PROXY_COUNT = proxies
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": password},
        headers={"X-Forwarded-For": "not-an-ip"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=clinician).exists()
    assert client.get("/clients/", headers={"X-Forwarded-For": "not-an-ip"}).status_code == 200


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_failed_sign_in_with_a_forged_header_is_audited(settings, client, clinician, proxies):
    settings.IOP_TRUSTED_PROXY_COUNT = proxies
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": "wrong-password-123"},
        headers={"X-Forwarded-For": "not-an-ip"},
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor_username == "alice"
    assert event.ip_address == (None if proxies else "127.0.0.1")


def test_bulk_append_chains_after_the_head_and_verifies(clinician):
    """The bulk path (seed_scale, imports) chains exactly as audit_record does: the
    first bulk row follows the existing head, and a later single write follows the
    last bulk row; verify_audit walks straight through."""
    from datetime import UTC, datetime

    from iop.audit.services import audit_bulk_append

    _events(2, clinician)
    head = AuditEvent.objects.order_by("-id").first()
    rows = [
        {
            "at": datetime(2026, 1, 5, 9, n, tzinfo=UTC),
            "actor_id": clinician.pk,
            "actor_username": clinician.username,
            "action": "client.view",
            "object_type": "" if n % 2 else "clients.client",
            "client_id": None if n % 2 else "8f2c3cb1-f69c-4406-b89a-b9e11cc26fb3",
            "ip_address": "10.0.0.7" if n % 2 else None,
            "detail": 'quoted "text", commas' if n == 1 else "",
        }
        for n in range(5)
    ]
    assert audit_bulk_append(rows, batch_size=2) == 5
    _events(1, clinician)

    bulk = list(AuditEvent.objects.filter(action="client.view").order_by("id"))
    assert bulk[0].prev_hash == head.hash
    assert bulk[1].detail == 'quoted "text", commas' and bulk[1].client_id is None
    assert bulk[0].ip_address is None and bulk[0].object_type == "clients.client"
    assert AuditEvent.objects.order_by("-id").first().prev_hash == bulk[-1].hash
    assert audit_verify_chain() == (8, None)
