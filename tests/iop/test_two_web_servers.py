"""Past one server: two web servers share nothing but the database, Redis and the
report storage, and a signed-in person may land on either.

Two gunicorn processes on two loopback ports (each with its own IOP_VAR_DIR, so
nothing can pass between them through a local file) and one real Celery worker use
this test's PostgreSQL database, the session's Redis database and one report
directory, as servers behind a load balancer would. The admin signs in through the
form on A and is served by B with the same cookie; signing out on B ends the session
on A. A report over a wide range, started on A, runs in the worker and is downloaded
from B by its owner; another user signed in on B gets 404 for it.
"""

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from iop.audit.models import AuditEvent
from iop.audit.services import audit_verify_chain
from iop.celery import app
from iop.reports.models import ReportRun, RunStatus
from tests.iop.factories import PASSWORD
from tests.iop.test_notifications import _database_url
from tests.scheduling.test_reports import program  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
# Five months, past the attendance report's 92 inline days: it runs in the background.
WIDE_RANGE = {"start": "2026-06-01", "end": "2026-10-31"}

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_services():
    if not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite is one machine's file")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL (a real Redis broker)")
    app.control.purge()
    yield
    app.control.purge()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(var_dir: Path, reports_dir: Path) -> dict:
    env = {
        # pytest-env's production-like settings (debug off, keys, no HTTPS redirect).
        **os.environ,
        "DATABASE_URL": _database_url(),
        "IOP_VAR_DIR": str(var_dir),
        "IOP_AUDIT_CHECKPOINT_FILE": str(var_dir / "audit-checkpoints.jsonl"),
        "IOP_REPORTS_DIR": str(reports_dir),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("IOP_REPORTS_S3_BUCKET", None)
    return env


@contextmanager
def _process(args, env, log_path: Path):
    log = log_path.open("w")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        log.close()


def _wait(condition, seconds: float, what: str, log_path: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} timed out\n{log_path.read_text()[-3000:]}")


def _answers(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200  # noqa: S310
    except OSError:  # refused while starting, or a timeout while the app loads
        return False


@pytest.fixture
def two_servers(tmp_path, shared_services):
    """Web servers A and B (gunicorn) and one Celery worker, all started at once."""
    reports = tmp_path / "shared-reports"
    bases, logs = {}, {}
    with ExitStack() as stack:
        for name in ("a", "b"):
            port = _free_port()
            bases[name] = f"http://127.0.0.1:{port}"
            logs[name] = tmp_path / f"web-{name}.log"
            stack.enter_context(
                _process(
                    [sys.executable, "-m", "gunicorn", "iop.wsgi:application",
                     "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
                    _env(tmp_path / f"var-{name}", reports),
                    logs[name],
                )
            )  # fmt: skip
        logs["worker"] = tmp_path / "worker.log"
        stack.enter_context(
            _process(
                [sys.executable, "-m", "celery", "-A", "iop", "worker", "--pool=solo",
                 "--loglevel=INFO", "--without-mingle", "--without-gossip",
                 "--without-heartbeat"],
                _env(tmp_path / "var-worker", reports),
                logs["worker"],
            )
        )  # fmt: skip
        for name in ("a", "b"):
            _wait(lambda name=name: _answers(bases[name]), 30, f"server {name}", logs[name])
        _wait(lambda: "ready" in logs["worker"].read_text(), 30, "worker", logs["worker"])
        yield bases["a"], bases["b"], reports, logs


class Browser:
    """One person's cookies, sent to whichever server the request goes to (as behind a
    load balancer: the cookie belongs to the site's host name, not to a server)."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect
        )

    def cookie(self, name):
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(self, base, path, data=None):
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.cookie("csrftoken")})
            body = body.encode()
        try:
            response = self.opener.open(f"{base}{path}", data=body, timeout=30)
            return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def sign_in(self, base, username):
        assert self.request(base, "/accounts/login/")[0] == 200
        status, headers, _ = self.request(
            base, "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert status == 302 and "/accounts/login/" not in headers["Location"], status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect to the sign-in page is the failure this test looks for: keep it visible.
    def redirect_request(self, *args, **kwargs):
        return None


def _signed_in_page(status, headers, body) -> bool:
    return status == 200 and b'name="password"' not in body


def test_a_signed_in_user_and_a_report_run_move_between_two_web_servers(
    two_servers,
    program,  # noqa: F811
    admin_user,
    other_clinician,
    settings,
):
    a, b, reports, logs = two_servers
    # The servers verify with the production hasher, not the tests' fast MD5.
    settings.PASSWORD_HASHERS = ["iop.accounts.hashers.ClinicArgon2PasswordHasher"]
    for user in (admin_user, other_clinician):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])

    # Signed in through the form on A; the same cookie is served by B, and back.
    admin = Browser()
    admin.sign_in(a, admin_user.username)
    session = admin.cookie("sessionid")
    assert session
    assert _signed_in_page(*admin.request(b, "/")), "B sent the signed-in admin to sign in"
    assert _signed_in_page(*admin.request(a, "/clients/"))
    assert _signed_in_page(*admin.request(b, "/clients/"))
    assert admin.cookie("sessionid") == session

    # A wide range is offered as a background run on A, and started there.
    query = urllib.parse.urlencode(WIDE_RANGE)
    status, _, page = admin.request(a, f"/reports/attendance/?{query}")
    assert status == 200 and b'data-testid="run-background"' in page
    status, headers, _ = admin.request(a, "/reports/attendance/background/", WIDE_RANGE)
    assert status == 302, status
    run = ReportRun.objects.get(owner=admin_user)
    assert str(run.public_id) in headers["Location"]

    # B shows its progress (from the database) until the worker is done, then the file.
    def done_on_b():
        status, _, page = admin.request(b, f"/reports/runs/{run.public_id}/")
        assert status == 200
        return b'data-testid="run-download"' in page

    _wait(done_on_b, 30, "the report run", logs["worker"])
    status, headers, body = admin.request(b, f"/reports/runs/{run.public_id}/download/")
    assert status == 200, status
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    # Every CSV opens with one byte-order mark, so a spreadsheet reads it as UTF-8.
    assert body.startswith("\ufeff".encode()) and not body[3:].startswith("\ufeff".encode())
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("MRN,Track,Scheduled")
    assert {program["ada"].mrn, program["ben"].mrn} <= {line.split(",")[0] for line in lines[1:]}
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    # The file is in the shared storage, not under either server's own var directory.
    assert (reports / run.file_name).is_file()

    # Another user signed in on B: 404 for the admin's run, and the attempt audited.
    stranger = Browser()
    stranger.sign_in(b, other_clinician.username)
    assert stranger.request(b, f"/reports/runs/{run.public_id}/download/")[0] == 404
    assert stranger.request(a, f"/reports/runs/{run.public_id}/")[0] == 404
    assert AuditEvent.objects.filter(
        action="report.download", actor=other_clinician, outcome="denied"
    ).exists()
    assert AuditEvent.objects.filter(
        action="report.download", actor=admin_user, outcome="allowed"
    ).exists()

    # Signing out on B ends the session on A too: it lives in the database, not a server.
    assert admin.request(b, "/accounts/logout/", {})[0] == 302
    status, headers, _ = admin.request(a, "/clients/")
    assert status == 302 and "/accounts/login/" in headers["Location"]

    # Three processes appended to one audit chain at once: it still holds.
    checked, broken = audit_verify_chain(checkpoints=[])
    assert broken is None and checked > 0
    for name in ("a", "b"):
        assert "Traceback" not in logs[name].read_text(), logs[name].read_text()[-3000:]
