"""Reads of medications and outcome measures for the chart, the dashboard and screening."""

from datetime import date

from django.contrib.auth import get_user_model

from clients.access import (
    REASON_CARE_TEAM,
    REASON_SUPERVISOR,
    Purpose,
    holders,
    scope,
    with_access,
)
from clinical.meds import measures as scoring
from clinical.meds.models import Measure, MeasureAssignment, Medication
from iop import charts
from iop.accounts.models import Role

# The roles whose dashboard shows the safety flags (clinical/meds/registrations.py).
FLAG_ROLES = (Role.CLINICIAN, Role.SUPERVISOR, Role.MEDICAL)

# Points per measure on the chart's trend and in its table (about four months weekly).
TREND_POINTS = 16


def expected_analytes(client, *, on: date) -> set[str]:
    """Screen analyte codes the client's medications make expected on ``on`` (one query).

    A medication counts from its start to its last day inclusive; after a stop its
    analytes are no longer expected.
    """
    codes = set()
    for analytes in (
        Medication.objects.filter(client=client)
        .active_on(on)
        .values_list("expected_analytes", flat=True)
    ):
        codes.update(analytes)
    return codes


def medications_for_chart(client, *, today: date) -> dict:
    """Current medications first, then stopped ones, with prescribers (one query)."""
    rows = list(Medication.objects.filter(client=client).select_related("prescriber"))
    current = [m for m in rows if m.ended_on is None or m.ended_on >= today]
    stopped = [m for m in rows if not (m.ended_on is None or m.ended_on >= today)]
    mat = [m for m in current if m.is_mat]
    return {"current": current, "stopped": stopped, "mat": mat}


def measures_for_chart(client) -> dict:
    """Each measure's recent scores, trend and open safety flags (one query)."""
    rows = list(
        Measure.objects.filter(client=client)
        .select_related("flag_acknowledged_by")
        .order_by("administered_on", "id")
    )
    blocks = []
    for spec in scoring.INSTRUMENTS.values():
        mine = [m for m in rows if m.instrument == spec.code][-TREND_POINTS:]
        for m in mine:
            m.band_label = scoring.band_label(spec.code, m.band)
        blocks.append(
            {
                "spec": spec,
                "rows": mine,
                "latest": mine[-1] if mine else None,
                "trend": _trend(spec, mine),
            }
        )
    flags = [m for m in rows if m.flag_open]
    assignments = list(
        MeasureAssignment.objects.active().filter(client=client).order_by("instrument")
    )
    return {"blocks": blocks, "flags": flags, "assignments": assignments}


def _trend(spec, rows) -> charts.Trend | None:
    if spec.code == scoring.BAM.code:
        series = [
            charts.Series(key, label, [(m.administered_on, m.subscores[key]) for m in rows])
            for key, label, _items in scoring.BAM_SUBSCALES
        ]
        return charts.trend(
            series, max_value=spec.max_score, thresholds=(scoring.BAM_RISK_CONCERN,)
        )
    series = [charts.Series("total", spec.label, [(m.administered_on, m.score) for m in rows])]
    thresholds = tuple(band.low for band in spec.bands[1:])
    return charts.trend(series, max_value=spec.max_score, thresholds=thresholds)


# Who follows a safety flag up: the care team, who acknowledge it (the care team's
# clinical grant comes with its edit grant: EDIT and CLINICAL), and the clinical
# supervisors of its clinicians, who read it and see that it is done. Not a
# break-the-glass reader: an hour's emergency access is no standing responsibility.
FLAG_REASONS = frozenset({REASON_CARE_TEAM, REASON_SUPERVISOR})


def open_safety_flags(user, *, limit: int = 20):
    """Unacknowledged PHQ-9 safety flags of the clients ``user`` follows up, oldest
    first, each with ``flag.access``: the acknowledge form shows only where
    ``flag.access.can.write_clinical`` (the care team; a supervisor reads). One query:
    the grants come with the flags."""
    flags = with_access(
        user,
        "clinical.measure",
        scope(user, "clinical.measure", Purpose.CLINICAL)
        .filter(safety_flag=True, flag_acknowledged_at__isnull=True)
        .select_related("client")
        .order_by("administered_on", "id")[:limit],
    )
    return [
        f
        for f in flags
        if user.is_program_admin or f.access.reasons.get(Purpose.CLINICAL) in FLAG_REASONS
    ]


def safety_flag_watchers(client_ids) -> dict[int, set[int]]:
    """Client pk -> the staff ids who follow up its open safety flags: the same people
    ``open_safety_flags`` shows the flag to (the dashboard and the task list agree),
    asked of ``clients.access`` for every client at once (two queries)."""
    held = holders(client_ids, Purpose.CLINICAL)
    candidates = {
        client_id: {staff for staff, reason in staff_reasons.items() if reason in FLAG_REASONS}
        for client_id, staff_reasons in held.items()
    }
    everyone = set().union(*candidates.values()) if candidates else set()
    clinical = (
        set(
            get_user_model()
            .objects.filter(pk__in=everyone, groups__name__in=FLAG_ROLES)
            .values_list("pk", flat=True)
        )
        if everyone
        else set()
    )
    return {c: staff & clinical for c, staff in candidates.items() if staff & clinical}


def mat_clients(user, *, on: date, limit: int = 50) -> list:
    """The MAT medications taken on ``on`` by the clients ``user`` may read clinically
    (``scope``), by client name (one query): the medical staff's dashboard list."""
    return list(
        scope(user, "clinical.medication", Purpose.CLINICAL)
        .active_on(on)
        .filter(is_mat=True)
        .select_related("client", "prescriber")
        .order_by("client__legal_last_name", "client__legal_first_name", "client_id", "id")[:limit]
    )
