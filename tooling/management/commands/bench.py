"""``python manage.py bench``: every main page and report on clinic-scale data, the raw
SQL under each report, and a concurrent run under gunicorn; a table and a JSON file.

See the README's "Benchmark" section. Run by ``make bench``.
"""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from tooling.bench.billing import bench_billing
from tooling.bench.load import bench_load, default_workers, server_env
from tooling.bench.pages import REPORT_PAGES, BenchError, bench_pages, bench_raw_sql, twelve_months
from tooling.scale import dataset_size, landmarks

DEFAULT_OUTPUT = "var/bench/latest.json"


class Command(BaseCommand):
    help = (
        "Time the main pages, the reports against their hand-written SQL, and 50 staff "
        "under gunicorn, on the PostgreSQL database in DATABASE_URL (seeded with "
        "seed_scale when it holds fewer clients than --clients)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=5000, help="dataset size (clients)")
        parser.add_argument("--output", default=DEFAULT_OUTPUT, help="the JSON file to write")
        parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
        parser.add_argument(
            "--report-runs", type=int, default=5, help="timed runs per report and raw SQL"
        )
        parser.add_argument("--load-seconds", type=int, default=60, help="length of each run")
        parser.add_argument("--users", type=int, default=50, help="simulated staff")
        parser.add_argument(
            "--workers", type=int, default=0, help="gunicorn workers (default 2 x cores + 1)"
        )
        parser.add_argument("--no-load", action="store_true", help="skip the concurrent runs")
        parser.add_argument(
            "--no-pages", action="store_true", help="skip the pages and reports (load only)"
        )
        parser.add_argument(
            "--as-is",
            action="store_true",
            help="time under this process's settings even with DJANGO_DEBUG on (by default "
            "a debug process seeds, then times in a child with production settings)",
        )

    def handle(self, *args, **opts):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL.")
        lm = self._dataset(opts["clients"])
        say = self._progress if opts["verbosity"] >= 1 else (lambda _m: None)
        if settings.DEBUG:
            if not opts["as_is"]:
                # Debug settings time something else (template debug info, the query log,
                # static finders): seed here, time in a child with production settings.
                self._rerun_with_production_settings(opts)
                return
            self.stderr.write("DJANGO_DEBUG is on: the timings include debug overhead.")
        result = {
            "date": timezone.now().isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "commit": self._commit(),
            "machine": {
                # Other work on the machine makes every timing noisy: say how busy it was.
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                "platform": platform.platform(),
                "python": platform.python_version(),
                "postgresql": connection.cursor().connection.server_version,
            },
            "dataset": dataset_size(),
            "clients": lm["clients"],
            "settings": {
                "debug": settings.DEBUG,
                "runs": opts["runs"],
                "report_runs": opts["report_runs"],
                "report_range": {k: v.isoformat() for k, v in twelve_months().items()},
            },
        }
        pages, raw, reports = {}, {}, {}
        if not opts["no_pages"]:
            try:
                pages = bench_pages(
                    lm, runs=opts["runs"], report_runs=opts["report_runs"], progress=say
                )
            except BenchError as exc:
                raise CommandError(str(exc)) from exc
            raw = bench_raw_sql(runs=opts["report_runs"], progress=say)
        for key, page_name in REPORT_PAGES.items() if pages else ():
            page = pages[page_name]
            raw_ms = raw[key]["median_ms"]
            ratio = round(page["median_ms"] / raw_ms, 1) if raw_ms else None
            page.update(raw_sql_ms=raw[key]["median_ms"], ratio_to_raw=ratio)
            reports[key] = {
                "page": page_name,
                "median_ms": page["median_ms"],
                "raw_sql_ms": raw[key]["median_ms"],
                "raw_sql_rows": raw[key]["rows"],
                "ratio": ratio,
            }
        result["pages"] = pages
        result["reports"] = reports
        # Issue 22: a month's charges and claims, built and rolled back (tooling/bench/billing.py).
        result["billing"] = (
            {} if opts["no_pages"] else bench_billing(runs=opts["report_runs"], progress=say)
        )
        result["load"] = {}
        if not opts["no_load"]:
            workers = opts["workers"] or default_workers()
            result["load"] = bench_load(
                lm,
                users=opts["users"],
                seconds=opts["load_seconds"],
                workers=workers,
                progress=say,
            )
        self._write(result, opts["output"])
        self._table(result)

    def _rerun_with_production_settings(self, opts) -> None:
        argv = [sys.executable, "manage.py", "bench", "--as-is"]
        for name in ("clients", "output", "runs", "report_runs", "load_seconds", "users"):
            argv += [f"--{name.replace('_', '-')}", str(opts[name])]
        argv += ["--workers", str(opts["workers"]), "-v", str(opts["verbosity"])]
        argv += [f"--{flag.replace('_', '-')}" for flag in ("no_load", "no_pages") if opts[flag]]
        env = server_env()
        env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
        # Production settings serve static files from the manifest: build it first (a
        # fresh clone has none, and every page names a static file).
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        done = subprocess.run(argv, cwd=settings.BASE_DIR, env=env, check=False)  # noqa: S603
        if done.returncode:
            raise CommandError(f"the benchmark failed (exit {done.returncode})")

    def _commit(self) -> str:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def _progress(self, message):
        self.stderr.write(f"  {message}")

    def _dataset(self, clients: int) -> dict:
        try:
            lm = landmarks()
        except LookupError:
            lm = None
        if lm is None or lm["clients"] < clients:
            if not settings.DEBUG:
                # seed_scale's own guard: staff with a known password never land in a
                # production database because someone ran the benchmark there.
                raise CommandError(
                    f"The database holds {lm['clients'] if lm else 0} clients, fewer than "
                    f"--clients {clients}: seed it first (make bench, or seed_scale "
                    "--i-know-this-is-not-production on a benchmark server)."
                )
            self.stderr.write(f"Seeding {clients} clients with seed_scale...")
            call_command("seed_scale", clients=clients, reset=lm is not None)
            lm = landmarks()
        missing = [k for k in ("chart_client", "sheet_session", "note_session") if not lm[k]]
        if missing:
            self.stderr.write(f"The dataset has no {', '.join(missing)}: those pages are skipped.")
        return lm

    def _write(self, result: dict, output: str) -> None:
        path = Path(output)
        if not path.is_absolute():
            path = Path(settings.BASE_DIR) / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        self.stdout.write(f"Written: {path}")

    def _table(self, result: dict) -> None:
        out = self.stdout.write
        size = result["dataset"]
        out(
            f"\n{result['clients']:,} clients, {size.get('attendance', 0):,} attendance rows, "
            f"{size.get('audit', 0):,} audit rows; {result['cores']} cores; {result['date']}"
        )
        if result["pages"]:
            self._pages_table(result)
        if result.get("billing"):
            b = result["billing"]
            self.stdout.write(
                f"\nbilling {b['month']}: charges and claims built in {b['median_ms']:.0f} ms "
                f"({b['charges']} charges, {b['claims']} claims: {b['ready']} ready, "
                f"{b['held']} held); raw SQL yardstick {b['raw_sql_ms']:.0f} ms"
            )
            if b.get("export_ms") is not None:
                self.stdout.write(
                    f"billing 837P export: {b['exported_claims']} claims in "
                    f"{b['export_ms']:.0f} ms ({b['export_bytes']} bytes; target < 5000 ms)"
                )
        if result["load"]:
            self._load_table(result)

    def _pages_table(self, result: dict) -> None:
        out = self.stdout.write
        out(f"\n{'page':32} {'role':10} {'median':>8} {'p95':>8} {'cpu':>8} {'queries':>8}")
        for name, p in result["pages"].items():
            if "skipped" in p:
                out(f"{name:32} {p['role']:10} {'skipped: ' + p['skipped']}")
                continue
            out(
                f"{name:32} {p['role']:10} {p['median_ms']:>6.1f}ms {p['p95_ms']:>6.1f}ms "
                f"{p['cpu_ms']:>6.1f}ms {p['queries']:>8}"
            )
        out(f"\n{'report':16} {'timed as':32} {'median':>9} {'raw SQL':>9} {'ratio':>6}")
        for key, r in result["reports"].items():
            out(
                f"{key:16} {r['page']:32} {r['median_ms']:>7.1f}ms {r['raw_sql_ms']:>7.1f}ms "
                f"{r['ratio'] if r['ratio'] is not None else '-':>5}x"
            )

    def _load_table(self, result: dict) -> None:
        out = self.stdout.write
        out(
            f"\n{'load':10} {'users':>5} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} "
            f"{'errors':>7} {'cpu/req':>8}"
        )
        for name, r in result["load"].items():
            out(
                f"{name:10} {r['users']:>5} {r['requests_per_s']:>7.1f} {r['p50_ms']:>5.0f}ms "
                f"{r['p95_ms']:>5.0f}ms {r['p99_ms']:>5.0f}ms {r['errors']:>7} "
                f"{r['server_cpu_ms_per_request'] or 0:>6.1f}ms"
            )
