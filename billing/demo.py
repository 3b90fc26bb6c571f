"""Billing's part of ``seed_demo`` (issue 22): two payers with their fees, the billing
provider, NPIs on the demo clinicians and prescriber, coverage, a principal diagnosis
and an H0015 authorization for most clients in treatment, then last month's charges
and claims, built and checked as the nightly run builds them.

Two stories to look at: one client revoked the TPO consent (coverage, but no consent
to disclose to the payer: the claim waits in the held-claims queue until a consent
naming the payer is recorded), and one authorization is near its limit (80 % or more
of its units used). Safe to run twice: every row is looked up before it is made, and
charges and claims are never made twice.
"""

import math
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import (
    Authorization,
    BillingProvider,
    Charge,
    Claim,
    Coverage,
    Diagnosis,
    Fee,
    Payer,
)
from billing.services.charges import build_charges
from billing.services.claims import build_claims, month_bounds
from clients import services as client_services
from clients.models import Client, Consent, Episode, RecipientType, Substance
from iop.accounts.models import User
from iop.accounts.npi import check_digit

FEES_FROM = date(2026, 1, 1)
# code: (commercial, Medicaid). H0015 per diem; psychotherapy 30/45/60 minutes; family
# psychotherapy with the patient; an established-patient visit of a prescriber.
FEES = {
    "H0015": ("275.00", "160.00"),
    "90832": ("95.00", "68.00"),
    "90834": ("130.00", "92.00"),
    "90837": ("180.00", "124.00"),
    "90847": ("150.00", "101.00"),
    "99213": ("110.00", "74.00"),
}
PAYERS = {
    "DEMO-COMM": {
        "name": "Demo Commercial Health",
        "payer_id": "DEMOCOMM1",
        "filing_indicator": "CI",
        "address_line1": "PO Box 1000",
        "city": "Portland",
        "state": "OR",
        "postal_code": "97208",
    },
    "DEMO-MCD": {
        "name": "Demo State Medicaid",
        "payer_id": "DEMOMCD01",
        "filing_indicator": "MC",
        # A stricter payer: 3 hours a day on 3 days of the client's week.
        "h0015_rule": "client_week",
        # Its telehealth lines carry GT (billing.services.charges).
        "telehealth_modifier": "GT",
        "address_line1": "PO Box 2000",
        "city": "Salem",
        "state": "OR",
        "postal_code": "97309",
    },
}
# ICD-10-CM (FY 2025 code set), the principal diagnosis by the client's first substance.
DIAGNOSES = {
    Substance.ALCOHOL: ("F10.20", "Alcohol dependence, uncomplicated"),
    Substance.OPIOIDS: ("F11.20", "Opioid dependence, uncomplicated"),
    Substance.PRESCRIPTION: ("F11.20", "Opioid dependence, uncomplicated"),
    Substance.BENZODIAZEPINES: (
        "F13.20",
        "Sedative, hypnotic or anxiolytic dependence, uncomplicated",
    ),
    Substance.STIMULANTS: ("F15.20", "Other stimulant dependence, uncomplicated"),
    Substance.CANNABIS: ("F12.20", "Cannabis dependence, uncomplicated"),
}
DEFAULT_DIAGNOSIS = ("F19.20", "Other psychoactive substance dependence, uncomplicated")
# Staff NPIs (fake, check digit valid): the nine digits; the tenth is computed.
STAFF_NPI = {
    "clinician": "174512345",
    "clinician2": "174598765",
    "supervisor": "174522222",
    "medical": "174533333",
}
# Clients left self-pay (no coverage), so the chart shows one without.
UNCOVERED = ("D1002",)
NEAR_LIMIT = 0.85


def _npi(nine: str) -> str:
    return nine + str(check_digit(nine))


def seed(*, stdout):
    admin = User.objects.filter(username="admin").first()
    intake = User.objects.filter(username="intake").first()
    if admin is None or intake is None:
        stdout.write("Billing: demo staff missing; skipped.")
        return
    today = timezone.localdate()
    last_month_start, last_month_end = month_bounds(today.replace(day=1) - timedelta(days=1))
    payers = _payers()
    _provider(admin)
    for username, nine in STAFF_NPI.items():
        User.objects.filter(username=username, npi="").update(npi=_npi(nine))
    episodes = list(
        Episode.objects.filter(client__mrn__startswith="D")
        .select_related("client")
        .order_by("client__mrn", "-admitted_on")
    )
    seen, covered = set(), []
    for episode in episodes:
        client = episode.client
        if client.pk in seen or client.mrn in UNCOVERED:
            continue
        seen.add(client.pk)
        payer = payers["DEMO-MCD" if int(client.mrn[1:]) % 3 == 0 else "DEMO-COMM"]
        _coverage(client, payer, episode, intake)
        _diagnosis(client, episode, intake)
        _authorization(client, payer, episode, intake, today)
        covered.append((client, payer))
    built = build_charges(since=last_month_start, through=today - timedelta(days=1))
    held = _revoked_tpo(covered, admin, today, last_month_start, last_month_end)
    near = _near_limit(covered, held, last_month_start)
    result = build_claims(through=last_month_end)
    ready = Claim.objects.filter(status="ready", period_start=last_month_start).count()
    stdout.write(
        f"Billing: {len(payers)} payers, {len(covered)} clients covered, {built.total} charges "
        f"made ({Charge.objects.count()} in all), {result.created} claims made; last month: "
        f"{ready} ready, {Claim.objects.filter(status='held').count()} held"
        + (f" ({held.mrn}: no consent to disclose to the payer)" if held else "")
        + (f"; {near} near its authorization's limit" if near else "")
        + "."
    )


def _payers() -> dict[str, Payer]:
    payers = {}
    for code, fields in PAYERS.items():
        payers[code], _ = Payer.objects.get_or_create(code=code, defaults=fields)
    for code, amounts in FEES.items():
        for payer, amount in zip(payers.values(), amounts, strict=True):
            Fee.objects.get_or_create(
                payer=payer,
                code=code,
                modifier="",
                effective_on=FEES_FROM,
                defaults={"amount": Decimal(amount)},
            )
    return payers


def _provider(admin):
    BillingProvider.objects.get_or_create(
        key="program",
        defaults={
            "name": "Harbor IOP",
            "npi": "1881234565",  # fake, with a valid check digit
            "tax_id": "990000001",
            "taxonomy": "261QR0405X",  # clinic/center, substance use disorder rehabilitation
            "address_line1": "200 Harbor Street, Suite 410",
            "city": "Portland",
            "state": "OR",
            "postal_code": "972011234",
            "phone": "5035550100",
            "updated_by": admin,
        },
    )


def _coverage(client, payer, episode, intake):
    if Coverage.objects.filter(client=client, order=1).exists():
        return
    Coverage.objects.create(
        client=client,
        payer=payer,
        order=1,
        member_id=f"{payer.code[5:]}{client.pk:07d}",
        group_number="GRP-4410" if payer.code == "DEMO-COMM" else "",
        effective_on=episode.admitted_on - timedelta(days=60),
        verified_on=episode.admitted_on,
        verified_how="portal",
        verified_by=intake,
        created_by=intake,
        # The 837P sends the client's address (x12 part); a demo street per client.
        address_line1=f"{100 + client.pk} Harbor Street",
        city="Boston",
        state="MA",
        postal_code="02110",
    )


def _diagnosis(client, episode, intake):
    if Diagnosis.objects.filter(episode=episode, principal=True, removed_on__isnull=True).exists():
        return
    first = (client.primary_substances or [None])[0]
    code, description = DIAGNOSES.get(first, DEFAULT_DIAGNOSIS)
    Diagnosis.objects.create(
        episode=episode,
        code=code,
        description=description,
        principal=True,
        added_on=episode.admitted_on,
        added_by=intake,
    )


def _authorization(client, payer, episode, intake, today):
    if Authorization.objects.filter(client=client, payer=payer, service_code="H0015").exists():
        return
    starts = episode.admitted_on
    Authorization.objects.create(
        client=client,
        payer=payer,
        service_code="H0015",
        units_approved=90,
        starts_on=starts,
        ends_on=max(starts + timedelta(days=179), today + timedelta(days=30)),
        reference=f"PA{client.pk:06d}{payer.code[-4:].replace('-', '')}",
        created_by=intake,
    )


def _billed_last_month(client, first, last) -> bool:
    return Charge.objects.filter(client=client, service_date__range=(first, last)).exists()


def _revoked_tpo(covered, admin, today, first, last) -> Client | None:
    """The client who revoked the TPO consent (and keeps another consent, so intake
    stays complete): covered, billed last month, no consent naming the payer."""
    held = (
        Client.objects.filter(
            consents__recipient_type=RecipientType.TPO, consents__revoked_on__isnull=False
        )
        .filter(mrn__startswith="D")
        .first()
    )
    if held is not None:
        return held
    for client, payer in covered:
        if client.status != "active" or not _billed_last_month(client, first, last):
            continue
        tpo = Consent.objects.filter(client=client, recipient_type=RecipientType.TPO).first()
        others = Consent.objects.filter(client=client, revoked_on__isnull=True).exclude(
            recipient_type=RecipientType.TPO
        )
        if tpo is None or not others.exists() or others.filter(recipient_name=payer.name).exists():
            continue
        client_services.consent_revoke(
            consent=tpo,
            revoked_on=today,
            note="The client withdrew consent to disclose for payment.",
            actor=admin,
        )
        return client
    return None


def _near_limit(covered, held, first) -> str:
    """One authorization at 80 % or more of its units: approved = used / 0.85."""
    for client, payer in covered:
        if held is not None and client.pk == held.pk:
            continue
        auth = Authorization.objects.filter(
            client=client, payer=payer, service_code="H0015"
        ).first()
        used = Charge.objects.filter(authorization=auth, void=False).count() if auth else 0
        if auth is None or used < 8:
            continue
        if auth.units_approved != math.ceil(used / NEAR_LIMIT) and auth.units_approved == 90:
            Authorization.objects.filter(pk=auth.pk).update(
                units_approved=math.ceil(used / NEAR_LIMIT)
            )
        return client.mrn
    return ""
