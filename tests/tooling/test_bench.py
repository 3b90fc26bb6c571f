"""The benchmark's smoke test (``python manage.py bench``), at a tiny scale so it cannot
rot: every page answers its role, the JSON keeps its shape, and no page's query count
grows with the data. Timings are never asserted. PostgreSQL only (the benchmark's raw
SQL and seed_scale are PostgreSQL's); CI runs it there."""

import io
import json
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection

from iop import settings as project_settings
from tooling.bench.pages import PAGES, RUNNERS
from tooling.bench.raw import RAW_SQL

pytestmark = [pytest.mark.skipif("connection.vendor != 'postgresql'")]

PAGE_NAMES = {p.name for p in PAGES} | {r.name for r in RUNNERS}


def _seed(clients: int, *, reset: bool = False) -> None:
    if reset:
        # Inside the test's transaction: fire the deferred constraint triggers the first
        # seeding left pending, which TRUNCATE (the reset) refuses to run beside.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command(
        "seed_scale", clients=clients, reset=reset, not_production=True, stdout=io.StringIO()
    )


def _bench(tmp_path, clients: int, **options) -> dict:
    output = tmp_path / f"bench-{clients}.json"
    options = {"runs": 2, "report_runs": 1, **options}
    call_command(
        "bench",
        clients=clients,
        output=str(output),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        **options,
    )
    return json.loads(output.read_text())


def _restore_migration_rows() -> None:
    """An earlier transactional test's flush removed what the migrations seeded (roles,
    tracks and slots, panels, modalities and topics), which seed_scale builds on: put
    it back the way the factories do."""
    from django.apps import apps

    from clinical.notes.catalog import seed_catalog
    from tests.screening.factories import ensure_screening_defaults

    import_module("iop.accounts.migrations.0002_roles").create_roles(apps, None)
    ensure_screening_defaults()  # tracks and slots first, then analytes, panels, policies
    seed_catalog(apps)


@pytest.mark.django_db
def test_every_page_answers_and_no_query_count_grows_with_the_data(tmp_path):
    _restore_migration_rows()
    _seed(30)
    small = _bench(tmp_path, 30, no_load=True)

    assert {"date", "cores", "dataset", "clients", "pages", "reports", "load"} <= set(small)
    assert small["clients"] == 30 and small["cores"] >= 1
    assert small["dataset"]["attendance"] > 0
    # Every page was reached as its role (a 404 or 500 would have stopped the command).
    assert set(small["pages"]) == PAGE_NAMES
    for name, page in small["pages"].items():
        assert {"median_ms", "p95_ms", "cpu_ms", "queries"} <= set(page), name
        assert page["queries"] > 0, name
    assert set(small["reports"]) == set(RAW_SQL)
    for key, report in small["reports"].items():
        assert report["raw_sql_ms"] > 0 and report["ratio"] is not None, key
        assert small["pages"][report["page"]]["ratio_to_raw"] == report["ratio"]
    assert small["load"] == {}

    _seed(60, reset=True)
    large = _bench(tmp_path, 60, no_load=True)
    assert large["dataset"]["attendance"] > small["dataset"]["attendance"]
    queries = {
        name: (small["pages"][name]["queries"], p["queries"]) for name, p in large["pages"].items()
    }
    assert {n: q for n, q in queries.items() if q[0] != q[1]} == {}


@pytest.mark.django_db(transaction=True)
def test_staff_sign_in_and_click_through_under_gunicorn(tmp_path, settings):
    # The server checks passwords with the project's hashers, not the tests' fast MD5.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    _restore_migration_rows()
    # Committed data: gunicorn's workers read it from their own connections.
    _seed(30)
    result = _bench(tmp_path, 30, no_pages=True, load_seconds=4, users=6, workers=2)

    assert set(result["load"]) == {"paused", "no_pause"}
    for name, run in result["load"].items():
        assert {"requests_per_s", "p95_ms", "p50_ms", "p99_ms", "errors"} <= set(run), name
        # Everyone signed in through the form and every page answered 200.
        assert run["by_page"]["sign-in"]["requests"] == 6, name
        assert run["errors"] == 0, (name, run["failures"])
    assert result["load"]["no_pause"]["requests"] > result["load"]["paused"]["requests"]
