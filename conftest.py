"""Fixtures shared by every test: one named staff member per role.

alice (clinician) owns the caseload in client tests, bob (clinician) is a
colleague with no reason to see alice's clients, carol supervises alice.
"""

import os
import shutil

import pytest
from django.db import connection

from tests.iop.factories import PASSWORD, UserFactory

# The portal's fixtures (a client with portal access, links, a week of schedule), for
# tests/portal and the browser tests alike.
pytest_plugins = ["tests.portal.fixtures"]

CHROMIUM = os.environ.get("IOP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_configure(config):
    """``IOP_TEST_CLOCK=01:40 make test`` runs the suite as if it started today at that
    clinic time (the clock then runs on): a sweep for tests that only pass at some hours
    of the day (a session "ended five minutes ago" is yesterday's just after midnight).
    Only this process's clock moves: a browser's, a worker's or a second server's not,
    nor PostgreSQL's (its triggers check that a signature is recorded "when it happens"
    by the database's own now()): the sweep runs on SQLite."""
    wall = os.environ.get("IOP_TEST_CLOCK")
    if not wall:
        return
    if os.environ.get("DATABASE_URL"):
        raise pytest.UsageError(
            "IOP_TEST_CLOCK moves this process's clock, not PostgreSQL's: unset DATABASE_URL "
            "(the sweep runs on SQLite)."
        )
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    import time_machine
    from django.conf import settings

    hours, minutes = (int(part) for part in wall.split(":"))
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(datetime.now(zone).date(), time(hours, minutes), tzinfo=zone)
    config._iop_clock = time_machine.travel(start, tick=True)
    config._iop_clock.start()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Django asks SQLite whether it has JSON functions the first time a query on this
    # connection uses one (a savepoint, SELECT JSON(...), a release: 3 queries, once).
    # Asked here, before any test, no query count depends on which test asked first.
    with django_db_blocker.unblock():
        connection.features.supports_json_field  # noqa: B018  (a cached probe)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs ~0.3 s a user; tests need no brute-force resistance.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_session_touch_in_pinned_counts(request, settings):
    """A test that pins a page's query count measures the page, not the session's
    last-seen write (at most every IOP_SESSION_TOUCH_SECONDS, whatever the data). On a
    busy machine building the data can take longer than those seconds, and the write
    would then land in the count depending on the machine and the order of tests."""
    pinned = {"django_assert_max_num_queries", "django_assert_num_queries"}
    if pinned & set(request.fixturenames):
        settings.IOP_SESSION_TOUCH_SECONDS = 24 * 3600


@pytest.fixture
def read_audit_queries(db) -> int:
    """What a page that shows clients adds to its pinned query count for its read audit
    (``iop.audit.services.audit_shown``), whatever the number of clients: the chain's
    advisory lock (PostgreSQL only), the previous row's hash and one INSERT."""
    return 3 if connection.vendor == "postgresql" else 2


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def admin_user(db):
    return UserFactory(username="avery", roles=["admin"], is_staff=True, is_superuser=True)


@pytest.fixture
def intake_user(db):
    return UserFactory(username="ines", roles=["intake"])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="carol", roles=["supervisor"], credential="LCSW-S")


@pytest.fixture
def clinician(db, supervisor):
    return UserFactory(
        username="alice",
        roles=["clinician"],
        credential="LPC-Associate",
        requires_cosign=True,
        clinical_supervisor=supervisor,
    )


@pytest.fixture
def other_clinician(db):
    return UserFactory(username="bob", roles=["clinician"], credential="LCSW")


@pytest.fixture
def medical_user(db):
    return UserFactory(username="mira", roles=["medical"], credential="MD")


@pytest.fixture
def billing_user(db):
    return UserFactory(username="bianca", roles=["billing"])


@pytest.fixture
def client_as(client):
    """Log the Django test client in as a user (2FA verified not required in tests)."""

    def login(user):
        client.force_login(user)
        return client

    return login


# --- Browser ---------------------------------------------------------------------------


def _chromium_path():
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI=true: install Debian's chromium package.")
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django's
    # ORM refuses to run beside one unless told the calls really are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    def login(username, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login" not in url)
        return page

    return login
