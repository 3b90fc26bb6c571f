"""``python manage.py seed_scale --clients N``: the large dataset (tooling/scale_seed.py)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tooling import scale, scale_seed


class Command(BaseCommand):
    help = (
        "Build a clinic-sized dataset on PostgreSQL with bulk inserts (default 5,000 clients:"
        " a year of sessions, ~500,000 attendance rows, ~150,000 notes, 1,000,000 audit rows)."
        " Seeded staff share one known password, so like seed_demo it refuses to run with"
        " DJANGO_DEBUG off unless --i-know-this-is-not-production is given (the benchmark runs"
        " with debug off). Refuses a database that holds clients it did not create unless"
        " --force; a second run at the same size does nothing; --reset rebuilds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=5000, help="clients (default 5000)")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="remove the seeded clients, groups, sessions and outbox first (refused when"
            " the database holds clients seed_scale did not create); the audit trail is kept",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even though the database holds other clients",
        )
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="allow running with DJANGO_DEBUG off (a benchmark server)",
        )

    def handle(self, *args, clients, reset, force, not_production, **options):
        if not settings.DEBUG and not not_production:
            raise CommandError(
                "seed_scale creates staff with a known password: it runs with DJANGO_DEBUG=1,"
                " or with --i-know-this-is-not-production on a benchmark server."
            )
        if clients < 10:
            raise CommandError("--clients must be at least 10.")
        try:
            done = scale_seed.check_database(clients=clients, force=force, reset=reset)
        except scale_seed.ScaleRefused as exc:
            raise CommandError(str(exc)) from exc
        if done:
            self.stdout.write(done)
            return
        started = time.monotonic()
        if reset:
            scale_seed.reset(stdout=self.stdout)
        self.stdout.write(f"Seeding {clients} clients…")
        scale_seed.seed(clients=clients, stdout=self.stdout)
        sizes = scale.dataset_size()
        self.stdout.write(
            self.style.SUCCESS(
                f"Scale dataset ready in {time.monotonic() - started:.0f} s: "
                + ", ".join(f"{key} {value}" for key, value in sizes.items())
                + f". Every seeded account's password: {scale.SCALE_PASSWORD}"
            )
        )
