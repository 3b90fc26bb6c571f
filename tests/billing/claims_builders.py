"""Builders for the charges and claims tests: a payer with its fees, a covered client
with consent, diagnosis and authorization, attended days with signed group notes, and
appointments with signed notes. Rows are made directly (the services of each are
tested where they live); notes are signed through the states the database allows."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import Authorization, BillingProvider, Coverage, Diagnosis, Fee, Payer
from clients.models import InformationCategory, RecipientType
from clinical.notes.models import GroupNoteSection, ProgressNote
from iop.accounts.npi import check_digit
from scheduling.models import Appointment, Attendance, local_datetime
from tests.clients.factories import ConsentFactory, EpisodeFactory
from tests.iop.factories import UserFactory
from tests.scheduling.factories import GroupFactory, GroupSessionFactory

# The clock of these tests: an ordinary Tuesday (tests/clock.py); "last month" is
# November 2026.
TODAY = date(2026, 12, 8)
NOVEMBER = date(2026, 11, 1)

FEES = {
    "H0015": Decimal("210.00"),
    "90832": Decimal("80.00"),
    "90834": Decimal("120.00"),
    "90837": Decimal("160.00"),
    "90847": Decimal("130.00"),
    "99213": Decimal("95.00"),
}


def npi(n: int) -> str:
    nine = f"{n:09d}"
    return nine + str(check_digit(nine))


def payer(code="ACME", name="Acme Health", **fields) -> Payer:
    payer, created = Payer.objects.get_or_create(
        code=code,
        defaults={"name": name, "payer_id": code.replace("-", ""), "filing_indicator": "CI"}
        | fields,
    )
    if created:
        Fee.objects.bulk_create(
            Fee(payer=payer, code=code_, amount=amount, effective_on=date(2026, 1, 1))
            for code_, amount in FEES.items()
        )
    return payer


def billing_provider() -> BillingProvider:
    return BillingProvider.objects.get_or_create(
        key="program",
        defaults={
            "name": "Intensive Outpatient Program",
            "npi": "1234567893",
            "tax_id": "123456789",
            "taxonomy": "261QR0405X",
            "address_line1": "1 Main St",
            "city": "Boston",
            "state": "MA",
            "postal_code": "021081234",
        },
    )[0]


def staff(username="thera", *, with_npi=True, roles=("clinician",)):
    user = UserFactory(username=username, roles=list(roles))
    if with_npi:
        user.npi = npi(100000000 + user.pk)
        user.save(update_fields=["npi"])
    return user


def tpo_consent(client, **fields):
    return ConsentFactory(
        client=client,
        recipient_type=RecipientType.TPO,
        recipient_name="",
        information_categories=[InformationCategory.ALL],
        information_description="Records needed for treatment, payment and operations.",
        purpose="Treatment, payment and health care operations",
        expires_on=None,
        expiry_event="end of treatment",
        signed_on=date(2026, 10, 1),
        **fields,
    )


def covered_client(
    the_payer,
    *,
    consent=True,
    diagnosis=True,
    units=40,
    admitted_on=date(2026, 10, 1),
):
    """A client in treatment since October, covered by ``the_payer``, with a TPO consent,
    a principal diagnosis and an H0015 authorization for November and December."""
    registrar = UserFactory(username="registrar", roles=["intake"])
    episode = EpisodeFactory(admitted_on=admitted_on)
    client = episode.client
    Coverage.objects.create(
        client=client,
        payer=the_payer,
        member_id=f"M{client.pk:06d}",
        effective_on=date(2026, 1, 1),
        created_by=registrar,
    )
    if consent:
        tpo_consent(client)
    if diagnosis:
        Diagnosis.objects.create(
            episode=episode,
            code="F10.20",
            description="Alcohol dependence, uncomplicated",
            principal=True,
            added_on=admitted_on,
            added_by=registrar,
        )
    if units:
        Authorization.objects.create(
            client=client,
            payer=the_payer,
            service_code="H0015",
            units_approved=units,
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 12, 31),
            reference=f"AUTH{client.pk}",
            created_by=registrar,
        )
    return client


def sign(note, author):
    """Draft to signed, as the signing service leaves it (an author whose notes need no
    co-signature)."""
    ProgressNote.objects.filter(pk=note.pk).update(
        status="signed", signed_at=timezone.now(), signed_by=author
    )


def attended_days(clients, days, *, author, status="present", minutes=180, signed=True, group=None):
    """Each of ``clients`` attended a 3-hour IOP session on each of ``days``; each
    session's group note has their sections and is signed (unless ``signed`` is False)."""
    group = group or GroupFactory(facilitator=author)
    sessions = []
    for day in days:
        session = GroupSessionFactory(group=group, date=day)
        for client in clients:
            Attendance.objects.create(
                session=session, client=client, status=status, minutes=minutes, recorded_by=author
            )
        note = ProgressNote.objects.create(
            kind="group", format="BIRP", author=author, session=session
        )
        GroupNoteSection.objects.bulk_create(
            GroupNoteSection(note=note, client=client, response="Took part.") for client in clients
        )
        if signed:
            sign(note, author)
        sessions.append(session)
    return sessions


def appointment(client, clinician, *, kind="individual", day, minutes, signed=True, note=True):
    """A completed appointment of ``minutes`` (documented on the note too), the
    clinician's next free hour from 08:00 that day."""
    taken = Appointment.objects.filter(clinician=clinician, starts_at__date=day).count()
    begins = time(8 + taken, 0)
    start = local_datetime(day, begins)
    end = start + timedelta(minutes=minutes)
    appt = Appointment.objects.create(
        kind=kind,
        client=client,
        clinician=clinician,
        starts_at=start,
        ends_at=end,
        status="completed",
        booked_by=clinician,
    )
    if note:
        made = ProgressNote.objects.create(
            kind=kind,
            format="SOAP" if kind == "medication" else "DAP",
            author=clinician,
            client=client,
            appointment=appt,
            time_in=begins,
            time_out=(datetime.combine(day, begins) + timedelta(minutes=minutes)).time(),
        )
        if signed:
            sign(made, clinician)
    return appt


def weekdays(first: date, count: int) -> list[date]:
    """``count`` Mondays to Fridays from ``first``."""
    out, day = [], first
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out
