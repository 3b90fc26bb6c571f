"""Demo data, fake people only. Each app adds its part in a ``demo.py`` with a
``seed(*, stdout)`` function; they run in INSTALLED_APPS order (platform first,
then clients, scheduling, clinical, screening), so each can rely on the ones
before it. Every seeder is idempotent: running the command twice duplicates nothing.

The command reaches every app, so it lives in tooling, above them all; the staff
accounts are the platform's own part (``iop/accounts/demo.py``).
"""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo staff and fake clinic data (refuses to run with DJANGO_DEBUG off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs with DJANGO_DEBUG=1: it creates known passwords."
            )
        for config in apps.get_app_configs():
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Every demo account's password: demo")
        )
