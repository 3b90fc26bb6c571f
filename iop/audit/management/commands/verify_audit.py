from django.core.management.base import BaseCommand, CommandError

from iop.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit non-zero at the first broken row."

    def handle(self, *args, **options):
        checked, broken = audit_verify_chain()
        if broken is not None:
            raise CommandError(
                f"Audit chain broken at event {broken.event_id}"
                f" ({broken.at:%Y-%m-%d %H:%M:%S} UTC): {broken.reason}."
                f" {checked} earlier events verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain holds: {checked} events verified."))
