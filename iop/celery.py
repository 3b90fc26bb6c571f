"""The Celery app. Its settings live in iop/settings.py under ``CELERY_``:
JSON only, ``acks_late`` with ``reject_on_worker_lost`` (a task whose worker dies is
delivered again, so every task is idempotent), soft and hard time limits, Redis from
``REDIS_URL`` or kombu's file-system broker when it is unset.

Beat's schedule is ``CELERY_BEAT_SCHEDULE`` in settings, not django-celery-beat: it is
three fixed wake-ups (the outbox sweep every minute, session generation, the audit
checkpoint), reviewed in code like everything else; what is *due* lives in database
rows (the outbox), which admins do see on the outbox page. A database schedule would
add an editable table whose change could silently stop every reminder."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iop.settings")

app = Celery("iop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
