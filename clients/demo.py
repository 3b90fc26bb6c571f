"""About 40 fake clients with consents, episodes and care teams.

Deterministic and idempotent: demo clients carry MRNs D1000..D1039, and each is
created (with its history) only when that MRN is missing. ``clinician`` and
``clinician2`` never share a client; ``supervisor`` sees ``clinician``'s caseload
through supervision.
"""

import random
from datetime import time, timedelta

from django.conf import settings
from django.utils import timezone

from clients import services
from clients.models import (
    AsamLevel,
    CareTeamRole,
    Client,
    ContinuingCare,
    DischargeReason,
    InformationCategory,
    Profession,
    RecipientType,
    ReminderChannel,
    SignerRelationship,
    Substance,
)
from iop.accounts.models import User

FIRST = [
    "Alex",
    "Blair",
    "Cameron",
    "Dana",
    "Elliot",
    "Frances",
    "Gray",
    "Harper",
    "Indira",
    "Jules",
    "Kai",
    "Logan",
    "Marisol",
    "Noel",
    "Oakley",
    "Priya",
    "Quinn",
    "Rowan",
    "Sasha",
    "Tobias",
]
LAST = [
    "Abbott",
    "Brennan",
    "Castillo",
    "Dufresne",
    "Eklund",
    "Fairbanks",
    "Gallo",
    "Holloway",
    "Ibarra",
    "Jansen",
    "Kowalczyk",
    "Lindqvist",
    "Mbeki",
    "Novak",
    "Ortega",
    "Pryce",
    "Quintero",
    "Rasmussen",
    "Sato",
    "Thorne",
]
EMPLOYERS = {
    Profession.PHYSICIAN: ("Riverside General Hospital", "State Physician Health Program"),
    Profession.NURSE: ("Mercy Regional Medical Center", "Board of Nursing Alternative Program"),
    Profession.PHARMACIST: ("Northgate Pharmacy", "Pharmacists Recovery Network"),
    Profession.ATTORNEY: ("Hale & Whitcomb LLP", "Lawyers Assistance Program"),
    Profession.PILOT: ("Skyline Air", "HIMS Program"),
    Profession.EXECUTIVE: ("Meridian Logistics", ""),
    Profession.FIRST_RESPONDER: ("City Fire Department", "Peer Support Unit"),
    Profession.OTHER: ("", ""),
}
SUBSTANCES = [
    [Substance.ALCOHOL],
    [Substance.OPIOIDS],
    [Substance.ALCOHOL, Substance.BENZODIAZEPINES],
    [Substance.STIMULANTS],
    [Substance.PRESCRIPTION, Substance.OPIOIDS],
    [Substance.CANNABIS, Substance.ALCOHOL],
]
COUNT = 40
# One active client is an adolescent (profession "other", no employer), so that the
# attendance report and the chart show the adolescents' floor.
ADOLESCENT = 23
# The first prospect is a 16-year-old whose consent carries her own signature (42 CFR
# 2.14, 2024 rule), so a new user sees how a minor's consent is recorded.
MINOR_INDEX = 28


def seed(*, stdout):
    staff = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "intake",
                "clinician",
                "clinician2",
                "medical",
                "admin",
            ]
        )
    }
    if len(staff) < 5:
        stdout.write("Clients: demo staff missing; skipped.")
        return
    existing = set(Client.objects.filter(mrn__startswith="D").values_list("mrn", flat=True))
    rng = random.Random(2026)  # noqa: S311  (fake data, not security)
    today = timezone.localdate()
    created = 0
    for i in range(COUNT):
        # Draw every value for every index so that one missing client changes no other.
        plan = _plan(rng, i, today)
        if i == MINOR_INDEX:
            plan = _as_minor(plan, today)
        mrn = f"D{1000 + i}"
        if mrn in existing:
            continue
        _create(plan, mrn, staff, today)
        created += 1
    stdout.write(f"Clients: {created} created, {COUNT - created} already there.")


def _plan(rng, i, today):
    profession = list(Profession)[i % len(Profession)]
    employer, monitoring = EMPLOYERS[profession]
    # 28 active, 6 prospects, 6 discharged.
    status = "active" if i < 28 else ("prospect" if i < 34 else "discharged")
    dob = today - timedelta(days=365 * rng.randint(26, 62) + rng.randint(0, 364))
    if i == ADOLESCENT:
        # 16 and a half: on a track with the adolescents' weekly floor (6 h, ASAM 2.1).
        dob = today - timedelta(days=365 * 16 + 180)
    return {
        "first": FIRST[i % len(FIRST)],
        "last": LAST[(i * 7) % len(LAST)],
        "dob": dob,
        "profession": profession,
        "employer": employer,
        "monitoring": monitoring,
        "substances": SUBSTANCES[i % len(SUBSTANCES)],
        "status": status,
        "admitted_days_ago": rng.randint(14, 110) if status == "active" else rng.randint(120, 300),
        "ratings": {f"d{n}": rng.randint(0, 3) for n in range(1, 7)},
        "primary": "clinician" if i % 2 == 0 else "clinician2",
        "mat": i % 5 == 1,
        "sms": i % 3 != 0,
        # A few clients chose detailed wording, a few keep quiet hours overnight.
        "named": i % 4 == 1,
        "quiet": i % 5 == 2,
    }


def _as_minor(plan, today):
    born = today.replace(year=today.year - 16, day=min(today.day, 28)) - timedelta(days=120)
    return {
        **plan,
        "dob": born,
        "profession": Profession.OTHER,
        "employer": "",
        "monitoring": "",
        "minor": True,
    }


def _minor_consent(client, intake, today):
    """Signed by the minor alone where the program's state allows it at 16
    (``IOP_MINORS_CONSENT_ALONE``), else by the minor and a parent (2.14(b), (c))."""
    alone_from = settings.IOP_MINORS_CONSENT_ALONE
    alone = alone_from is not None and client.age_on(today) >= alone_from
    services.consent_record(
        client=client,
        actor=intake,
        discloser="Intensive Outpatient Program",
        information_categories=[InformationCategory.ATTENDANCE],
        information_description="Attendance at the program, for the school's attendance record.",
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Riverside High School counsellor",
        purpose="Excusing absences from school for program sessions",
        expires_on=today + timedelta(days=180),
        signed_by_name=client.legal_name if alone else f"{client.legal_name} and a parent",
        signer_relationship=(
            SignerRelationship.MINOR_ALONE if alone else SignerRelationship.MINOR_AND_GUARDIAN
        ),
        signed_on=today,
    )


def _create(plan, mrn, staff, today):
    intake, primary = staff["intake"], staff[plan["primary"]]
    client = services.client_register(
        actor=intake,
        legal_first_name=plan["first"],
        legal_last_name=plan["last"],
        date_of_birth=plan["dob"],
        pronouns="",
        phone=f"+1617555{int(mrn[1:]) % 100:04d}",
        email=f"{plan['first'].lower()}.{plan['last'].lower()}@mail.example",
        profession=plan["profession"],
        employer=plan["employer"],
        monitoring_program=plan["monitoring"],
        monitoring_contact="Case manager, 555-0199" if plan["monitoring"] else "",
        referral_source="Employee assistance program" if plan["employer"] else "Self",
        reminder_channel=ReminderChannel.SMS if plan["sms"] else ReminderChannel.EMAIL,
        reminder_consent=True,
        reminder_may_name_program=plan["named"],
        quiet_hours_start=time(21, 0) if plan["quiet"] else None,
        quiet_hours_end=time(7, 0) if plan["quiet"] else None,
    )
    Client.objects.filter(pk=client.pk).update(mrn=mrn)
    client.mrn = mrn
    # Clinical intake is its own write (the primary clinician records it in the clinic).
    services.client_clinical_update(
        client=client,
        primary_substances=[str(s) for s in plan["substances"]],
        co_occurring_conditions="",
        actor=primary,
    )
    if plan.get("minor"):
        _minor_consent(client, intake, today)
    if plan["status"] == "prospect":
        return
    admitted_on = today - timedelta(days=plan["admitted_days_ago"])
    signer = {"signed_by_name": client.legal_name}
    if client.age_on(admitted_on) < 18:  # the adolescent on a track: 42 CFR 2.14
        alone_from = settings.IOP_MINORS_CONSENT_ALONE
        alone = alone_from is not None and client.age_on(admitted_on) >= alone_from
        signer = {
            "signed_by_name": client.legal_name if alone else f"{client.legal_name} and a parent",
            "signer_relationship": (
                SignerRelationship.MINOR_ALONE if alone else SignerRelationship.MINOR_AND_GUARDIAN
            ),
        }
    services.consent_record(
        client=client,
        actor=intake,
        discloser="Intensive Outpatient Program",
        information_categories=[InformationCategory.ALL],
        information_description="Records needed for treatment, payment and program operations.",
        recipient_type=RecipientType.TPO,
        purpose="Treatment, payment and health care operations",
        expiry_event="end of treatment",
        signed_on=admitted_on,
        **signer,
    )
    if plan["monitoring"]:
        consent = services.consent_record(
            client=client,
            actor=intake,
            discloser="Intensive Outpatient Program",
            information_categories=[InformationCategory.ATTENDANCE, InformationCategory.SCREENS],
            information_description="Attendance and toxicology results since admission.",
            recipient_type=RecipientType.ORGANISATION,
            recipient_name=plan["monitoring"],
            purpose="Monitoring agreement compliance",
            expires_on=admitted_on + timedelta(days=365),
            signed_by_name=client.legal_name,
            signed_on=admitted_on,
        )
        services.disclosure_record(
            client=client,
            consent=consent,
            recipient_name=plan["monitoring"],
            information_categories=[InformationCategory.ATTENDANCE],
            description="Monthly attendance summary",
            purpose="Monthly monitoring report under the client's agreement",
            recipient_address="reports@monitoring.example",
            method="secure_email",
            disclosed_on=min(admitted_on + timedelta(days=30), today),
            actor=primary,
        )
    episode = services.episode_admit(
        client=client,
        actor=intake,
        admitted_on=admitted_on,
        asam_level=AsamLevel.L2_1,
        dimension_ratings=plan["ratings"],
        planned_length_days=90,
    )
    services.care_team_add(
        client=client,
        staff=primary,
        role=CareTeamRole.PRIMARY,
        actor=intake,
        started_on=admitted_on,
    )
    if plan["mat"]:
        services.care_team_add(
            client=client,
            staff=staff["medical"],
            role=CareTeamRole.PRESCRIBER,
            actor=intake,
            started_on=admitted_on,
        )
    if plan["status"] == "discharged":
        services.episode_discharge(
            episode=episode,
            discharged_on=admitted_on + timedelta(days=84),
            reason=DischargeReason.COMPLETED,
            summary="Completed IOP 6 and IOP 3; stepped down to standard outpatient.",
            continuing_care=ContinuingCare.ALUMNI,
            actor=primary,
        )
