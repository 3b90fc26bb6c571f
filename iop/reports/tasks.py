from celery import shared_task

from iop.reports.services import report_run_execute, report_runs_purge, report_runs_requeue


@shared_task(time_limit=900, soft_time_limit=840)
def run_report(run_id: int) -> str:
    return report_run_execute(run_id=run_id)


@shared_task
def purge_reports() -> int:
    """Beat: a report's file lives 24 hours."""
    return report_runs_purge()


@shared_task
def requeue_reports() -> int:
    """Beat: a run whose message was lost (broker down or restarted) is sent again."""
    return report_runs_requeue()
