"""Writes of medication records and outcome measures: keyword-only, atomic, audited.

The rules live here, not in the forms: who may be a prescriber, which dates are
plausible, which analytes a medication makes expected, what a measure's answers may
be and how they score. A double submission (a double click, a resent form) lands on
the first record: the client's row is locked, then the same record by the same
person within ``DUPLICATE_WINDOW`` is returned instead of a second row.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import DUPLICATE_WINDOW, Client
from clinical.meds import measures as scoring
from clinical.meds.models import (
    MAT_ANALYTES,
    Analyte,
    FollowUp,
    MatAgent,
    Measure,
    MeasureAssignment,
    Medication,
)
from iop.accounts.models import Role
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date
from iop.forms import clean_text

TEXT_FIELDS = ("name", "dose", "schedule", "outside_prescriber")


def _clean_text(fields: dict) -> dict:
    """Trimmed text; NUL characters (PostgreSQL cannot store them) and overlong text
    refused on every path."""
    return {
        name: clean_text(
            fields.get(name), field=name, limit=Medication._meta.get_field(name).max_length
        )
        for name in TEXT_FIELDS
    }


def _check_prescriber(prescriber, outside_prescriber: str) -> None:
    if prescriber is None and not outside_prescriber:
        raise ValidationError(
            {"prescriber": "Choose the program's prescriber or name an outside prescriber."}
        )
    if prescriber is not None and outside_prescriber:
        raise ValidationError(
            {"outside_prescriber": "Either the program's prescriber or an outside one, not both."}
        )
    if prescriber is not None and not (
        prescriber.is_active
        and get_user_model().objects.filter(pk=prescriber.pk, groups__name=Role.MEDICAL).exists()
    ):
        raise ValidationError({"prescriber": "The prescriber must be active medical staff."})


def expected_analytes_for(mat_agent: str, extra=()) -> list[str]:
    """The analyte codes a medication makes expected: its MAT agent's, plus any named."""
    unknown = set(extra) - set(Analyte.values)
    if unknown:
        raise ValidationError({"extra_analytes": "Choose analytes from the list."})
    codes = [*MAT_ANALYTES.get(mat_agent, ()), *extra]
    return [code for code in Analyte.values if code in codes]  # one order, no repeats


@transaction.atomic
def medication_add(
    *,
    client: Client,
    name: str = "",
    dose: str,
    schedule: str,
    started_on: date,
    mat_agent: str = "",
    extra_analytes=(),
    prescriber=None,
    outside_prescriber: str = "",
    ended_on: date | None = None,
    actor,
    audit: AuditContext | None = None,
) -> Medication:
    """Record a medication the client takes (the program records, it does not prescribe)."""
    text = _clean_text(
        {"name": name, "dose": dose, "schedule": schedule, "outside_prescriber": outside_prescriber}
    )
    if mat_agent and mat_agent not in MatAgent.values:
        raise ValidationError({"mat_agent": "Choose a MAT medication from the list."})
    if not text["name"]:
        if not mat_agent:
            raise ValidationError({"name": "Name the medication."})
        text["name"] = MatAgent(mat_agent).label
    for required in ("dose", "schedule"):
        if not text[required]:
            raise ValidationError({required: "This field is required."})
    _check_prescriber(prescriber, text["outside_prescriber"])
    check_date(started_on, DateKind.RECORD, field="started_on")
    if started_on > timezone.localdate():
        # The record says what the client takes, not what is planned: a start in the
        # future would make its analytes "expected" on screens before the first dose.
        raise ValidationError(
            {
                "started_on": "A medication is recorded once it has started: "
                "that start is in the future."
            }
        )
    check_date(ended_on, DateKind.RECORD, field="ended_on")
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": "The medication cannot end before it started."})
    medication = Medication(
        client=client,
        mat_agent=mat_agent,
        is_mat=bool(mat_agent),
        expected_analytes=expected_analytes_for(mat_agent, extra_analytes),
        prescriber=prescriber,
        started_on=started_on,
        ended_on=ended_on,
        recorded_by=actor,
        **text,
    )
    medication.full_clean()
    Client.objects.lock(client)
    earlier = (
        Medication.objects.filter(
            client=client,
            recorded_by=actor,
            recorded_at__gte=timezone.now() - DUPLICATE_WINDOW,
            name=medication.name,
            dose=medication.dose,
            schedule=medication.schedule,
            mat_agent=mat_agent,
            started_on=started_on,
        )
        .order_by("id")
        .first()
    )
    if earlier is not None:
        earlier.repeated = True
        return earlier
    medication.save()
    audit_record(
        action="medication.add",
        actor=actor,
        audit=audit,
        obj=medication,
        client=client,
        detail=f"mat={int(medication.is_mat)}; analytes={len(medication.expected_analytes)}",
    )
    return medication


@transaction.atomic
def medication_stop(
    *, medication: Medication, ended_on: date, actor, audit: AuditContext | None = None
) -> Medication:
    """Record the medication's last day; its analytes are no longer expected after it."""
    medication = (
        Medication.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=medication.pk)
    )
    if medication.ended_on is not None:
        raise ValidationError("This medication is already stopped.")
    if ended_on is None:
        raise ValidationError({"ended_on": "Give the last day the medication was taken."})
    check_date(ended_on, DateKind.RECORD, field="ended_on")
    if ended_on < medication.started_on:
        raise ValidationError({"ended_on": "The medication cannot end before it started."})
    medication.ended_on = ended_on
    medication.stopped_by = actor
    medication.save(update_fields=["ended_on", "stopped_by"])
    audit_record(
        action="medication.stop",
        actor=actor,
        audit=audit,
        obj=medication,
        client=medication.client,
    )
    return medication


@transaction.atomic
def measure_record(
    *,
    client: Client,
    instrument: str,
    administered_on: date,
    items: dict,
    actor,
    audit: AuditContext | None = None,
) -> Measure:
    """Score and store one administration; a PHQ-9 item 9 above 0 raises a safety flag."""
    items, result = scoring.score(instrument, items)
    check_date(administered_on, DateKind.RECORD, field="administered_on")
    if administered_on > timezone.localdate():
        raise ValidationError({"administered_on": "A measure is recorded after it is given."})
    Client.objects.lock(client)
    recent = Measure.objects.filter(
        client=client,
        instrument=instrument,
        administered_on=administered_on,
        recorded_by=actor,
        recorded_at__gte=timezone.now() - DUPLICATE_WINDOW,
    ).order_by("id")
    for earlier in recent[:20]:
        if earlier.items == items:
            earlier.repeated = True
            return earlier
    measure = Measure.objects.create(
        client=client,
        instrument=instrument,
        administered_on=administered_on,
        items=items,
        score=result.total,
        subscores=result.subscores,
        band=result.band,
        safety_flag=result.safety_flag,
        recorded_by=actor,
    )
    audit_record(
        action="measure.record",
        actor=actor,
        audit=audit,
        obj=measure,
        client=client,
        detail=f"instrument={instrument}; items={len(items)}; flag={int(result.safety_flag)}",
    )
    return measure


@transaction.atomic
def measure_flag_acknowledge(
    *, measure: Measure, follow_up: str, actor, audit: AuditContext | None = None
) -> Measure:
    """A care-team clinician has seen the safety flag and says what was done about it.

    Acknowledging twice (two clinicians at once, a double click) keeps the first
    acknowledgement and writes nothing more.
    """
    if follow_up not in FollowUp.values:
        raise ValidationError({"follow_up": "Choose what was done."})
    measure = (
        Measure.objects.select_for_update(of=("self",)).select_related("client").get(pk=measure.pk)
    )
    if not measure.safety_flag:
        raise ValidationError("This measure raised no safety flag.")
    if measure.flag_acknowledged_at is not None:
        measure.repeated = True
        return measure
    measure.flag_acknowledged_at = timezone.now()
    measure.flag_acknowledged_by = actor
    measure.flag_follow_up = follow_up
    measure.save(update_fields=["flag_acknowledged_at", "flag_acknowledged_by", "flag_follow_up"])
    audit_record(
        action="measure.flag_acknowledge",
        actor=actor,
        audit=audit,
        obj=measure,
        client=measure.client,
        detail=f"follow_up={follow_up}",
    )
    return measure


# --- Measures the client answers in the portal ------------------------------------------

ASSIGN_SCHEDULES = (None, MeasureAssignment.REPEAT_DAYS)


@transaction.atomic
def measure_assign(
    *,
    client: Client,
    instrument: str,
    every_days: int | None,
    actor,
    audit: AuditContext | None = None,
) -> MeasureAssignment:
    """Ask the client to answer ``instrument`` in the portal: once, or every 14 days,
    due from today. One active assignment per instrument: assigning again while one is
    active (a double click, a second clinician) keeps the first."""
    if instrument not in scoring.INSTRUMENTS:
        raise ValidationError({"instrument": "Choose a measure from the list."})
    if every_days not in ASSIGN_SCHEDULES:
        raise ValidationError({"every_days": "Choose once or every 14 days."})
    Client.objects.lock(client)
    active = MeasureAssignment.objects.active().filter(client=client, instrument=instrument).first()
    if active is not None:
        active.repeated = True
        return active
    assignment = MeasureAssignment.objects.create(
        client=client,
        instrument=instrument,
        every_days=every_days,
        next_due_on=timezone.localdate(),
        assigned_by=actor,
    )
    audit_record(
        action="measure.assign",
        actor=actor,
        audit=audit,
        obj=assignment,
        client=client,
        detail=f"instrument={instrument}; every_days={every_days or 0}",
    )
    return assignment


@transaction.atomic
def measure_assignment_end(
    *, assignment: MeasureAssignment, actor, audit: AuditContext | None = None
) -> MeasureAssignment:
    """Stop asking; the measures already answered stay on the chart."""
    assignment = (
        MeasureAssignment.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=assignment.pk)
    )
    if assignment.ended_at is not None:
        assignment.repeated = True
        return assignment
    assignment.ended_at = timezone.now()
    assignment.ended_by = actor
    assignment.save(update_fields=["ended_at", "ended_by"])
    audit_record(
        action="measure.assignment_end",
        actor=actor,
        audit=audit,
        obj=assignment,
        client=assignment.client,
    )
    return assignment


@transaction.atomic
def measure_record_by_client(
    *, assignment: MeasureAssignment, items: dict, audit: AuditContext
) -> Measure:
    """The client's own answers to a due assignment, scored as a staff-entered measure.

    The assignment moves to its next due day (or ends, once answered) in the same
    transaction, so a second submission of the same form finds nothing due and returns
    the measure the first one stored (``repeated``). A PHQ-9 item 9 above 0 raises the
    safety flag and writes the follow-up tasks of the primary clinician(s) and their
    supervisors now, in this transaction, not at the next sweep.
    """
    Client.objects.lock(assignment.client)
    assignment = (
        MeasureAssignment.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=assignment.pk)
    )
    client = assignment.client
    today = timezone.localdate()
    if assignment.ended_at is not None or assignment.next_due_on > today:
        earlier = (
            Measure.objects.filter(assignment=assignment, by_client=True).order_by("-id").first()
        )
        if earlier is not None and earlier.recorded_at >= timezone.now() - DUPLICATE_WINDOW:
            earlier.repeated = True
            return earlier
        raise ValidationError("This questionnaire is not due now.")
    items, result = scoring.score(assignment.instrument, items)
    measure = Measure.objects.create(
        client=client,
        instrument=assignment.instrument,
        administered_on=today,
        items=items,
        score=result.total,
        subscores=result.subscores,
        band=result.band,
        safety_flag=result.safety_flag,
        by_client=True,
        assignment=assignment,
    )
    if assignment.every_days:
        assignment.next_due_on = today + timedelta(days=assignment.every_days)
        assignment.save(update_fields=["next_due_on"])
    else:
        assignment.ended_at = timezone.now()
        assignment.save(update_fields=["ended_at"])
    audit_record(
        action="measure.record",
        audit=audit,
        obj=measure,
        client=client,
        detail=(
            f"instrument={measure.instrument}; items={len(items)}; "
            f"flag={int(result.safety_flag)}; by=client"
        ),
    )
    if measure.safety_flag:
        from clinical.meds.staff_reminders import write_safety_flag_tasks

        write_safety_flag_tasks(measure)
    return measure
