"""Medication and measure pages: the care team writes, a supervisor reads, a stranger
gets 404 (audited); bad input answers 400 with a message and saves nothing; the
chart's sections and the dashboard keep their query counts as rows are added."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinical.meds.models import Measure, Medication
from clinical.meds.services import measure_record, medication_add
from iop.audit.models import AuditEvent
from tests.clients.factories import with_care_team
from tests.clinical.factories_meds import gad7, phq9, phq9_post, treated_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_record(clinician):
    return treated_client(clinician)


def _chart(client):
    return reverse("clients:chart", args=[client.public_id])


def _add_phq9(client):
    return reverse("meds:measure_add_phq9", args=[client.public_id])


# --- Entering a PHQ-9 --------------------------------------------------------------------


def test_the_measure_trend_is_drawn_by_the_reports_one_trend_template(
    client_record, clinician, client_as
):
    web = client_as(clinician)
    web.post(_add_phq9(client_record), phq9_post(2, 1, 3, 0, 1, 2, 1, 0, 1))
    chart = web.get(_chart(client_record))
    assert "reports/_trend.html" in [t.name for t in chart.templates]
    html = chart.content.decode()
    assert '<svg class="measure-trend"' in html and 'data-testid="trend-phq9"' in html
    assert "PHQ-9 trend; the numbers are in the table beside it." in html


def test_the_clinician_enters_a_phq9_and_the_chart_shows_score_band_flag_and_trend(
    client_record, clinician, client_as
):
    web = client_as(clinician)
    assert web.get(_add_phq9(client_record)).status_code == 200
    response = web.post(_add_phq9(client_record), phq9_post(2, 1, 3, 0, 1, 2, 1, 0, 1), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "PHQ-9 recorded: 11, Moderate." in html
    assert "Safety flag: PHQ-9 item 9 was answered above 0." in html
    assert 'data-testid="chart-safety-flag"' in html
    assert 'data-testid="trend-phq9"' in html and "<polyline" in html
    assert "style=" not in html  # CSP: SVG presentation attributes only
    measure = Measure.objects.get()
    assert (measure.score, measure.band, measure.safety_flag) == (11, "moderate", True)
    actions = list(
        AuditEvent.objects.filter(actor=clinician, client_id=client_record.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "access.edit+clinical",  # the form opened
        "access.edit+clinical",  # the form posted
        "measure.record",
        "access.chart",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"item_9": "4"}, "Choose one of the answers shown."),
        ({"item_1": "-1"}, "Choose one of the answers shown."),
        ({"item_2": "x" * 10_000}, "Choose one of the answers shown."),
        ({"item_3": "1\x00"}, "Choose one of the answers shown."),
        ({"item_4": ""}, "Answer this item."),
        ({"administered_on": "0001-01-01"}, "too far in the past"),
        ({"administered_on": "9999-12-31"}, "too far ahead"),
        ({"administered_on": "10000-01-01"}, "Enter a valid date."),
        ({"administered_on": "\x00" * 3}, "Enter a valid date."),
    ],
)
def test_bad_measure_input_answers_400_and_saves_nothing(
    client_record, clinician, client_as, change, message
):
    data = {**phq9_post(), **change}
    response = client_as(clinician).post(_add_phq9(client_record), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert not Measure.objects.exists()


def test_a_future_date_is_refused_by_the_service_with_the_same_message_path(
    client_record, clinician, client_as
):
    data = phq9_post(on=timezone.localdate() + timedelta(days=2))
    response = client_as(clinician).post(_add_phq9(client_record), data)
    assert response.status_code == 400
    assert "A measure is recorded after it is given." in response.content.decode()
    assert not Measure.objects.exists()


def test_a_missing_item_is_named(client_record, clinician, client_as):
    data = phq9_post()
    del data["item_9"]
    response = client_as(clinician).post(_add_phq9(client_record), data)
    assert response.status_code == 400
    assert 'data-testid="error-item_9"' in response.content.decode()


def test_a_double_post_records_one_measure(client_record, clinician, client_as):
    web = client_as(clinician)
    web.post(_add_phq9(client_record), phq9_post(1, 1, 1, 1, 1, 1, 1, 1, 0))
    second = web.post(_add_phq9(client_record), phq9_post(1, 1, 1, 1, 1, 1, 1, 1, 0), follow=True)
    assert "This PHQ-9 was already recorded." in second.content.decode()
    assert Measure.objects.count() == 1


def test_a_bam_is_entered_and_shows_its_three_summary_scores(client_record, clinician, client_as):
    data = {f"item_{code}": "0" for code in [str(n) for n in range(1, 18) if n != 7]}
    data.update({"item_4": "2", "item_5": "1", "item_13": "4", "item_14": "4"})
    data["administered_on"] = timezone.localdate().isoformat()
    url = reverse("meds:measure_add_bam", args=[client_record.public_id])
    response = client_as(clinician).post(url, data, follow=True)
    assert "BAM recorded: Any use, low protection." in response.content.decode()
    measure = Measure.objects.get()
    assert measure.subscores == {"use": 3, "risk": 0, "protective": 8}
    detail = client_as(clinician).get(reverse("meds:measure_detail", args=[measure.public_id]))
    assert "Use 3" in detail.content.decode() and "Protective factors 8" in detail.content.decode()


# --- Medications -------------------------------------------------------------------------


def test_the_prescriber_on_the_care_team_records_and_stops_mat(
    client_record, medical_user, client_as
):
    with_care_team(client_record, medical_user, role="prescriber")
    web = client_as(medical_user)
    url = reverse("meds:medication_add", args=[client_record.public_id])
    response = web.post(
        url,
        {
            "mat_agent": "buprenorphine",
            "name": "",
            "dose": "8 mg/2 mg",
            "schedule": "once daily",
            "prescriber": medical_user.pk,
            "started_on": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Medication recorded." in html
    assert 'data-testid="mat-badge"' in html and "MAT: Buprenorphine" in html
    assert "Expected on screens: Buprenorphine, Norbuprenorphine" in html
    medication = Medication.objects.get()
    stop = reverse("meds:medication_stop", args=[medication.public_id])
    assert web.get(stop).status_code == 200
    response = web.post(stop, {"ended_on": timezone.localdate().isoformat()}, follow=True)
    assert "Medication stopped." in response.content.decode()
    medication.refresh_from_db()
    assert medication.ended_on == timezone.localdate()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "x" * 10_000}, "at most 120 characters (it has 10000)"),
        ({"dose": "8 mg\x00"}, "contains a null character"),
        ({"prescriber": "", "outside_prescriber": ""}, "name an outside prescriber"),
        ({"prescriber": "999999"}, "Select a valid choice."),
        ({"started_on": "0001-01-01"}, "too far in the past"),
        ({"started_on": "9999-12-31"}, "too far ahead"),
        ({"mat_agent": "fentanyl"}, "Select a valid choice."),
    ],
)
def test_bad_medication_input_answers_400_and_saves_nothing(
    client_record, clinician, medical_user, client_as, change, message
):
    data = {
        "mat_agent": "naltrexone",
        "name": "Vivitrol",
        "dose": "380 mg",
        "schedule": "monthly injection",
        "prescriber": medical_user.pk,
        "started_on": timezone.localdate().isoformat(),
        **change,
    }
    url = reverse("meds:medication_add", args=[client_record.public_id])
    response = client_as(clinician).post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Medication.objects.exists()


# --- Who reaches what --------------------------------------------------------------------


def test_a_stranger_gets_404_and_the_attempt_is_audited(client_record, other_clinician, client_as):
    response = client_as(other_clinician).post(_add_phq9(client_record), phq9_post())
    assert response.status_code == 404
    denied = AuditEvent.objects.get(actor=other_clinician, action__startswith="access.")
    assert (denied.action, denied.outcome) == ("access.edit+clinical", "denied")
    assert not Measure.objects.exists()


def test_the_supervisor_reads_but_does_not_write(
    client_record, clinician, supervisor, medical_user, client_as
):
    flagged = measure_record(
        client=client_record,
        instrument="phq9",
        administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1),
        actor=clinician,
    )
    medication_add(
        client=client_record,
        mat_agent="buprenorphine",
        dose="8 mg",
        schedule="daily",
        prescriber=medical_user,
        started_on=timezone.localdate(),
        actor=clinician,
    )
    web = client_as(supervisor)
    chart = web.get(_chart(client_record)).content.decode()
    assert "MAT: Buprenorphine" in chart and 'data-testid="chart-safety-flag"' in chart
    assert "Record medication" not in chart and "Enter PHQ-9" not in chart
    detail = web.get(reverse("meds:measure_detail", args=[flagged.public_id]))
    assert detail.status_code == 200 and "Acknowledge" not in detail.content.decode()
    ack = reverse("meds:measure_acknowledge", args=[flagged.public_id])
    assert web.post(ack, {"follow_up": "assessed"}).status_code == 404
    assert web.get(_add_phq9(client_record)).status_code == 404
    medication = Medication.objects.get()
    assert web.get(reverse("meds:medication_stop", args=[medication.public_id])).status_code == 404
    flagged.refresh_from_db()
    assert flagged.flag_open
    # Nothing on the supervisor's dashboard they could not clear.
    assert "No safety flags to follow up." in web.get(reverse("dashboard")).content.decode()


def test_intake_never_sees_medications_or_measures(client_record, intake_user, client_as):
    with_care_team(client_record, intake_user, role="intake")
    web = client_as(intake_user)
    chart = web.get(_chart(client_record)).content.decode()
    assert 'data-testid="section-medications"' not in chart
    assert 'data-testid="section-measures"' not in chart
    url = reverse("meds:medication_add", args=[client_record.public_id])
    assert web.get(url).status_code == 404


def test_the_dashboard_lists_open_flags_and_acknowledges_them(client_record, clinician, client_as):
    flagged = measure_record(
        client=client_record,
        instrument="phq9",
        administered_on=timezone.localdate(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1),
        actor=clinician,
    )
    web = client_as(clinician)
    dashboard = web.get(reverse("dashboard")).content.decode()
    assert client_record.display_name in dashboard and "item 9 answered 1" in dashboard
    ack = reverse("meds:measure_acknowledge", args=[flagged.public_id])
    refused = web.post(ack, {"follow_up": "", "next": "dashboard"})
    assert refused.status_code == 400
    response = web.post(ack, {"follow_up": "referred", "next": "dashboard"}, follow=True)
    assert "Safety flag acknowledged." in response.content.decode()
    assert "No safety flags to follow up." in response.content.decode()
    again = web.post(ack, {"follow_up": "referred"}, follow=True)
    assert "already acknowledged" in again.content.decode()
    assert AuditEvent.objects.filter(action="measure.flag_acknowledge").count() == 1


# --- Query counts ------------------------------------------------------------------------


def _history(client, clinician, medical_user, weeks):
    today = timezone.localdate()
    for week in range(weeks):
        day = today - timedelta(weeks=week)
        measure_record(client=client, instrument="phq9", administered_on=day,
                       items=phq9(*([week % 4] * 8 + [week % 2])), actor=clinician)  # fmt: skip
        measure_record(client=client, instrument="gad7", administered_on=day,
                       items=gad7(*([week % 3] * 7)), actor=clinician)  # fmt: skip
        medication_add(client=client, name=f"Medication {week}", dose="1 mg", schedule="daily",
                       prescriber=medical_user, started_on=day, actor=clinician)  # fmt: skip


def test_the_chart_sections_keep_their_query_count_as_rows_grow(
    client_record, clinician, medical_user, client_as, django_assert_max_num_queries
):
    web = client_as(clinician)
    url = _chart(client_record)
    _history(client_record, clinician, medical_user, 1)
    web.get(url)  # warm the permission-id cache
    # The chart's own 21 (session, user with its roles, OTP device; the access query;
    # the audit row; the chart's tables; the program section; the plans and notes
    # sections) plus the medications section (one query, prescribers joined) and the
    # measures section (one query, acknowledgers joined) = 23; the screening section
    # (urine screens, breath tests, follow-ups, pending random tests, the program
    # policy) = 28 (33 before issue 13).
    with django_assert_max_num_queries(28) as few:
        assert web.get(url).status_code == 200
    _history(client_record, clinician, medical_user, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(url)
    html = response.content.decode()
    assert html.count('data-testid="table-phq9"') == 1
    assert html.count("Medication 29") == 1  # every medication listed, no query per row


def test_the_dashboard_flags_section_keeps_its_query_count(
    clinician, client_as, django_assert_max_num_queries, read_audit_queries
):
    web = client_as(clinician)

    def flag(n):
        for _ in range(n):
            measure_record(client=treated_client(clinician), instrument="phq9",
                           administered_on=timezone.localdate(),
                           items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1), actor=clinician)  # fmt: skip

    flag(1)
    web.get(reverse("dashboard"))
    # The dashboard's pinned 11 (tests/clients/test_views.py), this section's query
    # included, and its read audit: an access row per flagged client, in one append.
    with django_assert_max_num_queries(11 + read_audit_queries) as few:
        assert web.get(reverse("dashboard")).status_code == 200
    flag(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = web.get(reverse("dashboard"))
    assert response.content.decode().count("item 9 answered 1") == 9
