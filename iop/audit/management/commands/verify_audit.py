from django.core.management.base import BaseCommand, CommandError

from iop.audit.checkpoints import checkpoint_write, checkpoints_read
from iop.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's keyed hash chain against the checkpoints kept outside"
        " the database; exit non-zero at the first broken row. A holding chain gets a new"
        " checkpoint of its head."
    )

    def handle(self, *args, **options):
        checkpoints = checkpoints_read()
        checked, broken = audit_verify_chain(checkpoints=checkpoints)
        if broken is not None:
            when = f" ({broken.at:%Y-%m-%d %H:%M:%S} UTC)" if broken.at else ""
            raise CommandError(
                f"Audit chain broken at event {broken.event_id}{when}: {broken.reason}."
                f" {checked} earlier events verified."
            )
        written = checkpoint_write(source="verify_audit")
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain holds: {checked} events verified"
                f" against {len(checkpoints)} checkpoints."
                + (f" Checkpoint written at event {written.event_id}." if written else "")
            )
        )
