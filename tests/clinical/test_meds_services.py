"""Medication and measure services: rules, refusals with nothing saved, double
submissions, the safety flag and its acknowledgement, expected analytes."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinical.meds.models import Measure, Medication
from clinical.meds.selectors import expected_analytes
from clinical.meds.services import (
    measure_flag_acknowledge,
    measure_record,
    medication_add,
    medication_stop,
)
from iop.audit.models import AuditEvent
from tests.clients.factories import with_care_team
from tests.clinical.factories_meds import gad7, phq9, treated_client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def client_record(clinician, medical_user):
    client = treated_client(clinician)
    with_care_team(client, medical_user, role="prescriber")
    return client


def _bupe(client, actor, **overrides):
    fields = {
        "client": client,
        "mat_agent": "buprenorphine",
        "name": "Buprenorphine/naloxone film",
        "dose": "8 mg/2 mg",
        "schedule": "once daily, sublingual",
        "started_on": TODAY() - timedelta(days=20),
        "actor": actor,
        **overrides,
    }
    fields.setdefault("prescriber", None if "outside_prescriber" in overrides else actor)
    return medication_add(**fields)


# --- Medications -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "analytes"),
    [
        ("buprenorphine", ["buprenorphine", "norbuprenorphine"]),
        ("methadone", ["methadone", "eddp"]),
        ("naltrexone", []),
        ("acamprosate", []),
    ],
)
def test_a_mat_medication_makes_its_analytes_expected(client_record, medical_user, agent, analytes):
    medication = _bupe(client_record, medical_user, mat_agent=agent, name="")
    assert medication.is_mat is True
    assert medication.expected_analytes == analytes
    assert medication.name == agent.capitalize()  # named after the agent when left blank
    event = AuditEvent.objects.get(action="medication.add")
    assert event.client_id == client_record.public_id
    assert event.detail == f"mat=1; analytes={len(analytes)}"


def test_a_non_mat_medication_names_its_own_analytes(client_record, clinician):
    medication = medication_add(
        client=client_record,
        name="Clonazepam",
        dose="0.5 mg",
        schedule="at night",
        outside_prescriber="Dr Okafor, psychiatry",
        extra_analytes=["benzodiazepines"],
        started_on=TODAY(),
        actor=clinician,
    )
    assert (medication.is_mat, medication.expected_analytes) == (False, ["benzodiazepines"])
    assert "Clonazepam" not in AuditEvent.objects.get(action="medication.add").detail


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mat_agent": "", "name": ""}, "name"),
        ({"mat_agent": "heroin"}, "mat_agent"),
        ({"dose": "   "}, "dose"),
        ({"schedule": ""}, "schedule"),
        ({"dose": "8 mg\x00"}, "dose"),
        ({"outside_prescriber": "", "prescriber": None}, "prescriber"),
        ({"outside_prescriber": "Dr Elsewhere"}, "outside_prescriber"),  # and a prescriber
        ({"extra_analytes": ["ketamine"]}, "extra_analytes"),
        ({"started_on": date(1, 1, 1)}, "started_on"),
        ({"started_on": date(9999, 12, 31)}, "started_on"),
        ({"ended_on": date(1, 1, 1)}, "ended_on"),
        ({"ended_on": TODAY() - timedelta(days=30)}, "ended_on"),  # before the start
    ],
)
def test_bad_medication_input_is_refused_and_nothing_is_saved(
    client_record, medical_user, overrides, field
):
    if field == "outside_prescriber":
        overrides = {**overrides, "prescriber": medical_user}
    with pytest.raises(ValidationError) as exc:
        _bupe(client_record, medical_user, **overrides)
    assert field in exc.value.message_dict
    assert not Medication.objects.exists()
    assert not AuditEvent.objects.filter(action="medication.add").exists()


def test_the_prescriber_must_be_medical_staff(client_record, clinician):
    with pytest.raises(ValidationError) as exc:
        _bupe(client_record, clinician, prescriber=clinician)
    assert exc.value.message_dict == {
        "prescriber": ["The prescriber must be active medical staff."]
    }


def test_a_double_submission_records_one_medication(client_record, medical_user):
    first = _bupe(client_record, medical_user)
    second = _bupe(client_record, medical_user)
    assert second.pk == first.pk and second.repeated
    assert Medication.objects.count() == 1
    assert AuditEvent.objects.filter(action="medication.add").count() == 1


def test_stop_records_the_last_day_once(client_record, medical_user):
    medication = _bupe(client_record, medical_user)
    with pytest.raises(ValidationError):
        medication_stop(medication=medication, ended_on=date(1, 1, 1), actor=medical_user)
    with pytest.raises(ValidationError):  # before the start
        medication_stop(
            medication=medication, ended_on=TODAY() - timedelta(days=21), actor=medical_user
        )
    medication_stop(medication=medication, ended_on=TODAY(), actor=medical_user)
    with pytest.raises(ValidationError, match="already stopped"):
        medication_stop(medication=medication, ended_on=TODAY(), actor=medical_user)
    medication.refresh_from_db()
    assert (medication.ended_on, medication.stopped_by) == (TODAY(), medical_user)
    assert AuditEvent.objects.filter(action="medication.stop").count() == 1


def test_expected_analytes_follow_active_and_stopped_medications(client_record, medical_user):
    today = TODAY()
    assert expected_analytes(client_record, on=today) == set()
    bupe = _bupe(client_record, medical_user, started_on=today - timedelta(days=20))
    _bupe(
        client_record,
        medical_user,
        mat_agent="methadone",
        name="Methadone",
        dose="60 mg",
        started_on=today - timedelta(days=60),
        ended_on=today - timedelta(days=21),
    )
    _bupe(client_record, medical_user, mat_agent="naltrexone", started_on=today - timedelta(days=3))
    # Before anything: nothing; during methadone: its analytes, its last day included.
    assert expected_analytes(client_record, on=today - timedelta(days=61)) == set()
    assert expected_analytes(client_record, on=today - timedelta(days=21)) == {"methadone", "eddp"}
    assert expected_analytes(client_record, on=today) == {"buprenorphine", "norbuprenorphine"}
    medication_stop(medication=bupe, ended_on=today - timedelta(days=1), actor=medical_user)
    assert expected_analytes(client_record, on=today) == set()
    assert expected_analytes(client_record, on=today - timedelta(days=1)) == {
        "buprenorphine",
        "norbuprenorphine",
    }
    # Another client's medications are not this client's.
    assert expected_analytes(treated_client(), on=today - timedelta(days=1)) == set()


def test_expected_analytes_is_one_query(client_record, medical_user, django_assert_num_queries):
    _bupe(client_record, medical_user)
    with django_assert_num_queries(1):
        expected_analytes(client_record, on=TODAY())


# --- Measures ----------------------------------------------------------------------------


def test_a_phq9_is_scored_stored_and_audited_without_its_answers(client_record, clinician):
    measure = measure_record(
        client=client_record,
        instrument="phq9",
        administered_on=TODAY(),
        items=phq9(2, 1, 3, 0, 1, 2, 1, 0, 1),
        actor=clinician,
    )
    assert (measure.score, measure.band, measure.safety_flag) == (11, "moderate", True)
    assert measure.flag_open
    event = AuditEvent.objects.get(action="measure.record")
    assert event.detail == "instrument=phq9; items=9; flag=1"


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ({**phq9(), "9": 4}, "item_9"),
        ({**phq9(), "1": -1}, "item_1"),
        ({**phq9(), "2": "x" * 10_000}, "item_2"),
        ({**phq9(), "2": "\x00"}, "item_2"),
        ({k: v for k, v in phq9().items() if k != "5"}, "item_5"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_saved(client_record, clinician, items, field):
    with pytest.raises(ValidationError) as exc:
        measure_record(
            client=client_record,
            instrument="phq9",
            administered_on=TODAY(),
            items=items,
            actor=clinician,
        )
    assert field in exc.value.message_dict
    assert not Measure.objects.exists()
    assert not AuditEvent.objects.filter(action="measure.record").exists()


@pytest.mark.parametrize(
    "day", [date(1, 1, 1), date(9999, 12, 31), TODAY() + timedelta(days=1), date(1900, 1, 1)]
)
def test_implausible_dates_are_refused(client_record, clinician, day):
    with pytest.raises(ValidationError) as exc:
        measure_record(
            client=client_record,
            instrument="gad7",
            administered_on=day,
            items=gad7(),
            actor=clinician,
        )
    assert "administered_on" in exc.value.message_dict
    assert not Measure.objects.exists()


def test_a_double_submission_records_one_measure(client_record, clinician):
    kwargs = {
        "client": client_record,
        "instrument": "gad7",
        "administered_on": TODAY(),
        "items": gad7(1, 1, 1, 1, 1, 1, 1),
        "actor": clinician,
    }
    first = measure_record(**kwargs)
    second = measure_record(**kwargs)
    assert second.pk == first.pk and second.repeated
    # A correction with other answers is a new administration, not a repeat.
    measure_record(**{**kwargs, "items": gad7(2, 1, 1, 1, 1, 1, 1)})
    assert Measure.objects.count() == 2
    assert AuditEvent.objects.filter(action="measure.record").count() == 2


def test_acknowledging_a_flag_is_audited_once(client_record, clinician):
    flagged = measure_record(
        client=client_record,
        instrument="phq9",
        administered_on=TODAY(),
        items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 2),
        actor=clinician,
    )
    with pytest.raises(ValidationError):
        measure_flag_acknowledge(measure=flagged, follow_up="nothing\x00", actor=clinician)
    measure_flag_acknowledge(measure=flagged, follow_up="safety_plan", actor=clinician)
    again = measure_flag_acknowledge(measure=flagged, follow_up="assessed", actor=clinician)
    assert again.repeated and again.flag_follow_up == "safety_plan"
    flagged.refresh_from_db()
    assert not flagged.flag_open and flagged.flag_acknowledged_by == clinician
    events = AuditEvent.objects.filter(action="measure.flag_acknowledge")
    assert [(e.detail, e.client_id) for e in events] == [
        ("follow_up=safety_plan", client_record.public_id)
    ]


def test_a_measure_without_a_flag_cannot_be_acknowledged(client_record, clinician):
    quiet = measure_record(
        client=client_record,
        instrument="phq9",
        administered_on=TODAY(),
        items=phq9(),
        actor=clinician,
    )
    assert quiet.safety_flag is False
    with pytest.raises(ValidationError, match="no safety flag"):
        measure_flag_acknowledge(measure=quiet, follow_up="assessed", actor=clinician)
