from django.core.management.base import BaseCommand

from clients.services import permissions_rebuild


class Command(BaseCommand):
    help = "Rebuild every client's object permissions from the care team; report differences."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report differences without changing anything."
        )

    def handle(self, *args, dry_run=False, **options):
        differences = permissions_rebuild(apply=not dry_run)
        granted = sum(len(d.granted) for d in differences.values())
        revoked = sum(len(d.revoked) for d in differences.values())
        verb = "would change" if dry_run else "changed"
        # Counts and internal ids only: no names in command output that may be logged.
        for client_pk, diff in sorted(differences.items()):
            self.stdout.write(
                f"client #{client_pk}: +{len(diff.granted)} granted, -{len(diff.revoked)} revoked"
            )
        self.stdout.write(
            f"{len(differences)} clients {verb}: {granted} permissions granted, {revoked} revoked."
        )
