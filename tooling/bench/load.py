"""The concurrent run: gunicorn on a free loopback port, locust's simulated staff.

The server runs with production settings (debug off, the manifest static storage served
by WhiteNoise, the cached template loader), except what a plain-HTTP loopback run needs
off: the HTTPS redirect and secure cookies (``DJANGO_SECURE_SSL=0``), and TOTP, which
seeded staff have not enrolled (``IOP_REQUIRE_2FA=0``). It uses the audit key of the
process that runs the benchmark, so its audit rows continue the same chain.

Workers: ``2 * cores + 1`` sync workers (gunicorn's own rule of thumb), since a request
here spends a good part of its time waiting for PostgreSQL; ``--workers`` overrides it.
Locust runs on the same machine and takes CPU from the server: the report says so.
"""

import csv
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# The mix of the 50: most are clinicians on their own caseloads; a few supervisors and
# program admins. Accounts are reused round-robin when the dataset has fewer.
MIX = {"clinician": 0.8, "supervisor": 0.1, "admin": 0.1}


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this process uses (under pytest: the test database)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def server_env() -> dict:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": (settings.SECRET_KEY if not settings.DEBUG else "")
        or secrets.token_urlsafe(50),
        "IOP_AUDIT_KEY": settings.IOP_AUDIT_KEY,
        "DJANGO_SECURE_SSL": "0",
        "IOP_REQUIRE_2FA": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_MANIFEST": "1",
        "DATABASE_URL": database_url(),
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


# --- Who signs in, and what each opens -------------------------------------------------


def _staff(role: str, prefix: str):
    from iop.accounts.models import Role

    return (
        get_user_model()
        .objects.filter(groups__name=getattr(Role, role.upper()), is_active=True)
        .filter(username__startswith=prefix)
        .distinct()
        .order_by("username")
    )


def _clinician_pages(user) -> list:
    from clients.models import Client
    from scheduling.models import GroupSession

    today = timezone.localdate()
    charts = (
        Client.objects.filter(
            status="active",
            care_team__staff=user,
            care_team__role="primary",
            care_team__ended_on__isnull=True,
        )
        .order_by("pk")
        .values_list("public_id", flat=True)[:20]
    )
    sessions = list(
        GroupSession.objects.filter(
            group__facilitators=user,
            date__gte=today - timedelta(days=14),
            date__lte=today,
            cancelled_at__isnull=True,
        )
        .order_by("-date")
        .values_list("public_id", "group__room_id")[:5]
    )
    pages = [
        ("dashboard", [reverse("dashboard")]),
        ("caseload", [reverse("clients:caseload")]),
        ("client list", [reverse("clients:list")]),
        ("my week", [reverse("scheduling:week")]),
        ("program day", [reverse("scheduling:day")]),
    ]
    if charts:
        pages.append(("chart", [reverse("clients:chart", args=[c]) for c in charts]))
    if sessions:
        pages += [
            (
                "attendance sheet",
                [reverse("scheduling:attendance_sheet", args=[s]) for s, _ in sessions],
            ),
            ("group note", [reverse("notes:group_note", args=[s]) for s, _ in sessions]),
            ("room week", [reverse("scheduling:room_week", args=[r]) for _, r in sessions]),
        ]
    return pages


def _last_month_query() -> str:
    today = timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return "?" + urlencode({"start": end.replace(day=1).isoformat(), "end": end.isoformat()})


def _admin_pages(_user) -> list:
    return [
        ("dashboard", [reverse("dashboard")]),
        ("client list", [reverse("clients:list")]),
        ("program day", [reverse("scheduling:day")]),
        ("audit list", [reverse("audit:list")]),
        ("outbox", [reverse("notifications:outbox")]),
        ("reports", [reverse("reports:index")]),
        ("census (month)", [reverse("reports:report", args=["census"]) + _last_month_query()]),
    ]


def _supervisor_pages(_user) -> list:
    return [
        ("dashboard", [reverse("dashboard")]),
        ("caseload", [reverse("clients:caseload")]),
        ("client list", [reverse("clients:list")]),
        ("my week", [reverse("scheduling:week")]),
        (
            "documentation (month)",
            [reverse("reports:report", args=["documentation"]) + _last_month_query()],
        ),
    ]


PAGES_BY_ROLE = {
    "clinician": _clinician_pages,
    "supervisor": _supervisor_pages,
    "admin": _admin_pages,
}


def accounts(landmarks: dict, *, users: int) -> list[dict]:
    """``users`` sign-ins, by MIX, each with the pages that account may open. Only the
    seeded accounts (their user names share the landmarks' prefix) have the password."""
    prefix = landmarks["admin"].split("-")[0] + "-"
    by_role = []
    for role, share in MIX.items():
        chosen = []
        n = max(1, round(users * share))
        pool = []
        for user in _staff(role, prefix)[: n * 3]:
            pages = PAGES_BY_ROLE[role](user)
            # Clinicians with a caseload and a group only: the pages they use.
            if role != "clinician" or len(pages) > 5:
                pool.append((user, pages))
            if len(pool) == n:
                break
        if not pool:
            user = get_user_model().objects.get(username=landmarks[role])
            pool = [(user, PAGES_BY_ROLE[role](user))]
        for i in range(n):
            user, pages = pool[i % len(pool)]
            chosen.append(
                {
                    "username": user.username,
                    "role": role,
                    "password": landmarks["password"],
                    "pages": pages,
                }
            )
        by_role.append(chosen)
    # Interleave roles, so a short run's first sign-ins are not all clinicians.
    mixed = [a for batch in itertools.zip_longest(*by_role) for a in batch if a]
    return mixed[:users]


# --- Server and load -------------------------------------------------------------------


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status
    except OSError:
        return 0


class Server:
    """gunicorn in a child process; a context manager that stops it."""

    def __init__(self, *, workers: int, env: dict):
        self.workers = workers
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def __enter__(self):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=self.env,
            check=True,
        )
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "iop.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=self.env,
        )
        deadline = time.monotonic() + 60
        while _get(f"{self.url}/healthz") != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("gunicorn did not start (see its output above)")
            time.sleep(0.3)
        return self

    def cpu_seconds(self) -> float:
        """User and system CPU of the workers so far (psutil comes with locust)."""
        try:
            import psutil
        except ImportError:
            return 0.0
        total = 0.0
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def run_locust(
    server: Server, accounts_file: str, *, users: int, seconds: int, pause: tuple
) -> dict:
    """One headless locust run against ``server``; the aggregated figures."""
    with tempfile.TemporaryDirectory(prefix="iop-bench-") as folder:
        prefix = str(Path(folder) / "run")
        env = {
            **os.environ,
            "IOP_BENCH_ACCOUNTS": accounts_file,
            "IOP_BENCH_PAUSE": f"{pause[0]},{pause[1]}",
        }
        cpu_before = server.cpu_seconds()
        done = subprocess.run(  # noqa: S603 (our own interpreter and file)
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(5, users // 5)),
                "--run-time",
                f"{seconds}s",
                "--host",
                server.url,
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "ERROR",
                "--stop-timeout",
                "10",
                "--exit-code-on-error",
                "0",
            ],
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"locust failed: {done.stderr[-2000:]}")
        cpu = server.cpu_seconds() - cpu_before
        with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
            failures = [
                {"name": r["Name"], "error": r["Error"], "count": int(_number(r["Occurrences"]))}
                for r in csv.DictReader(handle)
            ]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    requests = int(_number(total["Request Count"]))
    return {
        "users": users,
        "seconds": seconds,
        "pause_s": list(pause),
        "workers": server.workers,
        "requests": requests,
        "requests_per_s": round(_number(total["Requests/s"]), 1),
        "errors": int(_number(total["Failure Count"])),
        "p50_ms": _number(total["50%"]),
        "p95_ms": _number(total["95%"]),
        "p99_ms": _number(total["99%"]),
        "server_cpu_ms_per_request": round(1000 * cpu / requests, 1) if requests else None,
        "by_page": {
            r["Name"]: {
                "requests": int(_number(r["Request Count"])),
                "errors": int(_number(r["Failure Count"])),
                "p50_ms": _number(r["50%"]),
                "p95_ms": _number(r["95%"]),
            }
            for r in rows
            if r["Name"] != "Aggregated"
        },
        "failures": failures[:20],
    }


RUNS = {"paused": (2, 8), "no_pause": (0, 0)}


def bench_load(
    landmarks: dict, *, users: int, seconds: int, workers: int, runs=RUNS, progress=print
) -> dict:
    """The load runs named in ``runs`` (name -> pause range), one server for all."""
    with tempfile.NamedTemporaryFile(
        "w", suffix=".json", prefix="iop-bench-accounts-", delete=False
    ) as handle:
        json.dump(accounts(landmarks, users=users), handle)
    try:
        results = {}
        with Server(workers=workers, env=server_env()) as server:
            for name, pause in runs.items():
                progress(f"load: {users} users, {seconds} s, pauses {pause[0]}-{pause[1]} s")
                results[name] = run_locust(
                    server, handle.name, users=users, seconds=seconds, pause=pause
                )
        return results
    finally:
        os.unlink(handle.name)
