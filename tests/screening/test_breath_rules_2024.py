"""Issue 21, items 7-9, through the services, the database and the pages: a late breath
confirmation (49 CFR 40.251(a)(1), 40.275), the DOT consequence tiers (49 CFR 382.505,
382.201, 40.285) and a random draw planned on the days a group meets."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from scheduling.models import ClinicClosure
from screening import rules, services
from screening.models import BreathTest, RandomSelection, ScreenFollowUp
from screening.rules import BreathTier, Outcome
from tests.clients.factories import with_care_team
from tests.screening.factories import enrolled_client

FORMAT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def person(clinician, medical_user):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    return client


def _screen(client, actor, bac, *, minutes_ago):
    return services.breath_record(
        client=client,
        tested_at=timezone.now() - timedelta(minutes=minutes_ago),
        bac=bac,
        device="Alco-Sensor FST",
        actor=actor,
    )


# --- Item 7: a late confirmation -----------------------------------------------------------


def test_worked_example_a_late_confirmation_with_its_reason_governs(person, medical_user):
    """A screen at 0.045, the confirmation 41 minutes later at 0.032 "device
    recalibration": recorded, it governs, and it falls in the 0.020-0.039 tier."""
    test = _screen(person, medical_user, "0.045", minutes_ago=50)
    with pytest.raises(ValidationError, match="say why"):
        services.breath_confirm(
            test=test, confirm_at=test.tested_at + timedelta(minutes=41), confirm_bac="0.032",
            actor=medical_user,
        )  # fmt: skip
    test.refresh_from_db()
    assert (test.confirm_bac, test.outcome) == (None, Outcome.INCOMPLETE)
    test = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=41), confirm_bac="0.032",
        late_reason="device recalibration", actor=medical_user,
    )  # fmt: skip
    test.refresh_from_db()
    assert test.outcome == Outcome.UNEXPECTED_POSITIVE
    assert (test.confirm_bac, test.late_reason, test.confirm_minutes) == (
        Decimal("0.032"),
        "device recalibration",
        41,
    )
    assert test.tier == BreathTier.REMOVAL
    assert test.tier_label == "0.020-0.039: off safety-sensitive duty for at least 24 hours"
    follow_up = ScreenFollowUp.objects.get(breath_test=test)
    assert follow_up.findings() == (
        "BAC 0.032 on confirmation (41 minutes after the screen, late); "
        "0.020-0.039: off safety-sensitive duty for at least 24 hours"
    )


def test_a_late_reason_on_a_confirmation_in_time_is_refused(person, medical_user):
    test = _screen(person, medical_user, "0.030", minutes_ago=20)
    with pytest.raises(ValidationError, match="no late reason"):
        services.breath_confirm(
            test=test, confirm_at=test.tested_at + timedelta(minutes=16), confirm_bac="0.030",
            late_reason="traffic", actor=medical_user,
        )  # fmt: skip
    assert BreathTest.objects.get().confirm_bac is None


def test_the_15_minute_wait_still_holds(person, medical_user):
    """Confirming sooner is a fatal flaw (49 CFR 40.267(c)(1)), reason or not."""
    test = _screen(person, medical_user, "0.030", minutes_ago=20)
    with pytest.raises(ValidationError, match="at least 15 minutes"):
        services.breath_confirm(
            test=test, confirm_at=test.tested_at + timedelta(minutes=14), confirm_bac="0.030",
            late_reason="any", actor=medical_user,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("minutes", "reason"),
    [(14, ""), (31, ""), (20, "said late but in time")],
    ids=["early", "late-without-reason", "reason-in-time"],
)
def test_the_database_refuses_what_the_service_refuses(person, medical_user, minutes, reason):
    test = _screen(person, medical_user, "0.030", minutes_ago=40)
    with pytest.raises(IntegrityError), transaction.atomic():
        BreathTest.objects.filter(pk=test.pk).update(
            confirm_at=test.tested_at + timedelta(minutes=minutes),
            confirm_bac=Decimal("0.030"),
            late_reason=reason,
        )


def test_the_database_takes_a_late_confirmation_with_its_reason(person, medical_user):
    test = _screen(person, medical_user, "0.030", minutes_ago=200)
    BreathTest.objects.filter(pk=test.pk).update(
        confirm_at=test.tested_at + timedelta(minutes=180),
        confirm_bac=Decimal("0.030"),
        late_reason="client left and came back",
    )


# --- Item 8: tiers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bac", "tier"),
    [
        ("0.019", BreathTier.NONE),
        ("0.020", BreathTier.REMOVAL),
        ("0.039", BreathTier.REMOVAL),
        ("0.040", BreathTier.VIOLATION),
        ("0.310", BreathTier.VIOLATION),
    ],
)
def test_the_confirmation_sets_the_dot_tier(person, medical_user, bac, tier):
    test = _screen(person, medical_user, "0.050", minutes_ago=20)
    test = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=15), confirm_bac=bac,
        actor=medical_user,
    )  # fmt: skip
    assert test.tier == tier
    assert ScreenFollowUp.objects.exists() == (tier != BreathTier.NONE)


def test_the_tiers_follow_the_program_setting(person, medical_user, settings):
    """A zero-tolerance program (IOP_BREATH_TIERS=0.020,0.020): every confirmed positive
    is a violation; a result keeps the tier it was given when the setting changes."""
    settings.IOP_BREATH_TIERS = (Decimal("0.020"), Decimal("0.020"))
    test = _screen(person, medical_user, "0.030", minutes_ago=20)
    test = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=15), confirm_bac="0.025",
        actor=medical_user,
    )  # fmt: skip
    assert test.tier == BreathTier.VIOLATION
    assert test.tier_label == "0.020 or more: a violation, SAP evaluation before return"
    settings.IOP_BREATH_TIERS = rules.DEFAULT_BREATH_TIERS
    test.refresh_from_db()
    assert test.tier == BreathTier.VIOLATION


def test_a_program_line_above_0020_leaves_a_positive_below_its_action_level():
    tiers = (Decimal("0.030"), Decimal("0.040"))
    assert rules.breath_tier(Decimal("0.025"), tiers) == BreathTier.BELOW
    assert rules.breath_tier_label(BreathTier.BELOW, tiers) == (
        "0.020-0.029: under the program's action level"
    )


# --- Pages ------------------------------------------------------------------------------------


def _local(moment) -> str:
    return timezone.localtime(moment).strftime(FORMAT)


def test_the_confirm_page_takes_a_late_confirmation_and_shows_the_tier(
    person, medical_user, client_as
):
    web = client_as(medical_user)
    test = _screen(person, medical_user, "0.045", minutes_ago=50)
    url = reverse("screening:breath_confirm", args=[test.public_id])
    late = _local(test.tested_at + timedelta(minutes=41))
    refused = web.post(url, {"confirm_at": late, "confirm_bac": "0.032"})
    assert refused.status_code == 400
    assert "more than 30 minutes after the screen: say why" in refused.content.decode()
    assert BreathTest.objects.get().confirm_bac is None
    for bad in ["x" * 10_000, "recal\x00"]:
        response = web.post(url, {"confirm_at": late, "confirm_bac": "0.032", "late_reason": bad})
        assert response.status_code == 400
        assert BreathTest.objects.get().confirm_bac is None
    done = web.post(
        url,
        {"confirm_at": late, "confirm_bac": "0.032", "late_reason": "device recalibration"},
        follow=True,
    )
    html = " ".join(done.content.decode().split())
    assert "Confirmation recorded: Unexpected positive (0.020-0.039: off safety-sensitive" in html
    assert 'data-testid="breath-late">Begun after 30 minutes: device recalibration' in html
    assert (
        'data-testid="breath-tier">0.020-0.039: off safety-sensitive duty for at least 24 hours'
        in html
    )
    chart = " ".join(
        web.get(reverse("clients:chart", args=[person.public_id])).content.decode().split()
    )
    assert "late: device recalibration); 0.020-0.039: off safety-sensitive duty" in chart


# --- Item 9: the draw on the days a group meets -----------------------------------------------


class AlwaysDraw(random.Random):
    def random(self):
        return 0.0


def _monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def test_a_client_is_drawn_only_on_the_days_the_group_meets(clinician, admin_user):
    """IOP 6 twice a week, group on Monday, Wednesday, Friday: 2/3 on each of those days,
    none on the others; a closed Wednesday leaves 2 days for 2 tests (1.0)."""
    client = enrolled_client(clinician, start_days_ago=5)
    group = client.enrollments.get().group
    group.weekdays = [0, 2, 4]
    group.save()
    monday = _monday_after(timezone.localdate() - timedelta(days=4))
    runs = [services.selection_draw_day(on=monday + timedelta(days=d), rng=AlwaysDraw())
            for d in range(7)]  # fmt: skip
    drawn = list(RandomSelection.objects.filter(client=client).order_by("date"))
    assert [s.date.weekday() for s in drawn] == [0, 2, 4]
    assert {s.probability for s in drawn} == {Decimal("0.6667")}
    assert [r.considered for r in runs] == [1, 0, 1, 0, 1, 0, 0]
    next_monday = monday + timedelta(days=7)
    ClinicClosure.objects.create(
        date=next_monday + timedelta(days=2), reason="Holiday", created_by=admin_user
    )
    services.selection_draw_day(on=next_monday, rng=AlwaysDraw())
    assert RandomSelection.objects.get(date=next_monday).probability == Decimal("1.0000")


def test_through_the_database_a_weekday_group_gets_the_policys_weekly_rate(clinician):
    """Eight IOP 6 clients (twice a week) in a Monday-Friday group, eight weeks of daily
    draws (seeded): 128 tests expected at 0.4 a day (sd 8.8); the old 2/7 a day on the
    same days gave 91. Every test is on a weekday."""
    clients = [enrolled_client(clinician, start_days_ago=58) for _ in range(8)]
    for client in clients:
        group = client.enrollments.get().group
        group.weekdays = [0, 1, 2, 3, 4]
        group.save()
    rng = random.Random(2026)
    start = timezone.localdate() - timedelta(days=56)
    for offset in range(56):
        services.selection_draw_day(on=start + timedelta(days=offset), rng=rng)
    dates = list(RandomSelection.objects.values_list("date", flat=True))
    assert all(d.weekday() < 5 for d in dates)
    assert set(RandomSelection.objects.values_list("probability", flat=True)) == {Decimal("0.4000")}
    assert 100 < len(dates) < 160, len(dates)  # 115 with this seed
