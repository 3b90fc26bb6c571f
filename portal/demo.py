"""Three demo clients with portal access (``portal_link --mrn`` signs in as them); the
first has a PHQ-9 due every 14 days and a consent to sign, and has asked for an
attendance letter to the monitoring program their signed consent names (waiting for
staff)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from clients import services as client_services
from clients.models import Client, ClientStatus
from clinical.meds.services import measure_assign
from iop.audit.services import AuditContext
from portal import letter_services, services
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
    _questionnaire_consent_letter(clients, stdout=stdout)
    mrns = ", ".join(client.mrn for client in clients)
    stdout.write(
        f"Portal: {mrns} have portal access; sign in as one with "
        f"`python manage.py portal_link --mrn {clients[0].mrn if clients else 'D1000'}`."
    )


def _questionnaire_consent_letter(clients, *, stdout):
    if not clients:
        return
    client = clients[0]
    staff = get_user_model().objects
    primary = (
        client.care_team.filter(role="primary", ended_on__isnull=True)
        .select_related("staff")
        .first()
    )
    clinician = primary.staff if primary else None
    intake = staff.filter(username="intake").first()
    if clinician is None or intake is None:
        return
    measure_assign(client=client, instrument="phq9", every_days=14, actor=clinician)
    client_services.consent_prepare(
        client=client,
        actor=intake,
        discloser="Intensive Outpatient Program",
        information_categories=["attendance"],
        information_description="Attendance and hours since admission",
        recipient_type="organisation",
        recipient_name="Employer occupational health",
        purpose="Fitness-for-duty follow-up",
        expires_on=timezone.localdate() + timedelta(days=180),
        expiry_event="",
        revocation_statement=(
            "You may revoke this consent at any time, in writing, except to the extent the "
            "program has already acted on it."
        ),
    )
    covering = letter_services.covering_consents(client)
    if covering:
        today = timezone.localdate()
        letter_services.letter_request(
            client=client,
            consent=covering[0],
            period_start=today - timedelta(days=28),
            period_end=today - timedelta(days=1),
            include_screens=False,
            audit=AuditContext.client_self(client.public_id),
        )
    stdout.write(
        f"Portal: {client.mrn} has a PHQ-9 due, a consent to sign"
        + (" and a letter request waiting." if covering else ".")
    )
