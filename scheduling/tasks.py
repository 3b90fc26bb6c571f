from celery import shared_task

from scheduling.services import (
    SESSIONS_AHEAD_WEEKS,
    enrollments_begin_planned,
    sessions_generate,
)


@shared_task
def generate_sessions(weeks: int = SESSIONS_AHEAD_WEEKS) -> int:
    """Beat, every 6 hours (iop.settings CELERY_BEAT_SCHEDULE): begin the planned
    step-downs whose day has come, then keep sessions generated SESSIONS_AHEAD_WEEKS
    ahead of today (a rolling horizon: the printed schedule's weeks and a margin). Both
    are idempotent, so running it often only fills gaps."""
    enrollments_begin_planned()
    return sessions_generate(weeks=weeks)
