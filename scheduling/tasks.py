from celery import shared_task

from scheduling.services import sessions_generate


@shared_task
def generate_sessions(weeks: int = 6) -> int:
    """Beat, every 6 hours (iop.settings CELERY_BEAT_SCHEDULE): keep six weeks of
    sessions ahead. Idempotent, so running it often only fills gaps."""
    return sessions_generate(weeks=weeks)
