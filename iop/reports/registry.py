"""The reports registry: apps add their reports from their AppConfig.ready.

A platform piece: it never imports clients, scheduling or clinical (docs/architecture.md).
Each report brings its own filter form, its runner and its template; the runner
scopes every query through ``clients.access.clients_for`` itself, because only the
app knows which clients a figure is about. The screening app adds its report the
same way when it is merged (``register(Report("screening", ...))``).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    roles: tuple[str, ...]
    # A ``ReportForm`` subclass, bound to the query string (filters are codes and ids).
    form: type
    # runner(*, user, filters, progress) -> dict with "rows" (one dict per CSV row,
    # keyed by ``csv_columns``) and whatever else the template shows. ``filters`` is
    # the form's cleaned data; ``progress(percent)`` may be called on long runs. A
    # CSV (a background run, or the inline CSV: ``progress`` given) uses "rows" only:
    # the runner then computes nothing else, and may answer tuples in ``csv_columns``
    # order instead of dicts, which go to the CSV writer as they are.
    runner: Callable
    template: str
    csv_columns: tuple[str, ...]
    description: str = ""
    # Ranges longer than this run as a background task with a progress bar.
    inline_days: int = 92
    # For the read audit: clients(result) -> the clients a run shows (public ids, or
    # MRNs when only their count is kept), from "rows" (a CSV) or the page's result.
    clients: Callable | None = None
    # True when it shows clinical content about each of them (a screen's result):
    # each then gets an access row of their own, so ``clients`` gives public ids.
    clinical: bool = False


REPORTS: dict[str, Report] = {}


def register(report: Report) -> None:
    REPORTS.setdefault(report.key, report)


def reports_for(user) -> list[Report]:
    return [r for r in REPORTS.values() if user.is_authenticated and user.has_role(*r.roles)]
