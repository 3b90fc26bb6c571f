"""The reports registry: apps add their reports from their AppConfig.ready.

A platform piece: it never imports clients, scheduling or clinical (docs/architecture.md).
Each report brings its own filter form, its runner and its template; the runner
scopes every query through ``clients.access.clients_for`` itself, because only the
app knows which clients a figure is about. The screening app adds its report the
same way when it is merged (``register(Report("screening", ...))``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    roles: tuple[str, ...]
    # A ``ReportForm`` subclass, bound to the query string (filters are codes and ids).
    form: type
    # runner(*, user, filters, progress, page=False) -> dict with "rows" (one dict per
    # CSV row, keyed by ``csv_columns``) and whatever else the template shows.
    # ``filters`` is the form's cleaned data; ``progress(percent)`` may be called on
    # long runs. The inline CSV (``progress`` given) uses "rows" only: the runner then
    # computes nothing else, and may answer tuples in ``csv_columns`` order instead of
    # dicts, which go to the CSV writer as they are. A background run (``progress``
    # given and ``page=True``) wants both: the CSV's rows (tuples allowed) and
    # everything else the template shows, which is stored for the run's page.
    runner: Callable
    template: str
    csv_columns: tuple[str, ...]
    description: str = ""
    # The CSV's first line in words, by column ("sessions_scheduled": "Scheduled"); a
    # column without one is written as its name in words ("Sessions scheduled").
    csv_labels: dict[str, str] = field(default_factory=dict)
    # Keys of the runner's answer the template never reads, left out of a background
    # run's stored page (the billable-days page reads its first rows, not all 390,000).
    page_omits: tuple[str, ...] = ()
    # Ranges longer than this run as a background task with a progress bar.
    inline_days: int = 92
    # For the read audit: clients(result) -> the clients a run shows (public ids, or
    # MRNs when only their count is kept), from "rows" (a CSV) or the page's result.
    clients: Callable | None = None
    # True when it shows clinical content about each of them (a screen's result):
    # each then gets an access row of their own, so ``clients`` gives public ids.
    clinical: bool = False

    def csv_header(self) -> list[str]:
        return [
            self.csv_labels.get(column) or column.replace("_", " ").capitalize()
            for column in self.csv_columns
        ]


REPORTS: dict[str, Report] = {}


def register(report: Report) -> None:
    REPORTS.setdefault(report.key, report)


def reports_for(user) -> list[Report]:
    return [r for r in REPORTS.values() if user.is_authenticated and user.has_role(*r.roles)]
