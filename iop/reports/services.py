"""Running reports: the audit of a run, background runs and their files.

A run's CSV lives in private storage (``STORAGES["reports"]``: the file system under
``IOP_VAR_DIR/reports`` by default, S3-compatible storage by configuration), is
served only to the person who asked, and is removed 24 hours later by the beat task
``purge_reports``.
"""

import logging
import tempfile
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from iop.audit.services import AuditContext, audit_record, audit_shown
from iop.csvexport import csv_lines
from iop.reports.models import ReportRun, RunStatus
from iop.reports.registry import REPORTS, Report
from iop.reports.values import page_dumps, page_loads

log = logging.getLogger(__name__)

SPOOL_BYTES = 4 * 1024 * 1024

KEEP_FOR = timedelta(hours=24)
# A run still queued this long after it was started lost its message: the broker was
# down when it was started, or restarted without its append-only file. The beat task
# ``requeue_reports`` sends it again.
REQUEUE_AFTER = timedelta(minutes=10)


def report_storage():
    return storages["reports"]


def _filters_detail(filters: dict) -> str:
    # Codes and ids only (the form's filter_codes): safe in the audit's detail.
    return ";".join(f"{k}={v}" for k, v in sorted(filters.items()))


def _audit_result(*, action: str, report: Report, result: dict, audit: AuditContext, **row):
    """A run's read audit, by the one rule for pages that show clients
    (``audit_shown``): the run's row with the count of its clients, and one access row
    per client when the report shows clinical content about each."""
    shown = []
    if report.clients is not None:
        # A CSV's runner may answer tuples in ``csv_columns`` order (the registry's
        # contract): ``clients`` reads every row by its column names.
        rows = [
            row if isinstance(row, dict) else dict(zip(report.csv_columns, row, strict=False))
            for row in result.get("rows", ())
        ]
        shown = [client for client in report.clients({**result, "rows": rows}) if client]
    audit_shown(
        audit=audit,
        page=f"report:{report.key}",
        action=action,
        listed=() if report.clinical else shown,
        clinical=shown if report.clinical else (),
        **row,
    )


def report_ran(
    *, report: Report, filters: dict, actor, result: dict, fmt: str, audit: AuditContext
) -> None:
    """Audit a report run inline (page, print, CSV): who, which report, which filters,
    and which clients it showed."""
    _audit_result(
        action="report.run",
        report=report,
        result=result,
        actor=actor,
        audit=audit,
        object_type="reports.report",
        object_id=report.key,
        detail=f"format={fmt}; rows={len(result['rows'])}; {_filters_detail(filters)}",
    )


def bind_form(report: Report, filters: dict, *, user):
    form = report.form(filters, user=user)
    if not form.is_valid():
        raise ValidationError("The report's filters are no longer valid.")
    return form


@transaction.atomic
def report_run_start(
    *, report: Report, filters: dict, actor, audit: AuditContext | None = None
) -> ReportRun:
    """Queue a background run of ``report`` for ``actor``; the task starts on commit."""
    if not actor.has_role(*report.roles):
        raise ValidationError("You may not run this report.")
    bind_form(report, filters, user=actor)  # the service owns the rule, not the view
    run = ReportRun.objects.create(
        report=report.key,
        owner=actor,
        filters=filters,
        expires_at=timezone.now() + KEEP_FOR,
    )
    audit_record(
        action="report.run",
        actor=actor,
        audit=audit,
        obj=run,
        detail=f"format=background; {_filters_detail(filters)}",
    )
    transaction.on_commit(lambda: _publish(run.pk))
    return run


def _publish(run_id: int) -> None:
    """Send a run to the workers. A broker that is down costs the page nothing: the
    run stays queued and ``report_runs_requeue`` sends it when the broker is back."""
    from iop.reports.tasks import run_report

    try:
        run_report.apply_async((run_id,), retry=False)
    except Exception as exc:  # noqa: BLE001  (kombu raises many kinds when the broker is down)
        log.warning(
            "broker unavailable (%s); report run %s waits for the requeue sweep",
            type(exc).__name__,
            run_id,
        )


def report_runs_requeue(*, now=None) -> int:
    """Send again every run still queued ``REQUEUE_AFTER`` after it was started.
    Sending one twice is harmless: the first worker claims it, any other skips it."""
    now = now or timezone.now()
    stale = list(
        ReportRun.objects.filter(
            status=RunStatus.QUEUED, created_at__lte=now - REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    for run_id in stale:
        _publish(run_id)
    return len(stale)


def _set_progress(run_id: int, percent: int) -> None:
    ReportRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=max(0, min(100, int(percent)))
    )


def report_run_execute(*, run_id: int) -> str:
    """Claim a queued run (a conditional UPDATE: two workers never run it twice), run
    it as its owner, write its CSV to private storage."""
    claimed = ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, progress=1
    )
    if not claimed:
        return "skipped"
    run = ReportRun.objects.select_related("owner").get(pk=run_id)
    report = REPORTS.get(run.report)
    try:
        if report is None or not run.owner.is_active or not run.owner.has_role(*report.roles):
            raise PermissionError("owner may not run")
        form = bind_form(report, run.filters, user=run.owner)
        result = report.runner(
            user=run.owner,
            filters=form.cleaned_data,
            progress=lambda percent: _set_progress(run.pk, 5 + percent * 0.8),
            page=True,
        )
        # Written as it is produced into a spooled file (memory up to a few MB, then a
        # temporary file): a year of billable days is 390,000 lines, not one string.
        # The one writer (iop/csvexport.py): its first piece carries the file's one BOM.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
            for chunk in csv_lines(report.csv_columns, result["rows"], headers=report.csv_header()):
                body.write(chunk.encode("utf-8"))
            body.seek(0)
            name = report_storage().save(f"{run.public_id}/{report.key}.csv", File(body))
        # The page as the form shows it (tables, totals, charts), read back by the run's
        # page; its filters are re-read from the run's codes there, not stored.
        page = {
            key: value
            for key, value in result.items()
            if key not in report.page_omits and key != "filters"
        }
        page_name = report_storage().save(
            f"{run.public_id}/{report.key}.page.json", ContentFile(page_dumps(page))
        )
    except Exception as exc:  # the run shows failed; the log names the code, not the data
        log.warning("report run %s failed: %s", run.pk, type(exc).__name__)
        ReportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=type(exc).__name__[:60], finished_at=timezone.now()
        )
        return "failed"
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        progress=100,
        file_name=name,
        page_file_name=page_name,
        row_count=len(result["rows"]),
        finished_at=timezone.now(),
    )
    # The file is its owner's to download (``report.download`` names the run): its
    # clients are on the trail from here, with the run's id.
    _audit_result(
        action="report.complete",
        report=report,
        result=result,
        audit=AuditContext.system("run_report"),
        object_type=run._meta.label_lower,
        object_id=str(run.public_id),
        detail=f"rows={len(result['rows'])}",
    )
    return "done"


def run_page_shown(*, report: Report, run: ReportRun, result: dict, audit: AuditContext) -> None:
    """The read audit of a run's page, by the rule every page that shows clients
    follows: the clients its tables list (its first rows when the page shows only
    those), each with an access row of their own when the report is clinical."""
    rows = result["rows"] if "rows" in result else result.get("visible_rows", ())
    _audit_result(
        action="report.view",
        report=report,
        result={**result, "rows": rows},
        audit=audit,
        object_type=run._meta.label_lower,
        object_id=str(run.public_id),
        detail=f"rows={len(rows)}",
    )


def run_page(run: ReportRun) -> dict | None:
    """A finished run's stored page result, or None (not done, expired, purged)."""
    if run.status != RunStatus.DONE or not run.page_file_name:
        return None
    try:
        with report_storage().open(run.page_file_name, "rb") as handle:
            return page_loads(handle.read())
    except (FileNotFoundError, OSError, ValueError):
        return None


def report_runs_purge(*, now=None) -> int:
    """Remove runs (and their files) older than 24 hours. Safe to overlap."""
    now = now or timezone.now()
    removed = 0
    storage = report_storage()
    for run in ReportRun.objects.filter(expires_at__lte=now):
        for name in (run.file_name, run.page_file_name):
            if name and storage.exists(name):
                storage.delete(name)
        removed += ReportRun.objects.filter(pk=run.pk).delete()[0]
    return removed
