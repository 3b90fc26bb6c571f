"""The embedded default (SQLite) serves a small clinic: six staff at once, no errors.

The probe from the attack: six people using `make run` at the same time got "database
is locked" on 7.9 % of requests, all inside the audit write. This starts a real
server (runserver, threaded) on its own SQLite file, whatever DATABASE_URL the suite
runs on, so CI on PostgreSQL exercises it too, and six threads each sign in as a demo
user and open audited pages (sign-in, client list, charts, keep-alive).
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAFF = ["admin", "intake", "clinician", "clinician2", "supervisor", "medical"]
REQUESTS_PER_USER = 40


def _env(var_dir):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "IOP_")) and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update({"DJANGO_DEBUG": "1", "IOP_VAR_DIR": str(var_dir), "DJANGO_LOG_LEVEL": "ERROR"})
    return env


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120, **kwargs
    )


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("sqlite-clinic")
    env = _env(var_dir)
    _manage(env, "migrate", "--noinput", capture_output=True)
    _manage(env, "seed_demo", capture_output=True)
    port = _free_port()
    log = (var_dir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    try:
        yield base, var_dir, env
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


class _Staff:
    def __init__(self, base, username):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.username = username
        self.statuses = []

    def _csrf(self):
        return next(c.value for c in self.cookies if c.name == "csrftoken")

    def request(self, path, data=None):
        body = None
        if data is not None:
            data = {**data, "csrfmiddlewaretoken": self._csrf()}
            body = urllib.parse.urlencode(data).encode()
        try:
            response = self.opener.open(f"{self.base}{path}", data=body, timeout=30)
            status, html = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, html = error.code, ""
        self.statuses.append(status)
        return status, html

    def work(self, start):
        start.wait()
        self.request("/accounts/login/")
        self.request("/accounts/login/", {"username": self.username, "password": "demo"})
        _, html = self.request("/clients/")
        charts = sorted(set(re.findall(r'href="(/clients/[0-9a-f-]{36}/)"', html)))[:8] or ["/"]
        while len(self.statuses) < REQUESTS_PER_USER:
            n = len(self.statuses)
            if n % 5 == 0:
                self.request("/accounts/keepalive/", {})
            else:
                self.request(charts[n % len(charts)])


def test_six_staff_at_once_on_sqlite_get_no_errors(sqlite_server):
    base, var_dir, env = sqlite_server
    start = threading.Event()
    staff = [_Staff(base, name) for name in STAFF]
    threads = [threading.Thread(target=member.work, args=(start,)) for member in staff]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    start.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - began
    statuses = [status for member in staff for status in member.statuses]
    errors = [status for status in statuses if status >= 500]
    log = (var_dir / "server.log").read_text()
    print(
        f"{len(staff)} staff x {REQUESTS_PER_USER} requests: {len(statuses)} requests,"
        f" {len(errors)} errors, {elapsed:.1f} s"
    )
    assert len(statuses) == len(STAFF) * REQUESTS_PER_USER
    assert errors == [], log[-3000:]
    assert "database is locked" not in log
    assert set(statuses) <= {200}, sorted(set(statuses))
    verify = _manage(env, "verify_audit", capture_output=True, text=True)
    assert "Audit chain holds" in verify.stdout


def test_the_sqlite_file_runs_in_wal_mode(sqlite_server):
    _, var_dir, env = sqlite_server
    result = _manage(
        env,
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor();"
        " print([c.execute(f'PRAGMA {p}').fetchone()[0]"
        " for p in ('journal_mode', 'busy_timeout', 'synchronous')])",
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "['wal', 20000, 1]"
