"""Screening services: the rules applied on every path, refusals that save nothing,
double submissions, follow-ups, the daily draw and voiding."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinical.meds.services import medication_add
from iop.audit.models import AuditEvent
from scheduling.models import ClinicClosure
from screening import services
from screening.models import (
    Analyte,
    AnalyteResult,
    BreathTest,
    ProgramPolicy,
    RandomSelection,
    ScreenFollowUp,
    SelectionRun,
    UrineScreen,
)
from screening.rules import Outcome
from screening.selectors import screen_history
from screening.tasks import draw_random_selections
from tests.screening.factories import (
    all_negative,
    collect,
    enrolled_client,
    ensure_screening_defaults,
    panel,
    screen_with,
    selection_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(clinician, medical_user):
    """Alice is the primary clinician, Mira (medical) the prescriber."""
    client = enrolled_client(clinician)
    from tests.clients.factories import with_care_team

    with_care_team(client, medical_user, role="prescriber")
    return client


def _on_buprenorphine(client, actor):
    medication_add(
        client=client,
        mat_agent="buprenorphine",
        dose="8 mg",
        schedule="daily",
        outside_prescriber="Dr Outside",
        started_on=timezone.localdate() - timedelta(days=20),
        actor=actor,
    )


# --- Collection ---------------------------------------------------------------------------


def test_a_collection_is_recorded_and_audited_without_words(person, medical_user):
    screen = collect(person, medical_user, order_kind="for_cause", cause="Smelled of alcohol")
    assert (screen.status, screen.outcome, screen.cause) == (
        "collected",
        "pending",
        "Smelled of alcohol",
    )
    event = AuditEvent.objects.get(action="urine_screen.collect")
    assert event.client_id == person.public_id
    assert "alcohol" not in event.detail and "kind=for_cause" in event.detail


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"at": timezone.now() + timedelta(hours=2)}, "collected_at", "in the future"),
        ({"at": timezone.now().replace(year=1)}, "collected_at", "too far in the past"),
        ({"specimen_id": "x" * 10_000}, "specimen_id", "at most 40 characters"),
        ({"specimen_id": "CCF\x00"}, "specimen_id", "contains a null character"),
        ({"specimen_id": "  "}, "specimen_id", "chain-of-custody"),
        ({"temperature": "50.0"}, "temperature", "between 15.0 and 45.0"),
        ({"temperature": "-3"}, "temperature", "between 15.0 and 45.0"),
        ({"order_kind": "for_cause"}, "cause", "cause"),
        ({"order_kind": "random"}, "order_kind", "random selection"),
        ({"order_kind": "weekly"}, "order_kind", "Choose"),
        ({"cause": "y" * 10_000, "order_kind": "for_cause"}, "cause", "at most 200 characters"),
    ],
)
def test_bad_collections_are_refused_and_nothing_is_saved(
    person, medical_user, change, field, message
):
    with pytest.raises(ValidationError) as refused:
        collect(person, medical_user, **change)
    assert message in " ".join(refused.value.message_dict[field])
    assert not UrineScreen.objects.exists()


def test_a_double_submission_lands_on_the_first_screen(person, medical_user, clinician):
    first = collect(person, medical_user, specimen_id="CCF-1")
    again = collect(person, medical_user, specimen_id="CCF-1")
    assert again.pk == first.pk and again.repeated
    other = enrolled_client(clinician)
    with pytest.raises(ValidationError, match="already recorded"):
        collect(other, medical_user, specimen_id="CCF-1")
    assert UrineScreen.objects.count() == 1


def test_out_of_range_temperature_means_recollect_under_observation(person, medical_user):
    cold = collect(person, medical_user, temperature="30.5")
    assert cold.outcome == Outcome.RECOLLECT
    with pytest.raises(ValidationError) as refused:
        collect(person, medical_user)
    assert "must be observed" in refused.value.message_dict["observed"][0]
    observed = collect(person, medical_user, observed=True)
    assert observed.outcome == Outcome.PENDING
    collect(person, medical_user)  # the observed collection ended the requirement


def test_a_late_reading_and_suspected_tampering_also_call_for_observation(person, medical_user):
    late = collect(person, medical_user, temperature_read_in_time=False)
    assert late.outcome == Outcome.RECOLLECT
    collect(person, medical_user, observed=True, tampering_suspected=True)
    with pytest.raises(ValidationError, match="tampering"):
        collect(person, medical_user)


def test_a_dilute_specimen_makes_the_next_collection_observed(person, medical_user):
    screen_with(person, medical_user, creatinine="15", gravity="1.0020")
    with pytest.raises(ValidationError, match="dilute"):
        collect(person, medical_user)


def test_a_random_collection_closes_its_selection(person, medical_user, clinician):
    selection = selection_for(person)
    screen = collect(person, medical_user, selection=selection)
    selection.refresh_from_db()
    assert (selection.status, screen.order_kind, screen.selection_id) == (
        "collected",
        "random",
        selection.pk,
    )
    with pytest.raises(ValidationError, match="already collected"):
        collect(person, medical_user, selection=selection)
    stranger = enrolled_client(clinician)
    with pytest.raises(ValidationError, match="another client"):
        earlier = selection_for(person, on=timezone.localdate() - timedelta(days=3))
        collect(stranger, medical_user, selection=earlier)


# --- Results ------------------------------------------------------------------------------


def test_all_negative(person, medical_user):
    screen = screen_with(person, medical_user, creatinine="120", gravity="1.0150")
    assert (screen.outcome, screen.validity) == (Outcome.NEGATIVE, "normal")
    assert screen.results.count() == panel().analytes.count()
    assert not ScreenFollowUp.objects.exists()


def test_a_prescribed_medication_is_expected_not_a_violation(person, medical_user):
    _on_buprenorphine(person, medical_user)
    screen = screen_with(
        person, medical_user, buprenorphine=("positive", "40"), norbuprenorphine=("positive", None)
    )
    assert screen.outcome == Outcome.EXPECTED_POSITIVE
    assert set(screen.results.filter(expected=True).values_list("analyte__code", flat=True)) == {
        "buprenorphine",
        "norbuprenorphine",
    }
    assert not ScreenFollowUp.objects.exists()
    stats = screen_history(person)["stats"]
    assert (stats.expected, stats.counted, stats.unexpected) == (1, 0, 0)


def test_prescribed_positives_count_even_beside_an_unexpected_one(person, medical_user, client_as):
    """A screen with buprenorphine and norbuprenorphine (prescribed) and oxycodone (not)
    is an unexpected positive; its detail lists two expected positives, and the chart's
    count of expected positives says 2 in 1 screen, not 0."""
    _on_buprenorphine(person, medical_user)
    screen_with(
        person,
        medical_user,
        buprenorphine=("positive", None),
        norbuprenorphine=("positive", None),
        oxycodone=("positive", "300"),
    )
    history = screen_history(person)
    stats = history["stats"]
    assert history["events"][0].outcome == Outcome.UNEXPECTED_POSITIVE
    assert "expected: " in history["events"][0].detail
    assert (stats.unexpected, stats.expected_results, stats.expected_screens) == (1, 2, 1)
    chart = client_as(medical_user).get(reverse("clients:chart", args=[person.public_id]))
    html = " ".join(chart.content.decode().split())
    assert "Expected positives (prescribed, kept apart): 2 in 1 screen<" in html


def test_an_unexpected_positive_opens_a_follow_up_for_the_primary_clinician(person, medical_user):
    _on_buprenorphine(person, medical_user)
    screen = screen_with(
        person,
        medical_user,
        buprenorphine=("positive", None),
        norbuprenorphine=("positive", None),
        cocaine=("positive", "300"),
    )
    assert screen.outcome == Outcome.UNEXPECTED_POSITIVE
    item = ScreenFollowUp.objects.get()
    assert (item.reason, item.client, item.urine_screen) == ("unexpected_positive", person, screen)
    event = AuditEvent.objects.get(action="urine_screen.results")
    assert (
        "positive=3; expected=2" in event.detail and "outcome=unexpected_positive" in event.detail
    )


def test_etg_alone_needs_clinical_review(person, medical_user):
    screen = screen_with(person, medical_user, etg=("positive", "900"), ets=("positive", "150"))
    assert screen.outcome == Outcome.NEEDS_REVIEW
    assert ScreenFollowUp.objects.get().reason == "needs_review"


def test_dilute_and_substituted_open_follow_ups(person, medical_user, clinician):
    dilute = screen_with(person, medical_user, creatinine="10", gravity="1.0020")
    assert dilute.outcome == Outcome.DILUTE
    other = enrolled_client(clinician)
    substituted = screen_with(other, medical_user, creatinine="1.5", gravity="1.0005")
    assert substituted.outcome == Outcome.SUBSTITUTED
    assert sorted(ScreenFollowUp.objects.values_list("reason", flat=True)) == [
        "dilute",
        "substituted",
    ]


def test_the_result_keeps_the_cutoff_in_force(person, medical_user):
    first = screen_with(person, medical_user, thc=("positive", "60"))
    Analyte.objects.filter(code="thc").update(initial_cutoff=Decimal("20"))
    second = screen_with(person, medical_user, thc=("positive", "25"))
    assert first.results.get(analyte__code="thc").cutoff == Decimal("50.0")
    assert second.results.get(analyte__code="thc").cutoff == Decimal("20.0")


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"not-an-analyte": ("positive", None)}, "not on the"),
        ({"thc": ("positive", "10")}, "below the 50.0 ng/mL cutoff"),
        ({"thc": ("negative", "75")}, "at or above"),
        ({"thc": ("maybe", None)}, "negative, positive or invalid"),
        ({"thc": ("positive", "1e400")}, "between 0 and"),
        ({"thc": ("positive", "NaN")}, "between 0 and"),
        ({"thc": ("invalid", "3")}, "no value"),
    ],
)
def test_bad_results_are_refused_and_nothing_is_saved(person, medical_user, results, message):
    screen = collect(person, medical_user)
    data = all_negative(screen)
    data.update(results)
    with pytest.raises(ValidationError) as refused:
        services.urine_results_record(screen=screen, results=data, actor=medical_user)
    assert message in " ".join(refused.value.messages)
    screen.refresh_from_db()
    assert (screen.outcome, screen.results_at) == ("pending", None)
    assert not AnalyteResult.objects.exists()


def test_results_for_every_analyte_are_required(person, medical_user):
    screen = collect(person, medical_user)
    data = all_negative(screen)
    data.pop("thc")
    with pytest.raises(ValidationError, match="every analyte"):
        services.urine_results_record(screen=screen, results=data, actor=medical_user)


def test_results_are_recorded_once(person, medical_user):
    screen = collect(person, medical_user)
    data = all_negative(screen)
    services.urine_results_record(screen=screen, results=data, actor=medical_user)
    again = services.urine_results_record(screen=screen, results=data, actor=medical_user)
    assert again.repeated
    data["thc"] = ("positive", None)
    with pytest.raises(ValidationError, match="already recorded"):
        services.urine_results_record(screen=screen, results=data, actor=medical_user)


# --- Lab confirmation ---------------------------------------------------------------------


def test_a_confirmed_negative_overturns_the_screen(person, medical_user):
    screen = screen_with(person, medical_user, cocaine=("positive", "200"))
    for state in ("sent", "pending"):
        services.urine_confirmation_record(
            screen=screen, analyte_code="cocaine", confirmation=state, actor=medical_user
        )
        screen.refresh_from_db()
        assert screen.outcome == Outcome.UNEXPECTED_POSITIVE
    with pytest.raises(ValidationError, match="confirmatory cutoff"):
        services.urine_confirmation_record(
            screen=screen, analyte_code="cocaine", confirmation="confirmed_negative",
            confirmed_value="150", actor=medical_user,
        )  # fmt: skip
    services.urine_confirmation_record(
        screen=screen, analyte_code="cocaine", confirmation="confirmed_negative",
        confirmed_value="20", actor=medical_user,
    )  # fmt: skip
    screen.refresh_from_db()
    assert screen.outcome == Outcome.NEGATIVE
    with pytest.raises(ValidationError, match="final"):
        services.urine_confirmation_record(
            screen=screen, analyte_code="cocaine", confirmation="confirmed_positive",
            actor=medical_user,
        )  # fmt: skip


def test_confirmation_rules(person, medical_user):
    screen = screen_with(person, medical_user, cocaine=("positive", "200"))
    with pytest.raises(ValidationError, match="Only a positive"):
        services.urine_confirmation_record(
            screen=screen, analyte_code="thc", confirmation="sent", actor=medical_user
        )
    services.urine_confirmation_record(
        screen=screen, analyte_code="cocaine", confirmation="pending", actor=medical_user
    )
    with pytest.raises(ValidationError, match="only moves forward"):
        services.urine_confirmation_record(
            screen=screen, analyte_code="cocaine", confirmation="sent", actor=medical_user
        )
    services.urine_confirmation_record(
        screen=screen, analyte_code="cocaine", confirmation="confirmed_positive",
        confirmed_value="180", actor=medical_user,
    )  # fmt: skip
    screen.refresh_from_db()
    assert screen.outcome == Outcome.UNEXPECTED_POSITIVE
    assert ScreenFollowUp.objects.count() == 1


# --- Breath alcohol -----------------------------------------------------------------------


def _breath(client, actor, bac, *, minutes_ago=20):
    return services.breath_record(
        client=client,
        tested_at=timezone.now() - timedelta(minutes=minutes_ago),
        bac=bac,
        device="Alco-Sensor FST",
        actor=actor,
    )


@pytest.mark.parametrize("bac", ["0.401", "-0.001", "4", "abc", "", "\x00", "9" * 10_000])
def test_a_bac_outside_the_range_is_refused(person, medical_user, bac):
    with pytest.raises(ValidationError):
        _breath(person, medical_user, bac)
    assert not BreathTest.objects.exists()


def test_a_negative_breath_test_needs_no_confirmation(person, medical_user):
    test = _breath(person, medical_user, "0.019")
    assert (test.outcome, test.needs_confirmation) == (Outcome.NEGATIVE, False)
    with pytest.raises(ValidationError, match="needs no confirmation"):
        services.breath_confirm(
            test=test, confirm_at=timezone.now(), confirm_bac="0.000", actor=medical_user
        )


def test_a_positive_breath_test_is_incomplete_until_confirmed(person, medical_user):
    test = _breath(person, medical_user, "0.045", minutes_ago=40)
    assert test.outcome == Outcome.INCOMPLETE
    assert screen_history(person)["stats"].pending == 1
    for minutes, message in [(-1, "before its screen"), (10, "at least 15"), (31, "has closed")]:
        with pytest.raises(ValidationError, match=message):
            services.breath_confirm(
                test=test, confirm_at=test.tested_at + timedelta(minutes=minutes),
                confirm_bac="0.040", actor=medical_user,
            )  # fmt: skip
    confirmed = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=16), confirm_bac="0.038",
        actor=medical_user,
    )  # fmt: skip
    assert confirmed.outcome == Outcome.UNEXPECTED_POSITIVE
    assert ScreenFollowUp.objects.get().breath_test == test
    again = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=16), confirm_bac="0.038",
        actor=medical_user,
    )  # fmt: skip
    assert again.repeated and ScreenFollowUp.objects.count() == 1


def test_the_confirmation_governs(person, medical_user):
    test = _breath(person, medical_user, "0.025")
    test = services.breath_confirm(
        test=test, confirm_at=test.tested_at + timedelta(minutes=15), confirm_bac="0.012",
        actor=medical_user,
    )  # fmt: skip
    assert test.outcome == Outcome.NEGATIVE
    assert not ScreenFollowUp.objects.exists()


def test_a_breath_double_submission_records_once(person, medical_user):
    at = timezone.now() - timedelta(minutes=1)
    first = services.breath_record(
        client=person, tested_at=at, bac="0.000", device="X", actor=medical_user
    )
    again = services.breath_record(
        client=person, tested_at=at, bac="0.000", device="X", actor=medical_user
    )
    assert again.pk == first.pk and BreathTest.objects.count() == 1


# --- Follow-up lifecycle ------------------------------------------------------------------


def test_the_follow_up_lifecycle(person, medical_user, clinician):
    screen_with(person, medical_user, cocaine=("positive", "300"))
    item = ScreenFollowUp.objects.get()
    assert item.is_open
    assert [f.pk for f in screen_history(person)["open_follow_ups"]] == [item.pk]
    for bad in ("", "   ", "a\x00b", "x" * 4001):
        with pytest.raises(ValidationError):
            services.follow_up_acknowledge(follow_up=item, note=bad, actor=clinician)
    item.refresh_from_db()
    assert item.is_open
    services.follow_up_acknowledge(
        follow_up=item, note="Discussed with client; relapse plan updated.", actor=clinician
    )
    again = services.follow_up_acknowledge(follow_up=item, note="Second click", actor=clinician)
    item.refresh_from_db()
    assert again.repeated and item.note.startswith("Discussed") and not item.is_open
    event = AuditEvent.objects.get(action="screen_follow_up.acknowledge")
    assert "relapse" not in event.detail and "Discussed" not in event.detail
    assert screen_history(person)["open_follow_ups"] == []


def test_a_no_show_counts_as_positive_by_default_and_follows_up(person, medical_user):
    screen_with(person, medical_user)
    selection = selection_for(person)
    services.urine_not_collected(selection=selection, status="no_show", actor=medical_user)
    selection.refresh_from_db()
    assert selection.status == "missed"
    assert ScreenFollowUp.objects.get().reason == "missed_random"
    stats = screen_history(person)["stats"]
    assert (stats.missed, stats.counted, stats.negative, stats.percent_negative) == (1, 2, 1, 50)
    ProgramPolicy.objects.filter(pk=1).update(missed_counts_positive=False)
    stats = screen_history(person)["stats"]
    assert (stats.counted, stats.percent_negative) == (1, 100)


def test_a_refusal_is_recorded_once(person, medical_user):
    selection = selection_for(person)
    first = services.urine_not_collected(selection=selection, status="refused", actor=medical_user)
    again = services.urine_not_collected(selection=selection, status="refused", actor=medical_user)
    assert again.pk == first.pk and first.outcome == Outcome.REFUSED
    with pytest.raises(ValidationError):
        services.urine_not_collected(selection=selection, status="no_show", actor=medical_user)


def test_days_since_the_last_unexpected_positive(person, medical_user):
    screen_with(
        person, medical_user, at=timezone.now() - timedelta(days=9), cocaine=("positive", None)
    )
    collect_days = timezone.now() - timedelta(days=2)
    screen_with(person, medical_user, at=collect_days)
    stats = screen_history(person)["stats"]
    assert (stats.days_since_unexpected, stats.unexpected, stats.negative) == (9, 1, 1)


# --- Random selection ---------------------------------------------------------------------


class AlwaysDraw(random.Random):
    def random(self):
        return 0.0


def test_the_daily_draw_runs_once_and_audits_each_selection(clinician):
    clients = [enrolled_client(clinician) for _ in range(3)]
    today = timezone.localdate()
    run = services.selection_draw_day(on=today, rng=AlwaysDraw())
    assert (run.considered, run.selected) == (3, 3)
    assert services.selection_draw_day(on=today, rng=AlwaysDraw()) is None
    assert RandomSelection.objects.count() == 3
    events = AuditEvent.objects.filter(action="random_selection.create")
    assert events.count() == 3
    assert {e.client_id for e in events} == {c.public_id for c in clients}
    assert all(e.actor_username == "system:screening.random_selection" for e in events)
    assert all("p=0.4000" in e.detail and "track=iop6" in e.detail for e in events)


def test_the_minimum_gap_holds_and_a_voided_selection_does_not_count(clinician, admin_user):
    client = enrolled_client(clinician)
    today = timezone.localdate()
    services.selection_draw_day(on=today - timedelta(days=1), rng=AlwaysDraw())
    services.selection_draw_day(on=today, rng=AlwaysDraw())  # inside the 2-day gap
    assert RandomSelection.objects.filter(client=client).count() == 1
    services.selection_void(
        selection=RandomSelection.objects.get(), reason="Hospitalised", actor=admin_user
    )
    SelectionRun.objects.filter(date=today).delete()
    services.selection_draw_day(on=today, rng=AlwaysDraw())
    assert RandomSelection.objects.filter(client=client, date=today).exists()


def test_no_draw_on_a_closed_day_nor_for_clients_off_a_track(clinician, admin_user):
    enrolled_client(clinician)
    tomorrow = timezone.localdate() + timedelta(days=1)
    ClinicClosure.objects.create(date=tomorrow, reason="Holiday", created_by=admin_user)
    run = services.selection_draw_day(on=tomorrow, rng=AlwaysDraw())
    assert run.selected == 0 and not RandomSelection.objects.exists()
    from tests.clinical.factories_meds import treated_client

    treated_client(clinician)  # admitted, not enrolled on a track
    run = services.selection_draw_day(on=timezone.localdate(), rng=AlwaysDraw())
    assert (run.considered, run.selected) == (1, 1)


def test_simulated_days_through_the_database_keep_the_gap(clinician):
    """50 days of real draws (the system's random source) for 6 clients on IOP 3 (once a
    week, 3 days apart) and IOP 6 (twice, 2 apart): the gap always holds."""
    clients = [enrolled_client(clinician, track_code="iop6", start_days_ago=55) for _ in range(3)]
    clients += [enrolled_client(clinician, track_code="iop3", start_days_ago=55) for _ in range(3)]
    today = timezone.localdate()
    for back in range(50, 0, -1):
        services.selection_draw_day(on=today - timedelta(days=back))
    for client in clients:
        days = list(
            RandomSelection.objects.filter(client=client)
            .order_by("date")
            .values_list("date", flat=True)
        )
        gap = 2 if client.enrollments.get().track.code == "iop6" else 3
        assert all((b - a).days >= gap for a, b in zip(days, days[1:], strict=False))
    total = RandomSelection.objects.count()
    # Expected 3 * 50 * 2/7 + 3 * 50 / 7 = 64; a wide band, the tight test is in test_rules.
    assert 30 < total < 100


def test_missed_selections_close_at_the_next_run(clinician):
    client = enrolled_client(clinician)
    yesterday = timezone.localdate() - timedelta(days=1)
    selection = selection_for(client, on=yesterday)
    result = services.random_selection_daily(on=timezone.localdate(), rng=AlwaysDraw())
    assert result["missed"] == 1
    selection.refresh_from_db()
    assert selection.status == "missed"
    screen = selection.screen
    assert (screen.status, screen.outcome, screen.collector) == ("no_show", "no_show", None)
    assert ScreenFollowUp.objects.get().reason == "missed_random"
    again = services.random_selection_daily(on=timezone.localdate(), rng=AlwaysDraw())
    assert again == {"missed": 0, "selected": 0, "drawn": False}


def test_the_task_calls_the_daily_service(clinician):
    enrolled_client(clinician)
    result = draw_random_selections.run()
    assert result["drawn"] is True
    assert draw_random_selections.run()["drawn"] is False


def test_only_an_admin_voids_and_with_a_reason(clinician, admin_user, medical_user):
    selection = selection_for(enrolled_client(clinician))
    with pytest.raises(ValidationError, match="Only a program admin"):
        services.selection_void(selection=selection, reason="x", actor=medical_user)
    for bad in ("", "  ", "a\x00", "r" * 201):
        with pytest.raises(ValidationError):
            services.selection_void(selection=selection, reason=bad, actor=admin_user)
    services.selection_void(selection=selection, reason="Court date", actor=admin_user)
    selection.refresh_from_db()
    assert (selection.status, selection.void_reason) == ("voided", "Court date")
    event = AuditEvent.objects.get(action="random_selection.void")
    assert event.detail == "reason given"
    other = selection_for(enrolled_client(clinician))
    collect(other.client, medical_user, selection=other)
    with pytest.raises(ValidationError, match="already collected"):
        services.selection_void(selection=other, reason="Late", actor=admin_user)


def test_defaults_are_seeded():
    ensure_screening_defaults()
    codes = set(Analyte.objects.values_list("code", flat=True))
    assert {
        "thc",
        "cocaine",
        "opiates",
        "6am",
        "fentanyl",
        "buprenorphine",
        "methadone",
        "etg",
        "ets",
    } <= codes
    hhs = panel("hhs")
    assert hhs.analytes.count() == 10
    assert Analyte.objects.get(code="thc").confirm_cutoff == Decimal("15.0")
    assert ProgramPolicy.current().missed_counts_positive is True


def test_the_charts_history_reads_results_for_the_rows_it_shows(person, medical_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from screening.models import AnalyteResult
    from screening.selectors import CHART_ROWS

    now = timezone.now()
    for n in range(CHART_ROWS + 3):
        screen_with(
            person, medical_user, at=now - timedelta(days=3 * n + 1), cocaine=("positive", "300")
        )
    # The three oldest screens' follow-ups are answered: the chart lists open ones only.
    for item in ScreenFollowUp.objects.order_by("occurred_on")[:3]:
        services.follow_up_acknowledge(follow_up=item, note="Discussed", actor=medical_user)
    with CaptureQueriesContext(connection) as queries:
        history = screen_history(person, limit=CHART_ROWS)
    # Every screen counts in the statistics; the detail is read for the shown rows and
    # the open follow-ups (which name their positives) only, in one query.
    assert history["stats"].unexpected == CHART_ROWS + 3
    assert len(history["events"]) == CHART_ROWS and history["more"] == 3
    assert all("cocaine" in e.detail.lower() for e in history["events"])
    table = AnalyteResult._meta.db_table
    read = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(read) == 1
    ids = read[0].split(" IN (")[1].split(")")[0].replace(" ", "").split(",")
    assert {int(pk) for pk in ids} == {e.obj.pk for e in history["events"]}
    assert len(history["open_follow_ups"]) == CHART_ROWS
    assert all("Cocaine" in f.findings() for f in history["open_follow_ups"])
