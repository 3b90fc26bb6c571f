"""Reads of medications and outcome measures for the chart, the dashboard and screening."""

from datetime import date

from django.db.models import Q

from clients.access import Purpose, clients_for
from clinical.meds import measures as scoring
from clinical.meds.models import Measure, Medication
from iop import charts

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
    return {"blocks": blocks, "flags": flags}


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


def open_safety_flags(user, *, limit: int = 20):
    """Unacknowledged PHQ-9 safety flags of the clients ``user`` may act on (one query).

    Acting means acknowledging, a write: the care team's EDIT and CLINICAL, not a
    supervisor's read-only reason, so nobody is shown a flag they could not clear.
    """
    scope = clients_for(user, Purpose.CLINICAL_WRITE)
    return list(
        Measure.objects.flags_open()
        .filter(Q(client__in=scope.values("pk")))
        .select_related("client")
        .order_by("administered_on", "id")[:limit]
    )
