"""Charges from what happened (issue 22): H0015 per billable day under the payer's rule,
appointments coded from kind and minutes, nothing without a signed note, never twice."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing.models import Charge, Fee
from billing.services.charges import appointment_code, build_charges, psychotherapy_code
from tests.billing.claims_builders import (
    NOVEMBER,
    TODAY,
    appointment,
    attended_days,
    billing_provider,
    covered_client,
    payer,
    staff,
    weekdays,
)
from tests.clock import at

END = date(2026, 11, 30)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(at(TODAY, "12:00"), tick=False)


@pytest.fixture
def setup(db, clock):
    billing_provider()
    return payer(), staff("thera")


# --- The CPT time rule, at its boundaries -----------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(15, None), (16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")],
)
def test_psychotherapy_codes_follow_the_cpt_mid_point_rule(minutes, code):
    # CPT 2024: "a unit of time is attained when the mid-point is passed": 90832 is 30
    # minutes (from 16), 90834 45 (from 38), 90837 60 (from 53).
    assert psychotherapy_code(minutes) == code


def test_family_and_medication_codes():
    assert appointment_code("family", 25) is None
    assert appointment_code("family", 26) == "90847"
    assert appointment_code("medication", 15) == "99213"
    assert appointment_code("case_management", 60) is None


def test_appointments_are_coded_by_the_minutes_their_note_documents(setup):
    the_payer, thera = setup
    client = covered_client(the_payer)
    for day, minutes in zip(weekdays(NOVEMBER, 4), (37, 38, 52, 53), strict=True):
        appointment(client, thera, day=day, minutes=minutes)
    appointment(client, thera, kind="family", day=date(2026, 11, 9), minutes=50)
    appointment(client, thera, kind="medication", day=date(2026, 11, 10), minutes=20)

    built = build_charges(since=NOVEMBER, through=END)

    assert built.appointments == 6
    charged = list(Charge.objects.order_by("service_date").values_list("code", "minutes", "amount"))
    assert charged == [
        ("90832", 37, Decimal("80.00")),
        ("90834", 38, Decimal("120.00")),
        ("90834", 52, Decimal("120.00")),
        ("90837", 53, Decimal("160.00")),
        ("90847", 50, Decimal("130.00")),
        ("99213", 20, Decimal("95.00")),
    ]
    assert set(Charge.objects.values_list("rendering", flat=True)) == {thera.pk}


def test_no_signed_note_no_charge(setup):
    the_payer, thera = setup
    client = covered_client(the_payer)
    appointment(client, thera, day=date(2026, 11, 3), minutes=45, signed=False)
    appointment(client, thera, day=date(2026, 11, 4), minutes=45, note=False)
    attended_days([client], [date(2026, 11, 5)], author=thera, signed=False)

    assert build_charges(since=NOVEMBER, through=END).total == 0
    assert not Charge.objects.exists()


def test_h0015_per_billable_day_with_the_fee_and_the_authorization(setup):
    the_payer, thera = setup
    client = covered_client(the_payer, units=40)
    days = weekdays(date(2026, 11, 2), 3)
    attended_days([client], days, author=thera)

    built = build_charges(since=NOVEMBER, through=END)

    assert built.h0015 == 3
    charges = list(Charge.objects.order_by("service_date"))
    assert [c.service_date for c in charges] == days
    assert {(c.code, c.modifier1, c.place_of_service, c.units) for c in charges} == {
        ("H0015", "", "11", 1)
    }
    assert all(c.amount == Decimal("210.00") for c in charges)
    auth = client.authorizations.get()
    assert all(c.authorization_id == auth.pk for c in charges)
    assert all(c.note_id for c in charges)


def test_a_day_short_of_the_payers_hours_is_not_billed(setup):
    the_payer, thera = setup
    the_payer.h0015_rule = "client_week"
    the_payer.save()
    client = covered_client(the_payer)
    # Three days a week, but the last one at 2 hours: the client-week rule bills only
    # days of 3 hours in a week with 3 of them (this week has 2).
    days = weekdays(date(2026, 11, 2), 3)
    attended_days([client], days[:2], author=thera)
    attended_days([client], days[2:], author=thera, minutes=120)

    assert build_charges(since=NOVEMBER, through=END).h0015 == 0


def test_a_telehealth_day_has_its_place_of_service_and_the_payers_modifier(setup):
    the_payer, thera = setup
    medicaid = payer("STATE-MCD", "State Medicaid", telehealth_modifier="GT")
    Fee.objects.create(
        payer=medicaid, code="H0015", modifier="GT", amount="190.00", effective_on=date(2026, 1, 1)
    )
    commercial = covered_client(the_payer)
    mcd = covered_client(medicaid)
    attended_days([commercial, mcd], [date(2026, 11, 3)], author=thera, status="telehealth")
    attended_days([commercial], [date(2026, 11, 4)], author=thera)

    build_charges(since=NOVEMBER, through=END)

    columns = ("client", "service_date", "modifier1", "place_of_service", "amount")
    rows = set(Charge.objects.values_list(*columns))
    assert rows == {
        (commercial.pk, date(2026, 11, 3), "95", "10", Decimal("210.00")),  # no 95 fee: H0015's
        (mcd.pk, date(2026, 11, 3), "GT", "10", Decimal("190.00")),
        (commercial.pk, date(2026, 11, 4), "", "11", Decimal("210.00")),
    }


def test_no_primary_coverage_no_charge(setup):
    the_payer, thera = setup
    client = covered_client(the_payer)
    client.coverages.update(ends_on=date(2026, 11, 3))
    attended_days([client], [date(2026, 11, 3), date(2026, 11, 4)], author=thera)

    build_charges(since=NOVEMBER, through=END)

    assert list(Charge.objects.values_list("service_date", flat=True)) == [date(2026, 11, 3)]


def test_an_authorization_is_linked_only_while_units_are_left(setup):
    the_payer, thera = setup
    client = covered_client(the_payer, units=2)
    attended_days([client], weekdays(date(2026, 11, 2), 3), author=thera)

    build_charges(since=NOVEMBER, through=END)

    assert list(
        Charge.objects.order_by("service_date").values_list("authorization", flat=True)
    ) == [client.authorizations.get().pk] * 2 + [None]


def test_running_twice_makes_nothing_new(setup):
    the_payer, thera = setup
    client = covered_client(the_payer)
    attended_days([client], weekdays(date(2026, 11, 2), 4), author=thera)
    appointment(client, thera, day=date(2026, 11, 9), minutes=45)

    first = build_charges(since=NOVEMBER, through=END)
    second = build_charges(since=NOVEMBER, through=END)
    # An overlapping window too.
    third = build_charges(since=NOVEMBER - timedelta(days=10), through=TODAY)

    assert first.total == 5
    assert second.total == third.total == 0
    assert Charge.objects.count() == 5


def test_h0015_days_are_the_billable_days_reports(setup):
    """The charges read the report's own SQL: the days it calls billable under the
    payer's rule are exactly the days charged."""
    from scheduling.reports import billable_day_tuples

    the_payer, thera = setup
    the_payer.h0015_rule = "client_week"
    the_payer.save()
    clients = [covered_client(the_payer) for _ in range(3)]
    week1, week2 = weekdays(date(2026, 11, 2), 5), weekdays(date(2026, 11, 9), 5)
    attended_days(clients, week1[:3], author=thera)  # 3 days of 3 h: billable
    attended_days(clients[:1], week2[:2], author=thera)  # 2 days that week: not
    attended_days(clients[1:], week2, author=thera, minutes=150)  # under 3 h: not

    build_charges(since=NOVEMBER, through=END)

    report = billable_day_tuples(None, {"start": NOVEMBER, "end": END, "payer": the_payer.code})
    billable = {(mrn, day) for mrn, day, *_rest, yes, _rule in report if yes == "yes"}
    charged = set(Charge.objects.values_list("client__mrn", "service_date"))
    assert {(mrn, day.isoformat()) for mrn, day in charged} == billable
    assert len(billable) == 9


def test_the_nightly_task_charges_and_builds_last_months_claims(setup):
    from billing.models import Claim
    from billing.tasks import build_charges_and_claims

    the_payer, thera = setup
    client = covered_client(the_payer)
    attended_days([client], weekdays(date(2026, 11, 2), 3), author=thera)
    attended_days([client], [date(2026, 12, 1)], author=thera)  # this month: charged only

    result = build_charges_and_claims()

    assert result == {"charges": 4, "claims_created": 1, "ready": 1, "held": 0}
    assert Claim.objects.get().period_end == END
    assert build_charges_and_claims()["charges"] == 0
