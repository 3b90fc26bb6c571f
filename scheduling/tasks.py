from celery import shared_task

from scheduling.services import sessions_generate


@shared_task
def generate_sessions(weeks: int = 6) -> int:
    """Beat, daily: keep six weeks of sessions ahead. Idempotent."""
    return sessions_generate(weeks=weeks)
