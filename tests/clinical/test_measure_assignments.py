"""Measures a clinician asks the client to answer in the portal: assigned once or every
14 days, answered once per due day (a double submission stores one measure), scored as a
staff-entered measure, and a PHQ-9 item 9 above 0 writes the safety flag's tasks for the
care team and the supervisor in the same transaction, before any sweep."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinical.meds import services
from clinical.meds.measures import score
from clinical.meds.models import Measure, MeasureAssignment
from iop.audit.models import AuditEvent
from iop.audit.services import AuditContext
from iop.notifications.models import Channel, OutboxMessage
from iop.notifications.services import reminders_schedule
from tests.clinical.factories_meds import gad7, phq9, treated_client

pytestmark = pytest.mark.django_db

CLIENT_AUDIT = AuditContext(actor=None, ip_address="203.0.113.9", username="portal:client")


def _tasks():
    return OutboxMessage.objects.filter(refs__kind="clinical.safety_flag", channel=Channel.IN_APP)


def test_an_answered_phq9_is_scored_as_a_staff_entered_one(clinician):
    client = treated_client(clinician)
    assignment = services.measure_assign(
        client=client, instrument="phq9", every_days=None, actor=clinician
    )
    answers = phq9(2, 1, 3, 0, 1, 2, 0, 1, 0)
    measure = services.measure_record_by_client(
        assignment=assignment, items=answers, audit=CLIENT_AUDIT
    )
    _items, expected = score("phq9", answers)
    assert (measure.score, measure.band, measure.safety_flag) == (10, "moderate", False)
    assert (measure.score, measure.band) == (expected.total, expected.band)
    assert measure.by_client and measure.recorded_by is None
    assert measure.administered_on == timezone.localdate()
    assignment.refresh_from_db()
    assert assignment.ended_at is not None  # once: answered, no longer asked
    event = AuditEvent.objects.filter(action="measure.record").latest("id")
    assert event.actor_id is None and "by=client" in event.detail


def test_item_9_above_0_raises_the_flag_and_the_tasks_at_once(clinician, supervisor):
    client = treated_client(clinician)
    assignment = services.measure_assign(
        client=client, instrument="phq9", every_days=14, actor=clinician
    )
    measure = services.measure_record_by_client(
        assignment=assignment, items=phq9(0, 0, 0, 0, 0, 0, 0, 0, 1), audit=CLIENT_AUDIT
    )
    assert measure.flag_open
    # No sweep has run: the tasks were written with the measure.
    assert {t.staff for t in _tasks()} == {clinician, supervisor}
    for task in _tasks():
        assert task.refs["url"] == reverse("meds:measure_detail", args=[measure.public_id])
        assert task.refs["due"] == timezone.localdate().isoformat()
    # The sweep later finds the same tasks and writes nothing twice.
    reminders_schedule()
    assert _tasks().count() == 2


def test_a_double_submission_stores_one_measure(clinician):
    client = treated_client(clinician)
    assignment = services.measure_assign(
        client=client, instrument="gad7", every_days=14, actor=clinician
    )
    first = services.measure_record_by_client(
        assignment=assignment, items=gad7(1, 1, 1, 1, 1, 1, 1), audit=CLIENT_AUDIT
    )
    second = services.measure_record_by_client(
        assignment=assignment, items=gad7(1, 1, 1, 1, 1, 1, 1), audit=CLIENT_AUDIT
    )
    assert second.pk == first.pk and getattr(second, "repeated", False)
    assert Measure.objects.filter(client=client).count() == 1
    assignment.refresh_from_db()
    assert assignment.next_due_on == timezone.localdate() + timedelta(days=14)


def test_every_14_days_comes_due_again_and_not_before(clinician):
    client = treated_client(clinician)
    assignment = services.measure_assign(
        client=client, instrument="gad7", every_days=14, actor=clinician
    )
    services.measure_record_by_client(assignment=assignment, items=gad7(), audit=CLIENT_AUDIT)
    with (
        time_machine.travel(timezone.now() + timedelta(days=3)),
        pytest.raises(ValidationError, match="not due"),
    ):
        services.measure_record_by_client(
            assignment=assignment, items=gad7(2, 2, 2, 2, 2, 2, 2), audit=CLIENT_AUDIT
        )
    with time_machine.travel(timezone.now() + timedelta(days=14)):
        services.measure_record_by_client(
            assignment=assignment, items=gad7(2, 2, 2, 2, 2, 2, 2), audit=CLIENT_AUDIT
        )
    assert Measure.objects.filter(client=client).count() == 2


def test_bad_answers_store_nothing_and_leave_it_due(clinician):
    client = treated_client(clinician)
    assignment = services.measure_assign(
        client=client, instrument="phq9", every_days=None, actor=clinician
    )
    for items in ({**phq9(), "9": 7}, {**phq9(), "99": 1}, {"1": "\x00"}, {}):
        with pytest.raises(ValidationError):
            services.measure_record_by_client(
                assignment=assignment, items=items, audit=CLIENT_AUDIT
            )
    assert not Measure.objects.exists()
    assignment.refresh_from_db()
    assert assignment.ended_at is None


def test_assigning_twice_keeps_one_and_bad_choices_are_refused(clinician):
    client = treated_client(clinician)
    first = services.measure_assign(client=client, instrument="bam", every_days=14, actor=clinician)
    again = services.measure_assign(
        client=client, instrument="bam", every_days=None, actor=clinician
    )
    assert again.pk == first.pk and again.repeated
    for instrument, every in (("phq10", None), ("phq9", 7)):
        with pytest.raises(ValidationError):
            services.measure_assign(
                client=client, instrument=instrument, every_days=every, actor=clinician
            )
    assert MeasureAssignment.objects.count() == 1


def test_the_clinician_assigns_from_the_chart_and_a_stranger_gets_404(
    clinician, other_clinician, client_as
):
    client = treated_client(clinician)
    web = client_as(clinician)
    chart = web.get(reverse("clients:chart", args=[client.public_id])).content.decode()
    assert reverse("meds:measure_assign", args=[client.public_id]) in chart
    url = reverse("meds:measure_assign", args=[client.public_id])
    response = web.post(url, {"instrument": "phq9", "schedule": "14"})
    assert response.status_code == 302
    assignment = MeasureAssignment.objects.get(client=client)
    assert (assignment.instrument, assignment.every_days) == ("phq9", 14)
    assert web.post(url, {"instrument": "phq9", "schedule": "3"}).status_code == 400
    assert web.post(url, {"instrument": "x" * 10_000, "schedule": "once"}).status_code == 400
    stranger = client_as(other_clinician)
    assert stranger.post(url, {"instrument": "gad7", "schedule": "once"}).status_code == 404
    end = reverse("meds:measure_assignment_end", args=[assignment.public_id])
    assert stranger.post(end).status_code == 404
    assert client_as(clinician).post(end).status_code == 302
    assignment.refresh_from_db()
    assert assignment.ended_at is not None
