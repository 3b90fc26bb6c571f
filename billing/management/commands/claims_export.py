"""python manage.py claims_export --payer CODE --through YYYY-MM-DD --output PATH
python manage.py claims_export --resend BATCH --output PATH"""

from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.models import Batch, Payer
from billing.services import export as service
from iop.audit.services import AuditContext


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--through must be a date like 2026-11-30, not {value!r}.") from None


def _check_folder(path: str) -> None:
    if not Path(path).parent.is_dir():
        raise CommandError(f"The folder of {path} does not exist.")


def _write(path: str, content: str) -> None:
    target = Path(path)
    # newline="": the batch's exact bytes, whatever the platform.
    with open(target, "w", encoding="ascii", newline="") as out:
        out.write(content)


class Command(BaseCommand):
    help = (
        "Write every ready claim of a payer, with dates of service on or before a day, as "
        "one X12 837P (005010X222A1) interchange, and mark them submitted; or write a "
        "batch again (--resend)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--payer", help="The payer's code, e.g. DEMO-COMM.")
        parser.add_argument("--through", help="The last date of service, YYYY-MM-DD.")
        parser.add_argument("--output", required=True, help="The file to write.")
        parser.add_argument(
            "--resend", metavar="BATCH", help="A batch's interchange control number."
        )

    def handle(self, *args, payer=None, through=None, output, resend=None, **options):
        context = AuditContext.system("claims_export")
        _check_folder(output)
        if resend:
            try:
                batch = Batch.objects.get(isa_control=int(resend))
            except (ValueError, Batch.DoesNotExist):
                raise CommandError(f"No batch {resend}.") from None
            _write(output, service.resend(batch=batch, actor=None, context=context))
            self.stdout.write(
                f"Batch {batch.isa_control:09d} written again to {output} "
                f"({batch.claim_count} claims, total {batch.total}); nothing changed."
            )
            return
        if not payer or not through:
            raise CommandError("Give --payer and --through (or --resend BATCH).")
        try:
            the_payer = Payer.objects.get(code=payer.strip().upper())
        except Payer.DoesNotExist:
            raise CommandError(f"No payer with code {payer!r}.") from None
        day = _day(through)
        try:
            result = service.export_claims(
                payer=the_payer, through=day, actor=None, context=context
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if result.batch is None:
            self.stdout.write(f"{result.message} No file written to {output}.")
            return
        _write(output, result.batch.content)
        self.stdout.write(f"{result.message} Written to {output}.")
