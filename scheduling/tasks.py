from celery import shared_task

from scheduling.services import enrollments_begin_planned, sessions_generate


@shared_task
def generate_sessions(weeks: int = 6) -> int:
    """Beat, every 6 hours (iop.settings CELERY_BEAT_SCHEDULE): begin the planned
    step-downs whose day has come, then keep six weeks of sessions ahead. Both are
    idempotent, so running it often only fills gaps."""
    enrollments_begin_planned()
    return sessions_generate(weeks=weeks)
