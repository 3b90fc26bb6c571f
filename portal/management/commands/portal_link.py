"""``python manage.py portal_link --mrn MRN``: a one-time sign-in URL for a client, for
staff to hand over (and for tests). It works once, for 15 minutes."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.models import Client, normalize_mrn
from iop.audit.services import AuditContext
from portal import services


class Command(BaseCommand):
    help = "Print a one-time portal sign-in URL for the client with this MRN."

    def add_arguments(self, parser):
        parser.add_argument("--mrn", required=True)
        parser.add_argument(
            "--enable", action="store_true", help="Give the client portal access first if needed."
        )

    def handle(self, *args, mrn, enable, **options):
        value = normalize_mrn(mrn)
        client = Client.objects.filter(mrn=value).first() if value else None
        if client is None:
            raise CommandError("No client has that MRN.")
        audit = AuditContext.system("portal_link")
        if enable:
            services.account_enable(client=client, actor=None, audit=audit)
        try:
            url = services.staff_link(client=client, audit=audit)
        except ValidationError as exc:
            raise CommandError(exc.messages[0] + " (use --enable)") from None
        self.stdout.write(url)
