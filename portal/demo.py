"""Three demo clients with portal access (``portal_link --mrn`` signs in as them)."""

from django.contrib.auth import get_user_model

from clients.models import Client, ClientStatus
from iop.audit.services import AuditContext
from portal import services
from scheduling.models import Enrollment, EnrollmentStatus

HOW_MANY = 3


def demo_portal_clients():
    """The first active demo clients (by MRN) on a track today."""
    enrolled = Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE).values("client")
    return Client.objects.filter(
        mrn__startswith="D", status=ClientStatus.ACTIVE, pk__in=enrolled
    ).order_by("mrn")[:HOW_MANY]


def seed(*, stdout):
    intake = get_user_model().objects.filter(username="intake").first()
    clients = list(demo_portal_clients())
    for client in clients:
        services.account_enable(client=client, actor=intake, audit=AuditContext.system("seed_demo"))
    from portal import demo_portal2

    demo_portal2.seed(clients, stdout=stdout)
    mrns = ", ".join(client.mrn for client in clients)
    stdout.write(
        f"Portal: {mrns} have portal access; sign in as one with "
        f"`python manage.py portal_link --mrn {clients[0].mrn if clients else 'D1000'}`."
    )
