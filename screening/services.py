"""Writes of screens, selections and follow-ups: keyword-only, atomic, validating,
auditing. The rules (what a result means) live in ``screening.rules``; what may be
written, and by whom, lives here, so the form, the admin, the daily task and the demo
share it. ``detail`` in the audit rows carries codes and counts only.

A double submission lands on the first record: the client's row is locked, then the
same specimen id (urine) or the same reading by the same person within
``DUPLICATE_WINDOW`` (breath) returns the first record instead of a second.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from clients.models import DUPLICATE_WINDOW, CareTeamRole, Client
from clinical.meds.models import Medication
from clinical.meds.selectors import expected_analytes
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date
from iop.forms import clean_text
from iop.notifications.signals import reminders_subject_cancelled
from scheduling.models import ClinicClosure, Enrollment
from screening import rules
from screening.models import (
    AnalyteResult,
    BreathTest,
    FollowUpReason,
    OrderKind,
    Panel,
    RandomSelection,
    ScreenFollowUp,
    SelectionRun,
    SelectionStatus,
    TestingPolicy,
    UrineScreen,
    UrineStatus,
)
from screening.rules import AnalyteOutcome, Confirmation, Outcome, Validity

MAX_VALUE = Decimal("9999999")  # ng/mL: the column's range; anything above is a slip
NOTE_MAX = 4000
TASK_AUDIT = AuditContext.system("screening.random_selection")


def _text(value, *, field: str, limit: int, required: bool = False, label: str = "") -> str:
    value = clean_text(value, field=field, limit=limit)
    if required and not value:
        raise ValidationError({field: label or "This field is required."})
    return value


def _decimal(value, *, field: str, low: Decimal, high: Decimal, label: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        value = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"Enter {label} as a number."}) from None
    if not value.is_finite() or value < low or value > high:
        raise ValidationError(
            {field: f"{label[:1].upper()}{label[1:]} must be between {low} and {high}."}
        )
    return value


def _temperature(value, unit) -> Decimal:
    """The reading in °C, checked against the physical range in the unit it was read in
    (a message in °F for a reading in °F)."""
    units = rules.TemperatureUnit
    if unit not in units.LABELS:
        raise ValidationError({"temperature_unit": "Choose °C or °F."})
    if value is None or value == "":
        raise ValidationError({"temperature": "Read the specimen's temperature within 4 minutes."})
    low, high = rules.TEMPERATURE_PHYSICAL
    if unit == units.FAHRENHEIT:
        low, high = rules.to_fahrenheit(low), rules.to_fahrenheit(high)
    value = _decimal(
        value,
        field="temperature",
        low=low,
        high=high,
        label=f"the temperature ({units.LABELS[unit]})",
    )
    return rules.to_celsius(value, unit)


def _check_moment(value: datetime, *, field: str, label: str) -> None:
    """A collection, test or confirmation is recorded after it happened: never a moment
    in the future (the form's minute is the current one at the latest)."""
    if value is None:
        raise ValidationError({field: f"Give the {label} time."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now():
        raise ValidationError({field: f"The {label} time is in the future."})
    check_date(value, DateKind.RECORD, field=field)


def primary_clinician(client: Client, *, on: date | None = None):
    member = (
        client.care_team.active(on)
        .filter(role=CareTeamRole.PRIMARY)
        .select_related("staff")
        .order_by("started_on", "id")
        .first()
    )
    return member.staff if member else None


def _open_follow_up(*, client, reason, occurred_on, urine_screen=None, breath_test=None, audit):
    """Create the follow-up once: the unique constraint makes a repeat a no-op."""
    lookup = {"urine_screen": urine_screen} if urine_screen else {"breath_test": breath_test}
    follow_up, created = ScreenFollowUp.objects.get_or_create(
        reason=reason, **lookup, defaults={"client": client, "occurred_on": occurred_on}
    )
    if created:
        audit_record(
            action="screen_follow_up.open",
            audit=audit,
            obj=follow_up,
            client=client,
            detail=f"reason={reason}",
        )
    return follow_up


# --- Urine screens -----------------------------------------------------------------------


def observation_required(client: Client, *, before: datetime | None = None) -> str | None:
    """Why the client's next collection must be observed, or None.

    After an out-of-range (or late) temperature (49 CFR 40.65(b)(5)-(6), 40.67(c)), a
    suspected tampering, a dilute, substituted, adulterated or invalid specimen, or an
    analyte the lab reports invalid (49 CFR 40.67(a)(1), 2023), collections stay
    observed until one observed collection has been made (HHS Mandatory Guidelines,
    section 8.5).
    """
    screens = UrineScreen.objects.filter(client=client, status=UrineStatus.COLLECTED)
    if before is not None:
        screens = screens.filter(collected_at__lt=before)
    # The last collection decides: a problem with it calls for observation, and an
    # observed collection without one ends the requirement.
    last = screens.order_by("-collected_at", "-id").first()
    if last is None:
        return None
    if not last.temperature_ok:
        return "the last specimen's temperature was out of range or read late"
    if last.tampering_suspected:
        return "tampering was suspected at the last collection"
    if last.validity in Validity.OBSERVE_NEXT:
        return f"the last specimen was {last.validity_label.lower()}"
    if (
        last.outcome == Outcome.INVALID
        or last.results.filter(outcome=AnalyteOutcome.INVALID).exists()
    ):
        return "the lab reported an invalid result on the last specimen"
    return None


@transaction.atomic
def urine_collect(
    *,
    client: Client,
    order_kind: str,
    collected_at: datetime,
    specimen_id: str,
    panel: Panel,
    temperature=None,
    temperature_unit: str = rules.TemperatureUnit.CELSIUS,
    temperature_read_in_time: bool = True,
    observed: bool = False,
    tampering_suspected: bool = False,
    cause: str = "",
    selection: RandomSelection | None = None,
    actor,
    audit: AuditContext | None = None,
) -> UrineScreen:
    """Record a collected specimen. Results come later (``urine_results_record``).

    ``temperature`` is read in ``temperature_unit`` (°C or °F) and stored in °C."""
    if order_kind not in OrderKind.values:
        raise ValidationError({"order_kind": "Choose random, scheduled or for cause."})
    cause = _text(cause, field="cause", limit=200)
    if order_kind == OrderKind.FOR_CAUSE and not cause:
        raise ValidationError({"cause": "Say what the screen is for (the cause)."})
    if order_kind != OrderKind.FOR_CAUSE:
        cause = ""
    if (selection is not None) != (order_kind == OrderKind.RANDOM):
        raise ValidationError(
            {"order_kind": "A random screen is collected from the day's random selection."}
        )
    _check_moment(collected_at, field="collected_at", label="collection")
    specimen_id = _text(
        specimen_id,
        field="specimen_id",
        limit=40,
        required=True,
        label="Give the specimen id (the chain-of-custody form number).",
    )
    if panel is None or not panel.active:
        raise ValidationError({"panel": "Choose an active panel."})
    temperature_c = _temperature(temperature, temperature_unit)
    Client.objects.lock(client)
    earlier = UrineScreen.objects.filter(specimen_id=specimen_id).first()
    if earlier is not None:
        if (
            earlier.client_id == client.pk
            and earlier.collector_id == actor.pk
            and earlier.created_at >= timezone.now() - DUPLICATE_WINDOW
        ):
            earlier.repeated = True
            return earlier
        raise ValidationError({"specimen_id": "This specimen id is already recorded."})
    if selection is not None:
        selection = RandomSelection.objects.select_for_update().get(pk=selection.pk)
        if selection.client_id != client.pk:
            raise ValidationError("This selection is another client's.")
        if selection.status != SelectionStatus.PENDING:
            raise ValidationError(
                f"This random test is already {selection.get_status_display().lower()}."
            )
        if timezone.localtime(collected_at).date() != selection.date:
            raise ValidationError(
                {"collected_at": "A random test is collected on the day it was drawn."}
            )
    why = observation_required(client, before=collected_at)
    if why and not observed:
        raise ValidationError({"observed": f"This collection must be observed: {why}."})
    screen = UrineScreen(
        client=client,
        order_kind=order_kind,
        cause=cause,
        selection=selection,
        status=UrineStatus.COLLECTED,
        collected_at=collected_at,
        collector=actor,
        observed=bool(observed),
        temperature_c=temperature_c,
        temperature_read_in_time=bool(temperature_read_in_time),
        tampering_suspected=bool(tampering_suspected),
        specimen_id=specimen_id,
        panel=panel,
    )
    screen.outcome = rules.urine_outcome(collected=True, temperature_ok=screen.temperature_ok)
    try:
        with transaction.atomic():
            screen.save()
    except IntegrityError:  # another client's specimen took the id meanwhile
        raise ValidationError({"specimen_id": "This specimen id is already recorded."}) from None
    if selection is not None:
        selection.status = SelectionStatus.COLLECTED
        selection.save(update_fields=["status"])
    if not screen.temperature_ok:
        # 49 CFR 40.65(b)(5)-(6) (2023): recollect at once under direct observation,
        # and send both specimens to the lab: this one's results are still recorded.
        _open_follow_up(
            client=client,
            reason=FollowUpReason.TEMPERATURE,
            occurred_on=timezone.localtime(screen.collected_at).date(),
            urine_screen=screen,
            audit=audit,
        )
    audit_record(
        action="urine_screen.collect",
        actor=actor,
        audit=audit,
        obj=screen,
        client=client,
        detail=(
            f"kind={order_kind}; observed={int(screen.observed)}; "
            f"temperature_ok={int(screen.temperature_ok)}; "
            f"tampering={int(screen.tampering_suspected)}"
        ),
    )
    return screen


def _readings(screen: UrineScreen) -> list[rules.AnalyteReading]:
    return [r.reading() for r in screen.results.select_related("analyte")]


def _recompute(screen: UrineScreen) -> str:
    screen.validity = screen.assessment().validity
    screen.outcome = rules.urine_outcome(
        collected=screen.status == UrineStatus.COLLECTED,
        status=screen.status,
        temperature_ok=screen.temperature_ok,
        validity=screen.validity,
        readings=_readings(screen),
    )
    return screen.outcome


def _mat_agents(screen: UrineScreen) -> set[str]:
    """The MAT medications (buprenorphine, methadone) the client took on the collection
    day (one query)."""
    day = timezone.localtime(screen.collected_at).date()
    return set(
        Medication.objects.filter(client_id=screen.client_id, is_mat=True)
        .active_on(day)
        .exclude(mat_agent="")
        .values_list("mat_agent", flat=True)
    )


def _follow_ups_for(screen: UrineScreen, *, audit) -> list[ScreenFollowUp]:
    reason = {
        Outcome.UNEXPECTED_POSITIVE: FollowUpReason.UNEXPECTED_POSITIVE,
        Outcome.NEEDS_REVIEW: FollowUpReason.NEEDS_REVIEW,
        Outcome.SUBSTITUTED: FollowUpReason.SUBSTITUTED,
        Outcome.ADULTERATED: FollowUpReason.ADULTERATED,
        Outcome.NO_SHOW: FollowUpReason.MISSED_RANDOM,
        Outcome.REFUSED: FollowUpReason.REFUSED,
    }.get(screen.outcome)
    reasons = [reason] if reason else []
    readings = _readings(screen)
    # A validity problem is followed up even when an unexpected positive shows
    # through it (and the next collection is observed: ``observation_required``).
    if screen.validity == Validity.DILUTE:
        reasons.append(FollowUpReason.DILUTE)
    if screen.validity == Validity.INVALID or any(
        r.outcome == AnalyteOutcome.INVALID for r in readings
    ):
        # HHS 2017 s. 3.8; 49 CFR 40.67(a)(1) (2023).
        reasons.append(FollowUpReason.INVALID)
    if not screen.temperature_ok:
        reasons.append(FollowUpReason.TEMPERATURE)
    if readings and screen.validity not in (Validity.SUBSTITUTED, Validity.ADULTERATED):
        # MAT adherence: negative for the prescribed medication, or the parent drug
        # without its metabolite (``rules.mat_findings``), for clinical review.
        reasons += [kind for kind, _words in rules.mat_findings(_mat_agents(screen), readings)]
    return [
        _open_follow_up(
            client=screen.client,
            reason=r,
            occurred_on=timezone.localtime(screen.collected_at).date(),
            urine_screen=screen,
            audit=audit,
        )
        for r in reasons
    ]


def _parse_result(code, entry, analyte) -> tuple[str, Decimal | None]:
    """``entry`` is (outcome, value or None); the value must agree with the cutoff."""
    try:
        outcome, value = entry
    except (TypeError, ValueError):
        raise ValidationError({f"result_{code}": "Give negative, positive or invalid."}) from None
    if outcome not in (AnalyteOutcome.NEGATIVE, AnalyteOutcome.POSITIVE, AnalyteOutcome.INVALID):
        raise ValidationError({f"result_{code}": "Give negative, positive or invalid."})
    value = _decimal(
        value, field=f"value_{code}", low=Decimal(0), high=MAX_VALUE, label="the measured value"
    )
    if value is not None:
        value = value.quantize(Decimal("0.1"))
        cutoff = analyte.initial_cutoff
        if outcome == AnalyteOutcome.POSITIVE and value < cutoff:
            raise ValidationError(
                {f"value_{code}": f"{value} ng/mL is below the {cutoff} ng/mL cutoff."}
            )
        if outcome == AnalyteOutcome.NEGATIVE and value >= cutoff:
            raise ValidationError(
                {f"value_{code}": f"{value} ng/mL is at or above the {cutoff} ng/mL cutoff."}
            )
        if outcome == AnalyteOutcome.INVALID:
            raise ValidationError({f"value_{code}": "An invalid result has no value."})
    return outcome, value


@transaction.atomic
def urine_results_record(
    *,
    screen: UrineScreen,
    results: dict,
    creatinine_mg_dl=None,
    specific_gravity=None,
    ph=None,
    nitrite_ug_ml=None,
    oxidant: bool | None = None,
    invalid_reason: str = "",
    actor,
    audit: AuditContext | None = None,
) -> UrineScreen:
    """Record the lab's (or the point-of-care cup's) result for every analyte on the
    panel, with specimen validity (creatinine and SG; pH, nitrite, oxidant and the
    lab's invalid reason where tested); set the overall result and open follow-ups.

    ``results`` maps analyte code -> (outcome, measured value or None). Each result
    copies the cutoffs in force and whether a medication made the analyte expected on
    the collection day. Results are recorded once; the lab's later word is a
    confirmation (``urine_confirmation_record``).
    """
    screen = (
        UrineScreen.objects.select_for_update(of=("self",))
        .select_related("client", "panel")
        .get(pk=screen.pk)
    )
    if screen.status != UrineStatus.COLLECTED:
        raise ValidationError("No specimen was collected: there are no results to record.")
    panel = {a.code: a for a in screen.panel.analytes.all()}
    if not isinstance(results, dict):
        raise ValidationError("Give a result for each analyte on the panel.")
    unknown = sorted(set(results) - set(panel))
    if unknown:
        raise ValidationError(
            f"{len(unknown)} result(s) for analytes not on the {screen.panel.name}: refused."
        )
    missing = [panel[code].name for code in panel if not (results.get(code) or ("",))[0]]
    if missing:
        raise ValidationError(
            f"Give a result for every analyte on the panel: {', '.join(missing)}."
        )
    parsed = {code: _parse_result(code, results[code], panel[code]) for code in panel}
    creatinine = _decimal(
        creatinine_mg_dl,
        field="creatinine_mg_dl",
        low=rules.CREATININE_PHYSICAL[0],
        high=rules.CREATININE_PHYSICAL[1],
        label="creatinine (mg/dL)",
    )
    gravity = _decimal(
        specific_gravity,
        field="specific_gravity",
        low=rules.SPECIFIC_GRAVITY_PHYSICAL[0],
        high=rules.SPECIFIC_GRAVITY_PHYSICAL[1],
        label="specific gravity",
    )
    if (creatinine is None) != (gravity is None):
        raise ValidationError(
            {"specific_gravity": "Give both creatinine and specific gravity, or neither."}
        )
    ph = _decimal(
        ph, field="ph", low=rules.PH_PHYSICAL[0], high=rules.PH_PHYSICAL[1], label="the pH"
    )
    nitrite = _decimal(
        nitrite_ug_ml,
        field="nitrite_ug_ml",
        low=rules.NITRITE_PHYSICAL[0],
        high=rules.NITRITE_PHYSICAL[1],
        label="nitrite (µg/mL)",
    )
    if ph is not None:
        ph = ph.quantize(Decimal("0.01"))
    if nitrite is not None:
        nitrite = nitrite.quantize(Decimal("0.1"))
    if oxidant not in (None, True, False):
        raise ValidationError({"oxidant": "Choose not tested, not detected or detected."})
    if invalid_reason not in rules.InvalidReason.LABELS:
        raise ValidationError({"invalid_reason": "Choose one of the lab's invalid reasons."})
    validity_tests = (ph, nitrite, oxidant, invalid_reason)
    if screen.results_at is not None:
        existing = {
            r.analyte.code: (r.outcome, r.value) for r in screen.results.select_related("analyte")
        }
        same = (
            existing == parsed
            and (screen.creatinine_mg_dl, screen.specific_gravity)
            == (
                creatinine and creatinine.quantize(Decimal("0.1")),
                gravity and gravity.quantize(Decimal("0.0001")),
            )
            and (screen.ph, screen.nitrite_ug_ml, screen.oxidant, screen.invalid_reason)
            == validity_tests
        )
        if same:
            screen.repeated = True
            return screen
        raise ValidationError(
            "Results are already recorded for this specimen; the lab's later word is a "
            "confirmation."
        )
    expected = expected_analytes(screen.client, on=timezone.localtime(screen.collected_at).date())
    AnalyteResult.objects.bulk_create(
        AnalyteResult(
            screen=screen,
            analyte=panel[code],
            outcome=outcome,
            value=value,
            cutoff=panel[code].initial_cutoff,
            confirm_cutoff=panel[code].confirm_cutoff,
            confirm_cutoffs=panel[code].confirm_cutoffs or {},
            expected=code in expected,
            alcohol_marker=panel[code].alcohol_marker,
        )
        for code, (outcome, value) in parsed.items()
    )
    screen.creatinine_mg_dl = creatinine
    screen.specific_gravity = gravity
    screen.ph, screen.nitrite_ug_ml, screen.oxidant, screen.invalid_reason = validity_tests
    screen.results_at = timezone.now()
    screen.results_by = actor
    _recompute(screen)
    screen.save(
        update_fields=[
            "creatinine_mg_dl",
            "specific_gravity",
            "ph",
            "nitrite_ug_ml",
            "oxidant",
            "invalid_reason",
            "validity",
            "outcome",
            "results_at",
            "results_by",
        ]
    )
    positives = [c for c, (o, _v) in parsed.items() if o == AnalyteOutcome.POSITIVE]
    audit_record(
        action="urine_screen.results",
        actor=actor,
        audit=audit,
        obj=screen,
        client=screen.client,
        detail=(
            f"analytes={len(parsed)}; positive={len(positives)}; "
            f"expected={len([c for c in positives if c in expected])}; "
            f"validity={screen.validity}; outcome={screen.outcome}"
        ),
    )
    _follow_ups_for(screen, audit=audit)
    return screen


@transaction.atomic
def urine_confirmation_record(
    *,
    screen: UrineScreen,
    analyte_code: str,
    confirmation: str,
    confirmed_value=None,
    confirmed_analyte: str = "",
    actor,
    audit: AuditContext | None = None,
) -> AnalyteResult:
    """Move a positive result through the lab's confirmation: sent, pending, then
    confirmed positive or negative (final). A confirmed negative overturns the
    immunoassay; the overall result is recomputed.

    Where the panel gives confirmatory cutoffs per analyte of a group (the 2025 HHS
    urine panel, 90 FR 4662: codeine 2,000, morphine 4,000 ng/mL), a confirmed value
    names its analyte (``confirmed_analyte``) and is checked against that cutoff."""
    screen = (
        UrineScreen.objects.select_for_update(of=("self",))
        .select_related("client", "panel")
        .get(pk=screen.pk)
    )
    result = (
        AnalyteResult.objects.select_for_update(of=("self",))
        .select_related("analyte")
        .filter(screen=screen, analyte__code=analyte_code)
        .first()
    )
    if result is None:
        raise ValidationError({"analyte": "That analyte has no result on this screen."})
    if result.outcome != AnalyteOutcome.POSITIVE:
        raise ValidationError({"analyte": "Only a positive result is sent for confirmation."})
    if confirmation not in Confirmation.ORDER or confirmation == Confirmation.NONE:
        raise ValidationError({"confirmation": "Choose the lab's state."})
    value = _decimal(
        confirmed_value,
        field="confirmed_value",
        low=Decimal(0),
        high=MAX_VALUE,
        label="the confirmed value",
    )
    if result.confirmation == confirmation and value == result.confirmed_value:
        result.repeated = True
        return result
    if result.confirmation in Confirmation.FINAL:
        raise ValidationError("The lab's confirmation is final and is not changed.")
    if Confirmation.ORDER[confirmation] < Confirmation.ORDER[result.confirmation]:
        raise ValidationError({"confirmation": "The lab's state only moves forward."})
    per_analyte = result.confirm_cutoffs or {}
    confirmed_analyte = _text(confirmed_analyte, field="confirmed_analyte", limit=40)
    if confirmed_analyte and confirmed_analyte not in per_analyte:
        raise ValidationError(
            {
                "confirmed_analyte": f"{result.analyte.name} has no confirmatory analyte "
                "of that name."
            }
        )
    if value is not None:
        if confirmation not in Confirmation.FINAL:
            raise ValidationError({"confirmed_value": "A value comes with the lab's final word."})
        if per_analyte and not confirmed_analyte:
            raise ValidationError(
                {
                    "confirmed_analyte": "Say which analyte the lab measured: "
                    f"{', '.join(per_analyte)}."
                }
            )
        cutoff = result.confirm_cutoff
        of = ""
        if confirmed_analyte:
            cutoff = Decimal(str(per_analyte[confirmed_analyte]))
            of = f" for {confirmed_analyte}"
        if cutoff is not None:
            if confirmation == Confirmation.CONFIRMED_POSITIVE and value < cutoff:
                raise ValidationError(
                    {"confirmed_value": f"Below the {cutoff} ng/mL confirmatory cutoff{of}."}
                )
            if confirmation == Confirmation.CONFIRMED_NEGATIVE and value >= cutoff:
                raise ValidationError(
                    {"confirmed_value": f"At or above the {cutoff} ng/mL confirmatory cutoff{of}."}
                )
    result.confirmation = confirmation
    result.confirmed_value = value
    result.confirmed_analyte = confirmed_analyte
    result.confirmation_at = timezone.now()
    result.save(
        update_fields=["confirmation", "confirmed_value", "confirmed_analyte", "confirmation_at"]
    )
    before = screen.outcome
    _recompute(screen)
    screen.save(update_fields=["validity", "outcome"])
    audit_record(
        action="urine_screen.confirmation",
        actor=actor,
        audit=audit,
        obj=screen,
        client=screen.client,
        detail=f"analyte={analyte_code}; state={confirmation}; outcome={before}->{screen.outcome}",
    )
    _follow_ups_for(screen, audit=audit)
    return result


@transaction.atomic
def urine_not_collected(
    *,
    selection: RandomSelection,
    status: str,
    actor=None,
    audit: AuditContext | None = None,
) -> UrineScreen:
    """A random test the client did not give: a no-show or a refusal. It is recorded
    as a screen, counts as positive if the program policy says so (default yes) and
    opens a follow-up for the primary clinician."""
    if status not in (UrineStatus.NO_SHOW, UrineStatus.REFUSED):
        raise ValidationError({"status": "Choose no-show or refused."})
    selection = (
        RandomSelection.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=selection.pk)
    )
    if selection.status != SelectionStatus.PENDING:
        existing = UrineScreen.objects.filter(selection=selection).first()
        if existing is not None and existing.status == status:
            existing.repeated = True
            return existing
        raise ValidationError(
            f"This random test is already {selection.get_status_display().lower()}."
        )
    if status == UrineStatus.REFUSED and selection.date != timezone.localdate():
        raise ValidationError("A refusal is recorded on the day of the test.")
    screen = UrineScreen.objects.create(
        client=selection.client,
        order_kind=OrderKind.RANDOM,
        selection=selection,
        status=status,
        collected_at=timezone.now(),
        collector=actor,
        outcome=status,
    )
    selection.status = (
        SelectionStatus.REFUSED if status == UrineStatus.REFUSED else SelectionStatus.MISSED
    )
    selection.save(update_fields=["status"])
    audit_record(
        action=f"urine_screen.{status}",
        actor=actor,
        audit=audit,
        obj=screen,
        client=selection.client,
        detail=f"selection_date={selection.date:%Y-%m-%d}",
    )
    _open_follow_up(
        client=selection.client,
        reason=FollowUpReason.REFUSED
        if status == UrineStatus.REFUSED
        else FollowUpReason.MISSED_RANDOM,
        occurred_on=selection.date,
        urine_screen=screen,
        audit=audit,
    )
    return screen


# --- Breath alcohol ----------------------------------------------------------------------


def _bac(value, *, field: str) -> Decimal:
    if value is None or value == "":
        raise ValidationError({field: "Give the BAC reading."})
    low, high = rules.BAC_RANGE
    bac = _decimal(value, field=field, low=low, high=high, label="the BAC (g/210 L)")
    return bac.quantize(Decimal("0.001"))


@transaction.atomic
def breath_record(
    *,
    client: Client,
    tested_at: datetime,
    bac,
    device: str,
    actor,
    audit: AuditContext | None = None,
) -> BreathTest:
    """A breath-alcohol screen. At 0.020 or more it stays incomplete until a
    confirmation test 15-30 minutes later (``breath_confirm``), which governs."""
    bac = _bac(bac, field="bac")
    device = _text(device, field="device", limit=80, required=True, label="Name the device.")
    _check_moment(tested_at, field="tested_at", label="test")
    Client.objects.lock(client)
    earlier = (
        BreathTest.objects.filter(
            client=client,
            operator=actor,
            tested_at=tested_at,
            bac=bac,
            created_at__gte=timezone.now() - DUPLICATE_WINDOW,
        )
        .order_by("id")
        .first()
    )
    if earlier is not None:
        earlier.repeated = True
        return earlier
    test = BreathTest.objects.create(
        client=client,
        tested_at=tested_at,
        bac=bac,
        device=device,
        operator=actor,
        outcome=rules.breath_outcome(bac, None),
    )
    audit_record(
        action="breath_test.record",
        actor=actor,
        audit=audit,
        obj=test,
        client=client,
        detail=f"outcome={test.outcome}",
    )
    return test


@transaction.atomic
def breath_confirm(
    *,
    test: BreathTest,
    confirm_at: datetime,
    confirm_bac,
    actor,
    audit: AuditContext | None = None,
) -> BreathTest:
    test = (
        BreathTest.objects.select_for_update(of=("self",)).select_related("client").get(pk=test.pk)
    )
    confirm_bac = _bac(confirm_bac, field="confirm_bac")
    if confirm_at is None:
        raise ValidationError({"confirm_at": "Give the confirmation time."})
    if test.confirm_bac is not None:
        if (test.confirm_bac, test.confirm_at) == (confirm_bac, confirm_at):
            test.repeated = True
            return test
        raise ValidationError("This test is already confirmed.")
    if test.bac < rules.BAC_POSITIVE:
        raise ValidationError("A screen under 0.020 needs no confirmation.")
    _check_moment(confirm_at, field="confirm_at", label="confirmation")
    low, high = test.confirm_window
    if confirm_at < test.tested_at:
        raise ValidationError({"confirm_at": "A confirmation cannot come before its screen."})
    if confirm_at < low:
        raise ValidationError(
            {"confirm_at": "Wait at least 15 minutes after the screen before confirming."}
        )
    if confirm_at > high:
        raise ValidationError(
            {"confirm_at": "The confirmation window (30 minutes after the screen) has closed."}
        )
    test.confirm_at = confirm_at
    test.confirm_bac = confirm_bac
    test.confirm_operator = actor
    test.outcome = rules.breath_outcome(test.bac, confirm_bac)
    test.save(update_fields=["confirm_at", "confirm_bac", "confirm_operator", "outcome"])
    audit_record(
        action="breath_test.confirm",
        actor=actor,
        audit=audit,
        obj=test,
        client=test.client,
        detail=f"outcome={test.outcome}",
    )
    if test.outcome == Outcome.UNEXPECTED_POSITIVE:
        _open_follow_up(
            client=test.client,
            reason=FollowUpReason.UNEXPECTED_POSITIVE,
            occurred_on=timezone.localtime(test.tested_at).date(),
            breath_test=test,
            audit=audit,
        )
    return test


# --- Follow-up ---------------------------------------------------------------------------


@transaction.atomic
def follow_up_acknowledge(
    *, follow_up: ScreenFollowUp, note: str, actor, audit: AuditContext | None = None
) -> ScreenFollowUp:
    """The clinician has seen it and says what was done (the note stays on the item,
    never in the audit row). A second acknowledgement keeps the first."""
    note = _text(note, field="note", limit=NOTE_MAX, required=True, label="Write what was done.")
    follow_up = (
        ScreenFollowUp.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=follow_up.pk)
    )
    if follow_up.acknowledged_at is not None:
        follow_up.repeated = True
        return follow_up
    follow_up.acknowledged_at = timezone.now()
    follow_up.acknowledged_by = actor
    follow_up.note = note
    follow_up.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    audit_record(
        action="screen_follow_up.acknowledge",
        actor=actor,
        audit=audit,
        obj=follow_up,
        client=follow_up.client,
        detail=f"reason={follow_up.reason}",
    )
    return follow_up


# --- Random selection --------------------------------------------------------------------


def _eligible(on: date):
    """(enrollment, policy) of every client enrolled on ``on`` whose track has an
    active policy (two queries)."""
    policies = {p.track_id: p for p in TestingPolicy.objects.filter(active=True)}
    enrollments = (
        Enrollment.objects.on(on)
        .filter(track_id__in=policies, client__status="active")
        .exclude(status="planned")
        .select_related("client", "track")
        .order_by("client_id", "-start_on")
    )
    seen = set()
    for enrollment in enrollments:
        if enrollment.client_id in seen:
            continue
        seen.add(enrollment.client_id)
        yield enrollment, policies[enrollment.track_id]


@transaction.atomic
def selection_draw_day(*, on: date, rng=None, audit: AuditContext | None = None):
    """Draw the day's random tests, once: returns the run, or None when the day was
    already drawn (the unique date claims it) or the clinic is closed.

    For each client enrolled on a track with a testing policy, the draw is
    ``rules.draw``: never inside the minimum gap since the client's last (not voided)
    selection, otherwise the policy's daily probability from ``secrets.SystemRandom``.
    Each selection is stored and audited.
    """
    audit = audit or TASK_AUDIT
    run, created = SelectionRun.objects.get_or_create(date=on)
    if not created:
        return None
    if ClinicClosure.objects.filter(date=on).exists():
        return run
    candidates = list(_eligible(on))
    last = dict(
        RandomSelection.objects.filter(
            client_id__in=[e.client_id for e, _ in candidates], date__lt=on
        )
        .exclude(status=SelectionStatus.VOIDED)
        .values("client_id")
        .annotate(last=Max("date"))
        .values_list("client_id", "last")
    )
    selected = 0
    for enrollment, policy in candidates:
        probability = policy.daily_probability
        since = (on - last[enrollment.client_id]).days if enrollment.client_id in last else None
        if not rules.draw(
            probability=probability,
            days_since_last=since,
            min_gap_days=policy.min_gap_days,
            rng=rng,
        ):
            continue
        selection = RandomSelection.objects.create(
            client=enrollment.client,
            date=on,
            run=run,
            track=enrollment.track,
            probability=Decimal(str(round(probability, 4))),
        )
        selected += 1
        audit_record(
            action="random_selection.create",
            audit=audit,
            obj=selection,
            client=enrollment.client,
            detail=f"track={enrollment.track.code}; p={probability:.4f}",
        )
    run.considered = len(candidates)
    run.selected = selected
    run.save(update_fields=["considered", "selected"])
    return run


@transaction.atomic
def selections_close_missed(*, before: date, audit: AuditContext | None = None) -> int:
    """Pending random tests of earlier days become no-shows (each opens a follow-up)."""
    audit = audit or TASK_AUDIT
    closed = 0
    for selection in RandomSelection.objects.filter(
        status=SelectionStatus.PENDING, date__lt=before
    ).order_by("date", "id"):
        urine_not_collected(selection=selection, status=UrineStatus.NO_SHOW, audit=audit)
        closed += 1
    return closed


def random_selection_daily(*, on: date, rng=None) -> dict:
    """The daily task's one service: close yesterday's missed tests, draw today's."""
    missed = selections_close_missed(before=on)
    run = selection_draw_day(on=on, rng=rng)
    return {"missed": missed, "selected": run.selected if run else 0, "drawn": run is not None}


@transaction.atomic
def selection_void(
    *, selection: RandomSelection, reason: str, actor, audit: AuditContext | None = None
) -> RandomSelection:
    """Only a program admin voids a random test, with a reason (kept on the selection,
    not in the audit row); a collected, missed or refused test stays as it is."""
    if not actor.is_program_admin:
        raise ValidationError("Only a program admin voids a random test.")
    reason = _text(reason, field="reason", limit=200, required=True, label="Give the reason.")
    selection = (
        RandomSelection.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=selection.pk)
    )
    if selection.status == SelectionStatus.VOIDED:
        selection.repeated = True
        return selection
    if selection.status != SelectionStatus.PENDING:
        raise ValidationError(
            f"This random test is already {selection.get_status_display().lower()}."
        )
    selection.status = SelectionStatus.VOIDED
    selection.voided_at = timezone.now()
    selection.voided_by = actor
    selection.void_reason = reason
    selection.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
    # A call-in notice not yet sent must not go out for a test that no longer is.
    reminders_subject_cancelled.send(
        sender=RandomSelection, ref=f"selection:{selection.public_id}", audit=audit
    )
    audit_record(
        action="random_selection.void",
        actor=actor,
        audit=audit,
        obj=selection,
        client=selection.client,
        detail="reason given",
    )
    return selection
