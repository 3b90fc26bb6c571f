"""Claims (issue 22): one per client, payer and month; held with reasons until every
check passes (the Part 2 consent among them); released when the cause is fixed; each
submitted claim recorded in the client's accounting of disclosures."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from billing.models import (
    Authorization,
    Batch,
    BillingProvider,
    Charge,
    Claim,
    ClaimLine,
    Diagnosis,
    Fee,
)
from billing.services.charges import build_charges
from billing.services.claims import build_claims, check_again, mark_submitted
from clients.models import Disclosure, RecipientType
from iop.audit.models import AuditEvent
from iop.audit.services import AuditContext
from tests.billing.claims_builders import (
    NOVEMBER,
    TODAY,
    appointment,
    attended_days,
    billing_provider,
    covered_client,
    payer,
    staff,
    tpo_consent,
    weekdays,
)
from tests.clients.factories import ConsentFactory
from tests.clock import at

END = date(2026, 11, 30)
CONTEXT = AuditContext(username="tests")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)


@pytest.fixture
def acme(db, clock):
    billing_provider()
    return payer()


@pytest.fixture
def thera(db):
    return staff("thera")


def november(client, thera, *, days=3):
    attended_days([client], weekdays(date(2026, 11, 2), days), author=thera)
    appointment(client, thera, day=date(2026, 11, 12), minutes=45)


def build():
    build_charges(since=NOVEMBER, through=END)
    return build_claims(through=END)


def reasons(claim) -> set[str]:
    claim.refresh_from_db()
    return {r["code"] for r in claim.hold_reasons}


def test_a_month_of_services_becomes_one_ready_claim(acme, thera):
    client = covered_client(acme)
    november(client, thera)

    result = build()

    claim = Claim.objects.get()
    assert (result.created, result.lines, result.ready, result.held) == (1, 4, 1, 0)
    assert claim.status == "ready" and claim.hold_reasons == []
    assert claim.number == f"C{claim.pk:09d}"
    assert (claim.period_start, claim.period_end) == (NOVEMBER, END)
    assert claim.total == Decimal("750.00")  # 3 x 210 + 120
    assert claim.principal_diagnosis == "F10.20" and claim.diagnoses == ["F10.20"]
    assert list(claim.lines.values_list("line_number", "code")) == [
        (1, "H0015"),
        (2, "H0015"),
        (3, "H0015"),
        (4, "90834"),
    ]


def test_building_again_makes_nothing_new(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build()

    again = build()

    assert (again.created, again.lines) == (0, 0)
    assert Claim.objects.count() == 1 and ClaimLine.objects.count() == 4


def test_a_later_charge_joins_the_months_open_claim(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build()
    appointment(client, thera, day=date(2026, 11, 20), minutes=55)

    again = build()

    assert (again.created, again.lines) == (0, 1)
    assert list(Claim.objects.get().lines.values_list("line_number", "code"))[-1] == (5, "90837")


# --- The Part 2 consent -----------------------------------------------------------------


def test_no_consent_to_disclose_to_the_payer_holds_the_claim(acme, thera):
    client = covered_client(acme, consent=False)
    november(client, thera)

    build()

    claim = Claim.objects.get()
    assert claim.status == "held"
    [reason] = claim.hold_reasons
    assert reason["code"] == "consent"
    assert "No consent on file lets the program disclose to Acme Health" in reason["message"]
    assert "TPO consent or a consent naming Acme Health" in reason["message"]


def test_a_consent_naming_the_payer_releases_it(acme, thera):
    client = covered_client(acme, consent=False)
    november(client, thera)
    build()
    claim = Claim.objects.get()
    ConsentFactory(
        client=client,
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="acme  health",  # named as the payer is, whatever the case and spaces
        information_categories=["diagnosis", "attendance"],
        purpose="Payment of my treatment",
    )

    check_again(claim=claim, actor=thera, context=CONTEXT)

    claim.refresh_from_db()
    assert claim.status == "ready" and claim.hold_reasons == []
    assert AuditEvent.objects.filter(action="claim.check", object_id=str(claim.public_id)).exists()


def test_a_consent_naming_another_recipient_or_not_covering_diagnoses_holds(acme, thera):
    client = covered_client(acme, consent=False)
    ConsentFactory(client=client)  # the physician health program, not the payer
    ConsentFactory(
        client=client,
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Acme Health",
        information_categories=["attendance"],
    )
    november(client, thera)

    build()

    claim = Claim.objects.get()
    assert reasons(claim) == {"consent"}
    assert "does not cover diagnoses and attendance" in claim.hold_reasons[0]["message"]


def test_a_revoked_tpo_consent_holds_a_ready_claim_on_the_next_build(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build()
    assert Claim.objects.get().status == "ready"
    client.consents.update(revoked_on=date(2026, 12, 1))

    build()

    claim = Claim.objects.get()
    assert reasons(claim) == {"consent"}
    assert "is revoked on" in claim.hold_reasons[0]["message"]


def test_a_tpo_consent_waiting_for_the_clients_signature_holds(acme, thera):
    # Staff prepared it for the portal; until the client signs it is no consent.
    client = covered_client(acme, consent=False)
    ConsentFactory(
        client=client,
        recipient_type=RecipientType.TPO,
        recipient_name="",
        information_categories=["all"],
        awaiting_signature=True,
        signed_on=None,
    )
    november(client, thera)

    build()

    claim = Claim.objects.get()
    assert reasons(claim) == {"consent"}
    assert (
        "No consent on file lets the program disclose to Acme Health"
        in (claim.hold_reasons[0]["message"])
    )


def test_an_expired_consent_holds(acme, thera):
    client = covered_client(acme, consent=False)
    ConsentFactory(
        client=client,
        recipient_type=RecipientType.ORGANISATION,
        recipient_name="Acme Health",
        information_categories=["all"],
        signed_on=date(2026, 10, 1),
        expires_on=date(2026, 11, 30),
    )
    november(client, thera)

    build()

    assert reasons(Claim.objects.get()) == {"consent"}
    assert "is expired on" in Claim.objects.get().hold_reasons[0]["message"]


def test_a_tpo_consent_that_ended_with_treatment_holds(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    client.episodes.update(discharged_on=date(2026, 11, 30), discharge_reason="completed")

    build()

    assert reasons(Claim.objects.get()) == {"consent"}


# --- Each other check -------------------------------------------------------------------


def test_coverage_ended_before_a_date_of_service_holds(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build_charges(since=NOVEMBER, through=END)
    client.coverages.update(ends_on=date(2026, 11, 2))

    build_claims(through=END)

    claim = Claim.objects.get()
    assert reasons(claim) == {"coverage"}
    assert "No Acme Health coverage is active on" in claim.hold_reasons[0]["message"]


def test_no_authorization_holds_until_one_is_recorded(acme, thera):
    client = covered_client(acme, units=0)
    november(client, thera)
    build()
    claim = Claim.objects.get()
    assert reasons(claim) == {"authorization"}
    assert "authorization for H0015 with units left" in claim.hold_reasons[0]["message"]
    Authorization.objects.create(
        client=client,
        payer=acme,
        service_code="H0015",
        units_approved=12,
        starts_on=NOVEMBER,
        ends_on=END,
        reference="NEW-1",
        created_by=thera,
    )

    check_again(claim=claim, actor=thera, context=CONTEXT)

    assert reasons(claim) == set()
    assert Charge.objects.filter(code="H0015", authorization__reference="NEW-1").count() == 3


def test_an_exhausted_authorization_holds(acme, thera):
    client = covered_client(acme, units=2)
    november(client, thera)

    build()

    claim = Claim.objects.get()
    assert reasons(claim) == {"authorization"}


def test_no_principal_diagnosis_holds(acme, thera):
    client = covered_client(acme, diagnosis=False)
    november(client, thera)
    build()
    claim = Claim.objects.get()
    assert reasons(claim) == {"diagnosis"}
    Diagnosis.objects.create(
        episode=client.episodes.get(),
        code="F11.20",
        description="Opioid dependence, uncomplicated",
        principal=True,
        added_on=NOVEMBER,
        added_by=thera,
    )

    check_again(claim=claim, actor=thera, context=CONTEXT)

    claim.refresh_from_db()
    assert claim.status == "ready" and claim.principal_diagnosis == "F11.20"


def test_rendering_provider_without_npi_holds(acme):
    nonpi = staff("nonpi", with_npi=False)
    client = covered_client(acme)
    appointment(client, nonpi, day=date(2026, 11, 12), minutes=45)

    build()

    claim = Claim.objects.get()
    assert reasons(claim) == {"npi"}
    assert "has no NPI on their staff account" in claim.hold_reasons[0]["message"]


def test_h0015_needs_the_billing_providers_npi(acme, thera):
    client = covered_client(acme)
    attended_days([client], [date(2026, 11, 3)], author=thera)
    BillingProvider.objects.all().delete()

    build()

    assert reasons(Claim.objects.get()) == {"npi"}


def test_a_line_without_a_signed_note_holds(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build_charges(since=NOVEMBER, through=END)
    Charge.objects.filter(code="90834").update(note=None)

    build_claims(through=END)

    assert reasons(Claim.objects.get()) == {"note"}


def test_a_missing_fee_holds_until_the_schedule_has_it(acme, thera):
    client = covered_client(acme)
    appointment(client, thera, day=date(2026, 11, 12), minutes=45)
    Fee.objects.filter(code="90834").delete()
    build()
    claim = Claim.objects.get()
    assert reasons(claim) == {"fee"}
    Fee.objects.create(payer=acme, code="90834", amount="125.00", effective_on=NOVEMBER)

    check_again(claim=claim, actor=thera, context=CONTEXT)

    claim.refresh_from_db()
    assert claim.status == "ready" and claim.total == Decimal("125.00")


def test_check_again_refuses_a_submitted_claim(acme, thera):
    client = covered_client(acme)
    november(client, thera)
    build()
    Claim.objects.update(status="submitted")

    with pytest.raises(ValidationError, match="is submitted"):
        check_again(claim=Claim.objects.get(), actor=thera, context=CONTEXT)


# --- Submission: the accounting of disclosures -----------------------------------------


def _batch(payer_, through=END) -> Batch:
    return Batch.objects.create(
        payer=payer_, through=through, isa_control=45, gs_control=45, st_control=1, content=""
    )


def test_a_submitted_claim_is_a_disclosure_in_the_clients_accounting(
    acme, thera, admin_user, client_as
):
    client = covered_client(acme)
    november(client, thera)
    build()
    claim = Claim.objects.get()

    [disclosure] = mark_submitted(
        claims=[claim], batch=_batch(acme), actor=admin_user, context=CONTEXT
    )

    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.batch.isa_control == 45
    assert claim.submitted_at is not None and claim.disclosure_id == disclosure.pk
    disclosure.refresh_from_db()
    assert disclosure.recipient_name == "Acme Health"
    assert disclosure.purpose == "payment"
    assert disclosure.tpo_recipient == "payer"
    assert disclosure.consent.recipient_type == "tpo"
    assert disclosure.disclosed_on == TODAY
    assert disclosure.redisclosure_notice == (
        "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )
    assert claim.number in disclosure.description and "H0015" in disclosure.description
    page = client_as(admin_user).get(reverse("clients:disclosures", args=[client.public_id]))
    text = page.content.decode()
    assert f"Claim {claim.number}" in text
    assert "Electronic claim (X12 837P)" in text and ">payment<" in text
    recorded = AuditEvent.objects.filter(action="disclosure.record", client_id=client.public_id)
    assert recorded.exists()


def test_submission_by_command_names_the_program(acme, thera, admin_user, client_as):
    client = covered_client(acme)
    november(client, thera)
    build()

    mark_submitted(
        claims=list(Claim.objects.all()),
        batch=_batch(acme),
        actor=None,
        context=AuditContext.system("claims_export"),
    )

    page = client_as(admin_user).get(reverse("clients:disclosures", args=[client.public_id]))
    assert "The program (by command)" in page.content.decode()


def test_only_ready_claims_are_submitted_and_nothing_half_done(acme, thera, admin_user):
    ready = covered_client(acme)
    held = covered_client(acme, consent=False)
    november(ready, thera)
    november(held, thera)
    build()

    with pytest.raises(ValidationError, match="Only ready claims"):
        mark_submitted(
            claims=list(Claim.objects.all()), batch=_batch(acme), actor=admin_user, context=CONTEXT
        )

    assert not Disclosure.objects.exists()
    assert set(Claim.objects.values_list("status", flat=True)) == {"ready", "held"}


def test_a_consent_revoked_after_the_check_stops_the_submission(acme, thera, admin_user):
    client = covered_client(acme)
    november(client, thera)
    build()
    client.consents.update(revoked_on=TODAY)

    with pytest.raises(ValidationError, match="revoked"):
        mark_submitted(
            claims=list(Claim.objects.all()), batch=_batch(acme), actor=admin_user, context=CONTEXT
        )
    assert not Disclosure.objects.exists()


def test_a_second_client_with_tpo_consent_is_not_held_by_the_first(acme, thera):
    one = covered_client(acme)
    two = covered_client(acme, consent=False)
    tpo_consent(two)
    november(one, thera)
    november(two, thera)

    build()

    assert set(Claim.objects.values_list("status", flat=True)) == {"ready"}


# --- Concurrency (PostgreSQL) -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_make_each_charge_and_claim_once(clock):
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once: PostgreSQL")
    billing_provider()
    acme = payer()
    thera = staff("thera")
    clients = [covered_client(acme) for _ in range(3)]
    attended_days(clients, weekdays(date(2026, 11, 2), 5), author=thera)
    for client in clients:
        appointment(client, thera, day=date(2026, 11, 12), minutes=45)
    start = threading.Barrier(2)
    errors = []

    def run():
        try:
            start.wait()
            build_charges(since=NOVEMBER, through=END)
            build_claims(through=END)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Charge.objects.count() == 18
    assert Claim.objects.count() == 3
    assert ClaimLine.objects.count() == 18
