"""Screening pages: medical staff and the care team record and read, a supervisor reads,
a facilitator never sees a result, a stranger gets 404; bad input answers 400 with a
message and saves nothing; the collection list, the chart section and the history
keep their query counts as rows are added."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from iop.audit.models import AuditEvent
from screening.models import AnalyteResult, BreathTest, RandomSelection, ScreenFollowUp, UrineScreen
from tests.clients.factories import with_care_team
from tests.iop.factories import UserFactory
from tests.screening.factories import (
    collect,
    enrolled_client,
    panel,
    screen_with,
    selection_for,
)

pytestmark = pytest.mark.django_db

FORMAT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def person(clinician, medical_user):
    client = enrolled_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    return client


def _local(moment) -> str:
    return timezone.localtime(moment).strftime(FORMAT)


def _collect_post(**change):
    data = {
        "order_kind": "scheduled",
        "collected_at": _local(timezone.now() - timedelta(minutes=3)),
        "specimen_id": "CCF-778812",
        "panel": str(panel().pk),
        "temperature": "34.2",
        "temperature_unit": "C",
        "temperature_read_in_time": "on",
    }
    data.update(change)
    return data


def _results_post(screen, **positives):
    data = {}
    for analyte in screen.panel.analytes.all():
        outcome, value = positives.get(analyte.code, ("negative", ""))
        data[f"result_{analyte.code}"] = outcome
        data[f"value_{analyte.code}"] = value
    data.update({"creatinine_mg_dl": "110", "specific_gravity": "1.0150"})
    return data


# --- Urine: collection then results ----------------------------------------------------------


def test_medical_staff_record_a_urine_screen_and_its_results(person, medical_user, client_as):
    web = client_as(medical_user)
    url = reverse("screening:urine_new", args=[person.public_id])
    assert web.get(url).status_code == 200
    response = web.post(url, _collect_post())
    screen = UrineScreen.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("screening:urine_results", args=[screen.public_id])
    results_url = response.url
    assert web.get(results_url).status_code == 200
    response = web.post(
        results_url, _results_post(screen, cocaine=("positive", "400")), follow=True
    )
    html = response.content.decode()
    assert "Results recorded: Unexpected positive." in html
    assert 'data-testid="screen-outcome"' in html
    screen.refresh_from_db()
    assert (screen.outcome, screen.validity) == ("unexpected_positive", "normal")
    assert ScreenFollowUp.objects.get().reason == "unexpected_positive"
    actions = list(
        AuditEvent.objects.filter(actor=medical_user, client_id=person.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-8:] == [
        "access.edit+clinical",  # the collection form opened
        "access.edit+clinical",  # the collection posted
        "urine_screen.collect",
        "access.edit+clinical",  # the results form opened
        "access.edit+clinical",  # the results posted
        "urine_screen.results",
        "screen_follow_up.open",
        "access.clinical",  # the screen's page
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"specimen_id": "x" * 10_000}, "at most 40 characters"),
        ({"specimen_id": "CCF\x00"}, "contains a null character"),
        ({"temperature": "99.9"}, "between 15.0 and 45.0"),
        ({"temperature": "x" * 10_000}, "as a number"),
        ({"temperature": "9" * 10_000}, "not a plausible temperature"),
        ({"temperature": "34\x00"}, "as a number"),
        ({"temperature": ""}, "required"),
        ({"temperature": "1000", "temperature_unit": "F"}, "between 59.0 and 113.0"),
        ({"temperature": "34.2", "temperature_unit": "K"}, "Choose °C or °F."),
        ({"temperature": "34.2", "temperature_unit": "x" * 10_000}, "Choose °C or °F."),
        ({"temperature": "34.2", "temperature_unit": ""}, "required"),
        ({"collected_at": "0001-01-01T00:00"}, ""),
        ({"collected_at": "9999-12-31T23:59"}, "in the future"),
        ({"collected_at": "10000-01-01T00:00"}, "Enter a valid date/time."),
        ({"collected_at": "\x00"}, ""),
        ({"order_kind": "for_cause"}, "cause"),
        ({"order_kind": "random"}, "Select a valid choice"),
        ({"panel": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_collection_input_answers_400_and_saves_nothing(
    person, medical_user, client_as, change, message
):
    response = client_as(medical_user).post(
        reverse("screening:urine_new", args=[person.public_id]), _collect_post(**change)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UrineScreen.objects.exists()


@pytest.mark.parametrize(
    ("reading", "unit", "stored", "in_range"),
    [
        ("89.6", "F", "32.0", True),  # the window's bounds, exact both ways
        ("100.4", "F", "38.0", True),
        ("89.5", "F", "31.9", False),  # a tenth of a degree F outside stays outside
        ("100.5", "F", "38.1", False),
        ("93.2", "F", "34.0", True),
        ("32.0", "C", "32.0", True),
        ("38.1", "C", "38.1", False),
    ],
)
def test_a_temperature_in_fahrenheit_is_stored_in_celsius(
    person, medical_user, client_as, reading, unit, stored, in_range
):
    web = client_as(medical_user)
    response = web.post(
        reverse("screening:urine_new", args=[person.public_id]),
        _collect_post(temperature=reading, temperature_unit=unit),
    )
    assert response.status_code == 302
    screen = UrineScreen.objects.get()
    assert screen.temperature_c == Decimal(stored)
    assert screen.temperature_ok is in_range
    detail = web.get(reverse("screening:urine_detail", args=[screen.public_id])).content.decode()
    assert f"{stored} °C" in detail


def test_the_collection_form_offers_the_unit_beside_the_value(person, medical_user, client_as):
    html = (
        client_as(medical_user)
        .get(reverse("screening:urine_new", args=[person.public_id]))
        .content.decode()
    )
    assert 'name="temperature_unit"' in html
    assert '<option value="F">°F</option>' in html
    assert "89.6-100.4 °F" in html


def test_a_double_posted_collection_is_recorded_once(person, medical_user, client_as):
    web = client_as(medical_user)
    url = reverse("screening:urine_new", args=[person.public_id])
    data = _collect_post()
    assert web.post(url, data).status_code == 302
    again = web.post(url, data, follow=True)
    assert "This specimen was already recorded." in again.content.decode()
    assert UrineScreen.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result_not_on_panel": "positive"}, "not on this panel"),
        ({"result_thc": "maybe"}, "Choose negative, positive or invalid."),
        ({"result_thc": "x" * 10_000}, "Choose negative, positive or invalid."),
        ({"result_thc": "negative\x00"}, "Choose negative, positive or invalid."),
        ({"result_thc": ""}, "still blank"),
        ({"result_thc": "positive", "value_thc": "10"}, "below the 50.0 ng/mL cutoff"),
        ({"value_cocaine": "x" * 10_000}, "as a number"),
        ({"value_cocaine": "1\x00"}, "as a number"),
        ({"specific_gravity": "3"}, "between 0.9900 and 1.0800"),
        ({"creatinine_mg_dl": ""}, "both creatinine and specific gravity"),
    ],
)
def test_bad_results_answer_400_and_save_nothing(person, medical_user, client_as, change, message):
    screen = collect(person, medical_user)
    data = _results_post(screen)
    data.update(change)
    response = client_as(medical_user).post(
        reverse("screening:urine_results", args=[screen.public_id]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AnalyteResult.objects.exists()
    screen.refresh_from_db()
    assert screen.outcome == "pending"


def test_every_result_starts_blank(person, medical_user, client_as):
    screen = collect(person, medical_user)
    html = (
        client_as(medical_user)
        .get(reverse("screening:urine_results", args=[screen.public_id]))
        .content.decode()
    )
    table = html.split('data-testid="results-form"')[1].split("</table>")[0]
    for outcome in ("negative", "positive", "invalid"):
        assert f'value="{outcome}" selected' not in table
    assert table.count('<option value="" selected>Choose…</option>') == (
        screen.panel.analytes.count()
    )


def test_a_blank_result_is_refused_by_name_and_nothing_is_saved(person, medical_user, client_as):
    screen = collect(person, medical_user)
    data = _results_post(screen)
    data["result_cocaine"] = ""
    del data["result_thc"]
    response = client_as(medical_user).post(
        reverse("screening:urine_results", args=[screen.public_id]), data
    )
    assert response.status_code == 400
    html = response.content.decode()
    names = dict(screen.panel.analytes.values_list("code", "name"))
    assert f"Give the {names['cocaine']} result." in html
    assert f"Give the {names['thc']} result." in html
    assert "still blank" in html
    assert not AnalyteResult.objects.exists()
    screen.refresh_from_db()
    assert (screen.outcome, screen.results_at) == ("pending", None)


def test_the_service_names_every_blank_analyte(person, medical_user):
    from django.core.exceptions import ValidationError

    from screening import services

    screen = collect(person, medical_user)
    names = dict(screen.panel.analytes.values_list("code", "name"))
    results = dict.fromkeys(names, ("negative", None))
    results["cocaine"] = ("", None)
    with pytest.raises(ValidationError) as refusal:
        services.urine_results_record(screen=screen, results=results, actor=medical_user)
    assert names["cocaine"] in refusal.value.messages[0]
    assert not AnalyteResult.objects.exists()


def test_the_observed_rule_shows_on_the_form(person, medical_user, client_as):
    collect(person, medical_user, temperature="39.5")
    web = client_as(medical_user)
    url = reverse("screening:urine_new", args=[person.public_id])
    assert 'data-testid="observation-required"' in web.get(url).content.decode()
    response = web.post(url, _collect_post(specimen_id="CCF-2"))
    assert response.status_code == 400
    assert "This collection must be observed" in response.content.decode()
    assert web.post(url, _collect_post(specimen_id="CCF-2", observed="on")).status_code == 302


# --- Breath alcohol -----------------------------------------------------------------------


def test_a_positive_breath_test_is_confirmed_through_the_pages(person, medical_user, client_as):
    web = client_as(medical_user)
    tested = timezone.now() - timedelta(minutes=20)
    response = web.post(
        reverse("screening:breath_new", args=[person.public_id]),
        {"tested_at": _local(tested), "bac": "0.052", "device": "Alco-Sensor FST"},
    )
    test = BreathTest.objects.get()
    assert response.url == reverse("screening:breath_confirm", args=[test.public_id])
    page = web.get(response.url).content.decode()
    assert 'data-testid="confirmation-due"' in page
    early = web.post(response.url, {"confirm_at": _local(tested), "confirm_bac": "0.05"})
    assert early.status_code == 400 and "at least 15 minutes" in early.content.decode()
    done = web.post(
        response.url,
        {"confirm_at": _local(tested + timedelta(minutes=16)), "confirm_bac": "0.048"},
        follow=True,
    )
    assert "Confirmation recorded: Unexpected positive." in done.content.decode()
    assert ScreenFollowUp.objects.get().breath_test == test


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("x" * 10_000, "at most 80 characters"),
        ("Alco\x00", "null character"),
        ("   ", "required"),
    ],
)
def test_a_bad_device_answers_400_and_saves_nothing(
    person, medical_user, client_as, device, message
):
    response = client_as(medical_user).post(
        reverse("screening:breath_new", args=[person.public_id]),
        {"tested_at": _local(timezone.now()), "bac": "0.000", "device": device},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BreathTest.objects.exists()


def test_the_breath_form_fills_in_the_collectors_last_device(
    person, medical_user, clinician, client_as
):
    url = reverse("screening:breath_new", args=[person.public_id])
    web = client_as(medical_user)
    assert 'value="Alco-Sensor FST"' not in web.get(url).content.decode()
    web.post(
        url, {"tested_at": _local(timezone.now()), "bac": "0.000", "device": "Alco-Sensor FST"}
    )
    web.post(
        url,
        {
            "tested_at": _local(timezone.now() - timedelta(minutes=2)),
            "bac": "0.000",
            "device": "Intoxilyzer 800 #2",
        },
    )
    assert BreathTest.objects.count() == 2
    # The last device this collector used, whoever the client; another collector's own.
    assert 'value="Intoxilyzer 800 #2"' in web.get(url).content.decode()
    mine = client_as(clinician).get(url).content.decode()
    assert "Intoxilyzer" not in mine and "Alco-Sensor" not in mine


@pytest.mark.parametrize(
    ("bac", "message"),
    [
        ("0.401", "between 0.000 and 0.400"),
        ("-0.1", "between 0.000 and 0.400"),
        ("12", "plausible"),
        ("9" * 10_000, "plausible"),
        ("\x00", "as a number"),
    ],
)
def test_bad_breath_input_answers_400(person, medical_user, client_as, bac, message):
    response = client_as(medical_user).post(
        reverse("screening:breath_new", args=[person.public_id]),
        {"tested_at": _local(timezone.now()), "bac": bac, "device": "X"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BreathTest.objects.exists()


# --- Who sees what ----------------------------------------------------------------------------


def test_a_facilitator_never_sees_results(person, medical_user, client_as):
    screen = screen_with(person, medical_user, cocaine=("positive", None))
    facilitator = UserFactory(username="fred", roles=["clinician"])
    with_care_team(person, facilitator, role="facilitator")
    web = client_as(facilitator)
    for url in (
        reverse("screening:history", args=[person.public_id]),
        reverse("screening:urine_detail", args=[screen.public_id]),
        reverse("screening:follow_up_detail", args=[screen.follow_ups.get().public_id]),
    ):
        assert web.get(url).status_code == 404
    chart = web.get(reverse("clients:chart", args=[person.public_id]))
    assert "section-screening" not in chart.content.decode()
    assert (
        'data-testid="selection-row"'
        not in web.get(reverse("screening:collection_list")).content.decode()
    )


def test_the_supervisor_reads_but_does_not_record(person, medical_user, supervisor, client_as):
    screen = screen_with(person, medical_user)
    web = client_as(supervisor)
    assert web.get(reverse("screening:history", args=[person.public_id])).status_code == 200
    assert web.get(reverse("screening:urine_detail", args=[screen.public_id])).status_code == 200
    assert web.get(reverse("screening:urine_new", args=[person.public_id])).status_code == 404
    assert web.get(reverse("screening:breath_new", args=[person.public_id])).status_code == 404


def test_an_admin_voids_a_selection_and_others_cannot(person, medical_user, admin_user, client_as):
    selection = selection_for(person)
    url = reverse("screening:selection_void", args=[selection.public_id])
    assert client_as(medical_user).post(url, {"reason": "Court"}).status_code == 404
    web = client_as(admin_user)
    assert web.post(url, {"reason": ""}).status_code == 400
    assert web.post(url, {"reason": "x" * 10_000}).status_code == 400
    assert web.post(url, {"reason": "Court date"}).status_code == 302
    selection.refresh_from_db()
    assert selection.status == "voided"


def test_a_no_show_is_recorded_from_the_collection_list(person, medical_user, client_as):
    selection = selection_for(person)
    web = client_as(medical_user)
    url = reverse("screening:selection_not_collected", args=[selection.public_id])
    assert web.post(url, {"status": "gone"}).status_code == 400
    assert web.post(url, {"status": "no_show"}).status_code == 302
    assert web.post(url, {"status": "no_show"}).status_code == 302  # double click: one screen
    assert UrineScreen.objects.filter(status="no_show").count() == 1
    assert ScreenFollowUp.objects.get().reason == "missed_random"


# --- Follow-up on the dashboard ----------------------------------------------------------------


def test_the_primary_clinician_acknowledges_from_the_dashboard(
    person, medical_user, clinician, client_as
):
    screen_with(person, medical_user, cocaine=("positive", None))
    item = ScreenFollowUp.objects.get()
    web = client_as(clinician)
    html = web.get(reverse("dashboard")).content.decode()
    assert 'data-testid="follow-up-item"' in html and "Unexpected positive" in html
    url = reverse("screening:follow_up_acknowledge", args=[item.public_id])
    refused = web.post(url, {"note": "", "next": "dashboard"})
    assert refused.status_code == 400
    assert web.post(url, {"note": "a\x00", "next": "dashboard"}).status_code == 400
    done = web.post(url, {"note": "Talked it through; plan updated.", "next": "dashboard"})
    assert done.status_code == 302 and done.url == reverse("dashboard")
    item.refresh_from_db()
    assert not item.is_open
    assert 'data-testid="follow-up-item"' not in web.get(reverse("dashboard")).content.decode()
    # The medical staff's dashboard is not the primary clinician's.
    assert (
        'data-testid="follow-up-item"'
        not in client_as(medical_user).get(reverse("dashboard")).content.decode()
    )


def test_each_follow_up_says_its_kind_and_what_was_found(
    person, medical_user, clinician, client_as, django_assert_max_num_queries
):
    """An oxycodone-positive urine screen and a 0.030 breath test on the same day were
    two identical "Unexpected positive of Dec 4" lines: each now says its kind and,
    to the primary clinician (CLINICAL), the analyte or the BAC."""
    from screening import services

    screen_with(person, medical_user, oxycodone=("positive", "300"))
    tested = timezone.now() - timedelta(minutes=40)
    test = services.breath_record(
        client=person, tested_at=tested, bac=Decimal("0.030"), device="FST", actor=medical_user
    )
    services.breath_confirm(
        test=test,
        confirm_at=tested + timedelta(minutes=16),
        confirm_bac=Decimal("0.030"),
        actor=medical_user,
    )
    web = client_as(clinician)
    html = " ".join(web.get(reverse("dashboard")).content.decode().split())
    assert (
        "Urine screen: Unexpected positive</a> "
        '<span data-testid="follow-up-findings">(Oxycodone/oxymorphone 300.0 ng/mL)' in html
    )
    assert (
        "Breath test: Unexpected positive</a> "
        '<span data-testid="follow-up-findings">(BAC 0.030 on confirmation)' in html
    )
    urine_item = ScreenFollowUp.objects.get(urine_screen__isnull=False)
    page = web.get(reverse("screening:follow_up_detail", args=[urine_item.public_id]))
    assert "Positive for: Oxycodone/oxymorphone 300.0 ng/mL" in page.content.decode()
    chart = " ".join(
        web.get(reverse("clients:chart", args=[person.public_id])).content.decode().split()
    )
    assert (
        "Urine screen: Unexpected positive of" in chart and "(BAC 0.030 on confirmation)" in chart
    )
    # The dashboard reads the findings of every listed follow-up in a fixed number of
    # queries, however many there are.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        web.get(reverse("dashboard"))
    for _ in range(4):
        screen_with(person, medical_user, cocaine=("positive", "500"))
    with django_assert_max_num_queries(len(two)):
        html = web.get(reverse("dashboard")).content.decode()
    assert html.count('data-testid="follow-up-findings"') == 6


# --- Query counts --------------------------------------------------------------------------------


def _selected(clinician, medical_user, n):
    for _ in range(n):
        client = enrolled_client(clinician)
        with_care_team(client, medical_user, role="prescriber")
        selection_for(client)


def test_the_collection_list_keeps_its_query_count(
    clinician, medical_user, client_as, django_assert_max_num_queries, read_audit_queries
):
    web = client_as(medical_user)
    url = reverse("screening:collection_list")
    _selected(clinician, medical_user, 2)
    web.get(url)  # warm the permission-id cache
    # session, user with roles (menu and access), OTP device = 3; the selections with their
    # clients, tracks and screens joined, slot and group as subqueries, scoped by
    # clients_for in a subquery = 1; the read audit, an access row per client in one
    # append whatever their number.
    with django_assert_max_num_queries(4 + read_audit_queries) as few:
        assert web.get(url).status_code == 200
    count = len(few)  # now: the connection's query log is a bounded deque
    _selected(clinician, medical_user, 20)
    web.get(url)  # building may take seconds under load: this one saves last-seen
    with django_assert_max_num_queries(count):
        response = web.get(url)
    assert response.content.decode().count('data-testid="selection-row"') == 22
    print(f"collection list: {count} queries")


def _history_rows(client, medical_user, n):
    for day in range(n):
        screen_with(client, medical_user, at=timezone.now() - timedelta(days=day + 1, hours=1))


def test_the_history_page_keeps_its_query_count(
    person, medical_user, clinician, client_as, django_assert_max_num_queries
):
    web = client_as(clinician)
    url = reverse("screening:history", args=[person.public_id])
    _history_rows(person, medical_user, 1)
    web.get(url)
    # session, user with roles, OTP device = 3; the client with its grants = 1; the
    # access audit row (advisory lock, previous hash, insert, savepoints) = 5; urine
    # screens, their results with analytes, breath tests, follow-ups, pending
    # selections, the program policy = 6; the menu's roles come with the user.
    with django_assert_max_num_queries(16) as few:
        assert web.get(url).status_code == 200
    _history_rows(person, medical_user, 25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(url)
    assert response.content.decode().count("Urine (scheduled)") == 26
    print(f"screen history: {len(few.captured_queries)} queries")


def test_the_chart_section_keeps_its_query_count(
    person, medical_user, clinician, client_as, django_assert_max_num_queries
):
    web = client_as(clinician)
    url = reverse("clients:chart", args=[person.public_id])
    _history_rows(person, medical_user, 1)
    web.get(url)
    # The chart's own queries for an enrolled client on MAT (their parts are named in
    # tests/scheduling/test_views.py, the notes timeline included) = 27, plus the
    # screening section: urine screens, their results with analytes, breath tests,
    # follow-ups, pending random tests, the program policy (6) = 33 (38 before issue 13).
    with django_assert_max_num_queries(33) as few:
        assert web.get(url).status_code == 200
    _history_rows(person, medical_user, 25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(url)
    html = response.content.decode()
    assert 'data-testid="screen-timeline"' in html and "style=" not in html
    assert "14 older screens" in html
    assert RandomSelection.objects.count() == 0


def test_the_collection_list_groups_by_slot_and_is_scoped(
    person, clinician, medical_user, admin_user, client_as
):
    from tests.scheduling.factories import GroupFactory, slot

    selection_for(person)  # evening (the factory's slot)
    morning = enrolled_client(clinician)
    with_care_team(morning, medical_user, role="prescriber")
    enrollment = morning.enrollments.get()
    enrollment.group = GroupFactory(slot=slot("morning"))
    enrollment.save(update_fields=["group"])
    selection_for(morning)
    elsewhere = enrolled_client(UserFactory(username="zoe", roles=["clinician"]))
    selection_for(elsewhere)

    html = client_as(medical_user).get(reverse("screening:collection_list")).content.decode()
    assert html.count('data-testid="selection-row"') == 2
    assert html.index("Morning") < html.index("Evening")
    assert html.count('data-testid="notice-pending"') == 2
    assert elsewhere.display_name not in html and "Reason to void" not in html

    admin_html = client_as(admin_user).get(reverse("screening:collection_list")).content.decode()
    assert admin_html.count('data-testid="selection-row"') == 3
    assert "Reason to void" in admin_html

    stranger = UserFactory(username="nurse2", roles=["medical"])
    other = client_as(stranger).get(reverse("screening:collection_list")).content.decode()
    assert 'data-testid="no-selections"' in other


def test_the_chart_shows_the_pending_random_test_and_its_notice(person, clinician, client_as):
    selection_for(person)
    html = client_as(clinician).get(reverse("clients:chart", args=[person.public_id]))
    section = html.content.decode()
    assert 'data-testid="pending-selection"' in section
    assert "notice to the client pending" in section


def test_the_medical_dashboard_lists_todays_collections_by_name(
    clinician, medical_user, other_clinician, client_as, django_assert_max_num_queries,
    read_audit_queries,
):  # fmt: skip
    """The medical role's dashboard lists the day's random tests (each client the
    medical staff may see, with MRN and status), not only a count; its query count does
    not grow with the day's list."""
    web = client_as(medical_user)
    _selected(clinician, medical_user, 2)
    elsewhere = enrolled_client(other_clinician)  # not on the medical staff's team
    selection_for(elsewhere)
    web.get(reverse("dashboard"))
    # session, user with roles, OTP device (3); the sections a medical role sees: safety
    # flags, MAT clients, my notes, follow-ups, the day's selections (5): 8; the read
    # audit of the clients shown.
    with django_assert_max_num_queries(8 + read_audit_queries) as few:
        html = web.get(reverse("dashboard")).content.decode()
    assert html.count('data-testid="collection-row"') == 2
    assert elsewhere.mrn not in html
    for selection in RandomSelection.objects.exclude(client=elsewhere):
        assert selection.client.mrn in html
    count = len(few)
    _selected(clinician, medical_user, 8)
    web.get(reverse("dashboard"))
    with django_assert_max_num_queries(count):
        html = web.get(reverse("dashboard")).content.decode()
    assert html.count('data-testid="collection-row"') == 10
