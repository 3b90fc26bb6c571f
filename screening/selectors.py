"""Reads of screens for the collection list, the chart and the dashboard.

Who may see what is ``clients.access``'s to say: the lists here are scoped through
``clients_for`` (CLINICAL to read; EDIT and CLINICAL where the viewer must act), so a
facilitator, whose reason is attendance only, never sees a result.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Q, Subquery, prefetch_related_objects
from django.utils import timezone

from clients.access import Purpose, clients_for, scope, with_access
from clients.models import CareTeamMember, CareTeamRole
from iop import when
from iop.numbers import percent
from scheduling.models import Enrollment
from screening.models import (
    BreathTest,
    ProgramPolicy,
    RandomSelection,
    ScreenFollowUp,
    SelectionStatus,
    UrineScreen,
)
from screening.rules import AnalyteOutcome, Confirmation, Outcome

TIMELINE_DAYS = 56  # the chart's timeline: the last eight weeks
CHART_ROWS = 12  # screens in the chart's table; the history page shows them all


def write_scope(user):
    """Clients ``user`` may record screens for and act on: the care team's EDIT and
    CLINICAL (medical staff are on it as prescribers), or an admin."""
    return clients_for(user, Purpose.CLINICAL_WRITE)


# --- Today's collection list -------------------------------------------------------------


def _enrolled(field_name: str, on: date):
    return Subquery(
        Enrollment.objects.on(on)
        .exclude(status="planned")
        .filter(client=OuterRef("client"))
        .order_by("-start_on")
        .values(field_name)[:1]
    )


def collection_list(user, *, on: date) -> list[dict]:
    """The day's random selections the viewer may see, grouped by the client's slot
    (one query: the slot and group come as subqueries, the screen by its one-to-one),
    each with ``row.access`` (one more query), so a row offers Collect, Breath test,
    No-show and Refused only to whom ``row.access.can.record_screen``."""
    rows = with_access(
        user,
        "screening.selection",
        scope(user, "screening.selection", Purpose.CLINICAL)
        .filter(date=on)
        .select_related("client", "track", "screen")
        .annotate(
            slot_name=_enrolled("group__slot__name", on),
            slot_start=_enrolled("group__slot__start_time", on),
            slot_order=_enrolled("group__slot__order", on),
            group_name=_enrolled("group__name", on),
        )
        .order_by("client__legal_last_name", "client__legal_first_name", "id"),
    )
    slots: dict = {}
    for row in rows:
        key = (row.slot_order if row.slot_order is not None else 99, row.slot_name or "No slot")
        slots.setdefault(key, {"name": key[1], "start": row.slot_start, "rows": []})
        slots[key]["rows"].append(row)
    return [slots[key] for key in sorted(slots)]


# --- The chart: history, timeline and statistics ------------------------------------------


@dataclass
class ScreenEvent:
    """One urine or breath screen in the history."""

    kind: str  # "urine" or "breath"
    on: date
    at: object
    outcome: str
    obj: object
    detail: str = ""
    # Analytes positive and explained by a prescription: a screen with an unexpected
    # positive may hold some too, and they are counted apart whatever the outcome.
    expected_positives: int = 0

    @property
    def outcome_label(self) -> str:
        return Outcome.LABELS.get(self.outcome, self.outcome)


@dataclass
class Statistics:
    counted: int = 0
    negative: int = 0
    expected: int = 0  # screens whose positives are all prescribed: kept apart
    expected_results: int = 0  # prescribed positives in every screen, whatever its outcome
    expected_screens: int = 0  # the screens holding them
    unexpected: int = 0
    review: int = 0
    missed: int = 0  # no-shows and refusals
    other: int = 0  # dilute, substituted, invalid, recollect
    pending: int = 0
    missed_counts_positive: bool = True
    last_unexpected_on: date | None = None
    days_since_unexpected: int | None = None
    buckets: dict = field(default_factory=dict)

    @property
    def percent_negative(self) -> int | None:
        """Negatives over the screens counted, expected positives kept apart (out of
        both); no-shows and refusals count as positives when the policy says so."""
        return percent(self.negative, self.counted, empty=None)


FINAL_OTHER = {
    Outcome.DILUTE,
    Outcome.SUBSTITUTED,
    Outcome.ADULTERATED,
    Outcome.INVALID,
    Outcome.RECOLLECT,
}


def statistics(
    events: list[ScreenEvent], *, missed_counts_positive: bool, today: date
) -> Statistics:
    stats = Statistics(missed_counts_positive=missed_counts_positive)
    for event in events:
        outcome = event.outcome
        if event.expected_positives:
            stats.expected_results += event.expected_positives
            stats.expected_screens += 1
        if outcome in (Outcome.PENDING, Outcome.INCOMPLETE):
            stats.pending += 1
            continue
        if outcome == Outcome.EXPECTED_POSITIVE:
            stats.expected += 1
            continue
        if outcome in (Outcome.NO_SHOW, Outcome.REFUSED):
            stats.missed += 1
            if missed_counts_positive:
                stats.counted += 1
            continue
        stats.counted += 1
        if outcome == Outcome.NEGATIVE:
            stats.negative += 1
        elif outcome == Outcome.UNEXPECTED_POSITIVE:
            stats.unexpected += 1
            if stats.last_unexpected_on is None or event.on > stats.last_unexpected_on:
                stats.last_unexpected_on = event.on
        elif outcome == Outcome.NEEDS_REVIEW:
            stats.review += 1
        else:
            stats.other += 1
    if stats.last_unexpected_on is not None:
        stats.days_since_unexpected = (today - stats.last_unexpected_on).days
    return stats


TIMELINE_WIDTH, TIMELINE_HEIGHT, TIMELINE_LEFT, TIMELINE_RIGHT = 560, 64, 8, 8
# Okabe-Ito colours by what the result means; the table beside says it in words.
BUCKET_COLOURS = {
    Outcome.NEGATIVE: "#00805E",
    Outcome.EXPECTED_POSITIVE: "#56B4E9",
    Outcome.UNEXPECTED_POSITIVE: "#B84F00",
    Outcome.NEEDS_REVIEW: "#E69F00",
    Outcome.NO_SHOW: "#CC79A7",
    Outcome.REFUSED: "#CC79A7",
}
OTHER_COLOUR = "#999999"


def timeline(events: list[ScreenEvent], *, today: date, days: int = TIMELINE_DAYS) -> dict:
    """A strip of the last ``days`` days, one mark per screen (urine up, breath down)."""
    first = today - timedelta(days=days - 1)
    plot = TIMELINE_WIDTH - TIMELINE_LEFT - TIMELINE_RIGHT
    marks = []
    for event in events:
        if event.on < first or event.on > today:
            continue
        x = round(TIMELINE_LEFT + plot * (event.on - first).days / (days - 1), 1)
        marks.append(
            {
                "x": x,
                "y": 22 if event.kind == "urine" else 44,
                "colour": BUCKET_COLOURS.get(event.outcome, OTHER_COLOUR),
                "label": f"{event.kind} {when.day(event.on)}: {event.outcome_label}",
                "outcome": event.outcome,
            }
        )
    weeks = [
        {
            "x": round(TIMELINE_LEFT + plot * offset / (days - 1), 1),
            "label": when.day_short(first + timedelta(days=offset)),
        }
        for offset in range(0, days, 7)
    ]
    return {
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "marks": marks,
        "weeks": weeks,
        "left": TIMELINE_LEFT,
        "right": TIMELINE_WIDTH - TIMELINE_RIGHT,
    }


def _urine_detail(screen: UrineScreen) -> str:
    results = list(screen.results.all())
    unexpected = [r.analyte.name for r in results if r.unexpected]
    expected = [r.analyte.name for r in results if r.is_positive and r.expected]
    parts = []
    if unexpected:
        parts.append("positive: " + ", ".join(unexpected))
    if expected:
        parts.append("expected: " + ", ".join(expected))
    if any(r.confirmation in ("sent", "pending") for r in results):
        parts.append("lab confirmation pending")
    return "; ".join(parts)


def _breath_detail(test: BreathTest) -> str:
    if test.confirm_bac is None:
        return f"BAC {test.bac}"
    return f"BAC {test.bac}, confirmation {test.confirm_bac}"


def screen_history(client, *, today: date | None = None, limit: int | None = None) -> dict:
    """Every screen of the client, newest first, with statistics, a timeline, open
    follow-ups and today's pending random test (five queries: urine screens, their
    results with analytes, breath tests, follow-ups, selections; the program policy is
    a sixth, by primary key)."""
    today = today or timezone.localdate()
    urine = list(
        UrineScreen.objects.filter(client=client)
        .select_related("collector")
        .annotate(
            expected_positives=Count(
                "results",
                filter=Q(results__expected=True, results__outcome=AnalyteOutcome.POSITIVE)
                & ~Q(results__confirmation=Confirmation.CONFIRMED_NEGATIVE),
            )
        )
        .order_by("-collected_at", "-id")
    )
    breath = list(
        BreathTest.objects.filter(client=client)
        .select_related("operator")
        .order_by("-tested_at", "-id")
    )
    # Statistics and the timeline need each screen's outcome only; the per-analyte
    # detail is read for the rows shown (the chart shows CHART_ROWS of a year's ~20).
    events = [
        ScreenEvent(
            "urine",
            timezone.localtime(s.collected_at).date(),
            s.collected_at,
            s.outcome,
            s,
            expected_positives=s.expected_positives,
        )
        for s in urine
    ] + [
        ScreenEvent("breath", timezone.localtime(b.tested_at).date(), b.tested_at, b.outcome, b)
        for b in breath
    ]
    events.sort(key=lambda e: e.at, reverse=True)
    follow_ups = list(
        ScreenFollowUp.objects.filter(client=client)
        .select_related("acknowledged_by")
        .order_by("-occurred_on", "-id")
    )
    # A follow-up's screen is one of those read above: hand it over rather than read
    # it again, so its findings come with the shown rows' results in one query.
    urine_by_id = {s.pk: s for s in urine}
    breath_by_id = {b.pk: b for b in breath}
    for item in follow_ups:
        if item.urine_screen_id in urine_by_id:
            item.urine_screen = urine_by_id[item.urine_screen_id]
        if item.breath_test_id in breath_by_id:
            item.breath_test = breath_by_id[item.breath_test_id]
    pending = list(
        RandomSelection.objects.filter(
            client=client, status=SelectionStatus.PENDING, date__gte=today
        ).order_by("date")
    )
    policy = ProgramPolicy.current()
    shown = events[:limit] if limit else events
    with_findings = {e.obj for e in shown if e.kind == "urine"} | {
        f.urine_screen for f in follow_ups if f.is_open and f.urine_screen_id
    }
    prefetch_related_objects(list(with_findings), "results__analyte")
    for event in shown:
        event.detail = (
            _urine_detail(event.obj) if event.kind == "urine" else _breath_detail(event.obj)
        )
    return {
        "events": shown,
        "more": max(0, len(events) - limit) if limit else 0,
        "stats": statistics(
            events, missed_counts_positive=policy.missed_counts_positive, today=today
        ),
        "timeline": timeline(events, today=today),
        "open_follow_ups": [f for f in follow_ups if f.is_open],
        "closed_follow_ups": [f for f in follow_ups if not f.is_open],
        "pending_selections": pending,
    }


# --- The dashboard -------------------------------------------------------------------------


def follow_ups_for(user, *, limit: int = 30) -> list[ScreenFollowUp]:
    """Open follow-ups of the clients whose primary clinician ``user`` is today, within
    what ``user`` may act on (one query)."""
    today = timezone.localdate()
    primary_of = CareTeamMember.objects.active(today).filter(
        staff_id=user.pk, role=CareTeamRole.PRIMARY
    )
    return list(
        ScreenFollowUp.objects.open()
        .filter(
            client__in=write_scope(user).values("pk"),
            client_id__in=primary_of.values("client_id"),
        )
        .select_related("client", "urine_screen", "breath_test")
        .prefetch_related("urine_screen__results__analyte")
        .order_by("occurred_on", "id")[:limit]
    )


def last_breath_device(user) -> str:
    """The device this person recorded their latest breath test with, to fill in the
    next one (a collector keeps the same instrument from one test to the next). Their
    own tests' instrument only: no client's data leaves this query, so it needs no
    client scope. One query on the operator's index."""
    if not user.is_authenticated:
        return ""
    device = (
        BreathTest.objects.filter(operator=user)
        .order_by("-id")
        .values_list("device", flat=True)
        .first()
    )
    return device or ""
