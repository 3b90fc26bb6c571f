"""python manage.py remittance_import PATH [--payer CODE]"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.models import Payer
from billing.services.remittance import MAX_BYTES, import_remittance
from iop.audit.services import AuditContext


class Command(BaseCommand):
    help = (
        "Import an X12 835 (005010X221A1) remittance: post payments, adjustments and "
        "denials to the claim lines. The same file twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The 835 file.")
        parser.add_argument("--payer", help="Refuse the file unless it is from this payer code.")

    def handle(self, *args, path, payer=None, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No file {path}.")
        if source.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
        expected = None
        if payer:
            expected = Payer.objects.filter(code=payer.strip().upper()).first()
            if expected is None:
                raise CommandError(f"No payer with code {payer!r}.")
        try:
            result = import_remittance(
                content=source.read_bytes(),
                actor=None,
                context=AuditContext.system("remittance_import"),
                payer=expected,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(result.message)
