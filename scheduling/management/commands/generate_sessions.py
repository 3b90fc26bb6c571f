from django.core.management.base import BaseCommand

from scheduling.services import SESSIONS_AHEAD_WEEKS, sessions_generate


class Command(BaseCommand):
    help = "Create the sessions of every active group for the coming weeks (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=SESSIONS_AHEAD_WEEKS)

    def handle(self, *args, weeks, **options):
        created = sessions_generate(weeks=weeks)
        self.stdout.write(f"{created} sessions created for the next {weeks} weeks.")
