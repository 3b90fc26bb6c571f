"""Celery tasks: thin, idempotent, calling one service.

``draw_random_selections`` runs hourly from beat (iop/settings.py); the day's draw
happens once because ``SelectionRun.date`` is unique, so a missed hour, a restart or
two beats never draw a day twice, and the first run after midnight (clinic time)
closes the day before's missed tests.
"""

from celery import shared_task
from django.utils import timezone

from screening.services import random_selection_daily


@shared_task(name="screening.tasks.draw_random_selections")
def draw_random_selections() -> dict:
    return random_selection_daily(on=timezone.localdate())
