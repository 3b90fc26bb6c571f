"""The pages and reports the benchmark times in process, each as the role that uses it.

A page is requested through ``django.test.Client`` (the whole middleware stack, the
audit row included), signed in with ``force_login``. Each is requested once to warm
up, once under ``CaptureQueriesContext`` for its query count, then ``runs`` times for
server time (wall clock) and Python CPU (``time.process_time``: this process only, so
the database server's work is not in it).

A report over 12 months runs in a Celery worker (``inline_days`` in its registration):
for those the "page" is the report's runner called as the task calls it, and the
request that starts the run is timed beside it (``..._start``).

Like the dashboard, this module looks at every app through ``iop.reports.registry``
and URL names.
"""

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from tooling.bench.raw import RAW_SQL, run_raw


class BenchError(Exception):
    """A page answered something other than what a user would get (a 404, a 500)."""


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # a key of landmarks(): "clinician", "admin", ...
    path: Callable[[dict], str]
    method: str = "get"
    data: Callable[[dict], dict] | None = None
    status: int = 200
    # The report this page answers, when it is one (its raw SQL is timed beside it).
    report: str = ""
    # A request made once before timing (e.g. the search the list then shows).
    before: Callable[[Client, dict], None] | None = None


@dataclass(frozen=True)
class Runner:
    """A background report: its runner, called as ``iop.reports.tasks.run_report``
    calls it (with a progress callback, so only the CSV's rows are computed)."""

    name: str
    role: str
    report: str


def twelve_months() -> dict:
    end = timezone.localdate() - timedelta(days=1)
    return {"start": end - timedelta(days=364), "end": end}


def _range_query(_lm) -> dict:
    r = twelve_months()
    return {"start": r["start"].isoformat(), "end": r["end"].isoformat()}


def _report_url(key: str):
    return lambda _lm: reverse("reports:report", args=[key])


def _search(client: Client, lm: dict) -> None:
    response = client.post(reverse("clients:list"), {"q": lm["search_term"]}, secure=True)
    if response.status_code != 302:
        raise BenchError(f"client search: the search form answered {response.status_code}")


PAGES = [
    Page("dashboard", "clinician", lambda lm: reverse("dashboard")),
    Page("caseload", "clinician", lambda lm: reverse("clients:caseload")),
    Page("client_list", "clinician", lambda lm: reverse("clients:list")),
    # Program-wide, by name: the front desk's search over every client.
    Page("client_search", "admin", lambda lm: reverse("clients:list"), before=_search),
    Page("chart", "clinician", lambda lm: reverse("clients:chart", args=[lm["chart_client"]])),
    Page(
        "attendance_sheet_50",
        "clinician",
        lambda lm: reverse("scheduling:attendance_sheet", args=[lm["sheet_session"]]),
    ),
    Page(
        "group_note_12",
        "clinician",
        lambda lm: reverse("notes:group_note", args=[lm["note_session"]]),
    ),
    Page("my_week", "clinician", lambda lm: reverse("scheduling:week")),
    Page("program_day", "clinician", lambda lm: reverse("scheduling:day")),
    Page(
        "room_week",
        "clinician",
        lambda lm: reverse("scheduling:room_week", args=[lm["sheet_room_id"]]),
    ),
    Page(
        "report_attendance_12m_start",
        "admin",
        lambda lm: reverse("reports:background", args=["attendance"]),
        method="post",
        data=_range_query,
        status=302,
    ),
    Page("report_census_12m", "admin", _report_url("census"), data=_range_query, report="census"),
    Page(
        "report_billable_12m_start",
        "admin",
        lambda lm: reverse("reports:background", args=["billable-days"]),
        method="post",
        data=_range_query,
        status=302,
    ),
    Page(
        "report_screening_12m_start",
        "admin",
        lambda lm: reverse("reports:background", args=["screening"]),
        method="post",
        data=_range_query,
        status=302,
    ),
    Page(
        "report_documentation_12m",
        "admin",
        _report_url("documentation"),
        data=_range_query,
        report="documentation",
    ),
    Page("audit_list", "admin", lambda lm: reverse("audit:list")),
    Page("outbox", "admin", lambda lm: reverse("notifications:outbox")),
]

RUNNERS = [
    Runner("report_attendance_12m", "admin", "attendance"),
    Runner("report_billable_12m", "admin", "billable-days"),
    Runner("report_screening_12m", "admin", "screening"),
]

# Where each report's time comes from: a runner (background) or a page (inline).
REPORT_PAGES = {
    **{r.report: r.name for r in RUNNERS},
    **{p.report: p.name for p in PAGES if p.report},
}
assert set(REPORT_PAGES) == set(RAW_SQL), "every report has its raw SQL, and no other"


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with ``pct`` % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def measure(call: Callable[[], object], runs: int) -> dict:
    call()  # warm-up: connections, template and URL caches, the planner's statistics
    # Each request starts by emptying the query log (request_started -> reset_queries);
    # start from an empty one too, or a full log (DEBUG on) hides the request's queries.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = len(captured)  # now: the context reads the log when asked, and requests empty it
    wall, cpu = [], []
    for _ in range(runs):
        cpu_start, start = time.process_time(), time.perf_counter()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    return {
        "median_ms": round(statistics.median(wall), 1),
        "p95_ms": round(percentile(wall, 95), 1),
        "cpu_ms": round(statistics.median(cpu), 1),
        "queries": queries,
        "runs": runs,
    }


@dataclass
class Session:
    """One signed-in test client per role."""

    landmarks: dict
    clients: dict = field(default_factory=dict)

    def user(self, role: str):
        return get_user_model().objects.get(username=self.landmarks[role])

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            client.force_login(self.user(role))
            self.clients[role] = client
        return self.clients[role]


def _page_call(session: Session, page: Page) -> Callable[[], object]:
    lm = session.landmarks
    client = session.client(page.role)
    if page.before:
        page.before(client, lm)
    url = page.path(lm)
    data = page.data(lm) if page.data else None
    request = getattr(client, page.method)

    def call():
        response = request(url, data, secure=True) if data else request(url, secure=True)
        if response.status_code != page.status:
            raise BenchError(f"{page.name}: {response.status_code}, expected {page.status}")
        return response

    return call


def _runner_call(session: Session, runner: Runner) -> Callable[[], object]:
    from iop.reports.registry import REPORTS
    from iop.reports.services import bind_form

    report = REPORTS[runner.report]
    user = session.user(runner.role)
    form = bind_form(report, _range_query(None), user=user)

    def call():
        return report.runner(user=user, filters=form.cleaned_data, progress=lambda _p: None)

    return call


def _missing(page: Page, lm: dict) -> str:
    """The landmark a page needs and the dataset lacks (e.g. no 12-client group)."""
    try:
        page.path(lm)
    except Exception:  # a None public id makes reverse() fail
        return "landmark missing"
    return ""


def bench_pages(landmarks: dict, *, runs: int, report_runs: int, progress=print) -> dict:
    """Time every page and runner; ``{name: figures}`` in the order of the table."""
    from iop.reports.models import ReportRun

    started = timezone.now()
    session = Session(landmarks)
    results = {}
    # The test client's host, whatever the deployment's allowed hosts are.
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        for page in PAGES:
            skipped = _missing(page, landmarks)
            if skipped:
                results[page.name] = {"role": page.role, "skipped": skipped}
                continue
            progress(page.name)
            figures = measure(_page_call(session, page), runs)
            results[page.name] = {"role": page.role, **figures}
        for runner in RUNNERS:
            progress(runner.name)
            figures = measure(_runner_call(session, runner), report_runs)
            results[runner.name] = {"role": runner.role, "kind": "runner", **figures}
    # The runs the start pages queued: gone, so a worker that picks their tasks up later
    # finds nothing to claim (report_run_execute skips a run that is not queued).
    ReportRun.objects.filter(owner=session.user("admin"), created_at__gte=started).delete()
    return results


def bench_raw_sql(*, runs: int, progress=print) -> dict:
    """Time each report's hand-written SQL over the same 12 months."""
    r = twelve_months()
    results = {}
    for key in RAW_SQL:
        progress(f"raw SQL: {key}")
        rows = run_raw(key, start=r["start"], end=r["end"], tz=settings.TIME_ZONE)
        figures = measure(
            lambda key=key: run_raw(key, start=r["start"], end=r["end"], tz=settings.TIME_ZONE),
            runs,
        )
        results[key] = {
            "rows": rows,
            "median_ms": figures["median_ms"],
            "p95_ms": figures["p95_ms"],
        }
    return results
