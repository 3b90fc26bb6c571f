"""Reads for pages and the chart; aggregates run in the database."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import holidays
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from clients.access import (
    CLINICIAN,
    FACILITATOR,
    Action,
    Purpose,
    scope,
    staff_relation,
    with_access,
)
from clients.models import Client
from iop.numbers import percent
from scheduling.models import (
    ATTENDED,
    Appointment,
    AppointmentStatus,
    Attendance,
    Enrollment,
    EnrollmentStatus,
    Group,
    GroupSession,
    clinic_tz,
    enrolled_during_q,
    local_datetime,
)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# "Look the current enrollment up" (callers that already hold it pass it, even None).
_LOOK_UP = object()


def weekly_hours(
    client: Client,
    *,
    weeks: int = 8,
    today: date | None = None,
    enrollment=_LOOK_UP,
    placed=_LOOK_UP,
) -> list[dict]:
    """Hours attended per week (Monday start, clinic time) against the track's floor.

    Only whole weeks on a track are judged against the floor (ASAM 2.1's hours are a
    weekly figure): a week before the placement is "not enrolled", the week of the
    placement "partial", the current week "in progress". Each week's floor is the
    track's for the client's age on its Monday (``Track.floor_for``: 9 h for adults,
    6 h for adolescents on the IOP tracks, ASAM Criteria 3rd ed. 2013, level 2.1)."""
    today = today or timezone.localdate()
    first = weekly_hours_first_week(today, weeks)
    if placed is _LOOK_UP:
        placed = enrollment_facts(client, today=today, window_first=first).placed_on
    rows = (
        Attendance.objects.filter(client=client, session__date__gte=first, session__date__lte=today)
        .annotate(week=TruncWeek("session__date"))
        .values("week")
        .annotate(minutes=Sum("minutes"), sessions=Count("id"))
        .order_by("week")
    )
    by_week = {row["week"]: row for row in rows}
    if enrollment is _LOOK_UP:
        enrollment = current_enrollment(client, today=today)
    this_week = week_start(today)
    result = []
    for n in range(weeks):
        start = first + timedelta(weeks=n)
        row = by_week.get(start, {})
        floor = enrollment.track.floor_for(client.date_of_birth, start) if enrollment else None
        hours = Decimal(row.get("minutes") or 0) / 60
        if placed is None or start + timedelta(days=7) <= placed:
            state = "not enrolled"
        elif start == this_week:
            state = "in progress"
        elif start < placed:
            state = "partial week"
        else:
            state = ""  # a whole week on the track: judged against the floor
        result.append(
            {
                "week": start,
                "hours": hours.quantize(Decimal("0.1")),
                "sessions": row.get("sessions", 0),
                "floor": floor,
                "state": state,
                "judged": floor is not None and not state,
                "meets_floor": floor is not None and hours >= floor,
            }
        )
    return list(reversed(result))


def weekly_hours_first_week(today: date, weeks: int = 8) -> date:
    return week_start(today) - timedelta(weeks=weeks - 1)


_ENROLLMENT_RELATED = ("track__steps_down_to", "group__slot", "group__room")


@dataclass(frozen=True)
class EnrollmentFacts:
    """What the chart needs of a client's enrollments, from one query."""

    current: Enrollment | None  # current_enrollment()
    planned: Enrollment | None  # planned_step_down()
    placed_on: date | None  # first day on a track within weekly_hours' window


def enrollment_facts(
    client: Client, *, today: date | None = None, window_first: date | None = None
) -> EnrollmentFacts:
    """The client's enrollments (a handful) in one query, each marked by the one
    "enrolled on a day" rule (``enrolled_during_q``, what ``Enrollment.objects.on`` and
    ``during`` filter by, as boolean columns),
    and picked here: the current enrollment (on today, the latest start; failing that an
    active placement that starts later), the planned step-down, and the first day on a
    track since ``window_first``."""
    today = today or timezone.localdate()
    window_first = window_first or today
    rows = list(
        Enrollment.objects.filter(client=client)
        .select_related(*_ENROLLMENT_RELATED)
        .annotate(
            _on_today=ExpressionWrapper(enrolled_during_q(today, today), BooleanField()),
            _in_window=ExpressionWrapper(enrolled_during_q(window_first, today), BooleanField()),
        )
        .order_by("-start_on", "-pk")
    )
    current = next((e for e in rows if e._on_today), None) or next(
        (e for e in rows if e.status == EnrollmentStatus.ACTIVE and e.start_on > today), None
    )
    planned = next(
        (e for e in rows if e.status == EnrollmentStatus.PLANNED and e.start_on > today), None
    )
    placed = [e.start_on for e in rows if e._in_window and e.status != EnrollmentStatus.PLANNED]
    return EnrollmentFacts(current, planned, min(placed) if placed else None)


def current_enrollment(client: Client, *, today: date | None = None) -> Enrollment | None:
    """The enrollment the client is on today (by date, so a planned step-down takes over
    on its day whether or not the task has run yet); failing that, a placement that
    starts later."""
    return enrollment_facts(client, today=today).current


def planned_step_down(client: Client, *, today: date | None = None) -> Enrollment | None:
    return enrollment_facts(client, today=today).planned


def placed_at(enrollment: Enrollment):
    """The moment the placement took effect: the start of its first day, or, for a
    placement made during that day, the moment it was made (a 07:00 session that ended
    before a 13:30 placement is not one the client missed)."""
    start = local_datetime(enrollment.start_on, datetime.min.time())
    created = enrollment.created_at
    if created and timezone.localtime(created).date() == enrollment.start_on:
        return max(start, created)
    return start


def step_down_readiness(
    client: Client, *, today: date | None = None, enrollment=_LOOK_UP, planned=_LOOK_UP
) -> dict | None:
    """Weeks on the track, attendance rate and weeks at or above the hours floor."""
    now = timezone.localtime()
    today = today or now.date()
    if enrollment is _LOOK_UP:
        enrollment = current_enrollment(client, today=today)
    if enrollment is None:
        return None
    since = placed_at(enrollment)
    # Sessions that have begun since the placement: a later session today is not
    # missed yet, an earlier one on the day of placement never was the client's.
    until = min(now, local_datetime(today + timedelta(days=1), datetime.min.time()))
    held = GroupSession.objects.held().filter(
        group=enrollment.group, starts_at__gte=since, starts_at__lte=until
    )
    counts = Attendance.objects.filter(
        client=client, session__starts_at__gte=since, session__starts_at__lte=until
    ).aggregate(attended=Count("id", filter=Q(status__in=ATTENDED)))
    sessions_held = held.count()
    full_weeks_start = week_start(enrollment.start_on)
    if enrollment.start_on != full_weeks_start:
        full_weeks_start += timedelta(weeks=1)
    last_full_week = week_start(today)  # this week is not over yet
    weekly = (
        Attendance.objects.filter(
            client=client, session__date__gte=full_weeks_start, session__date__lt=last_full_week
        )
        .annotate(week=TruncWeek("session__date"))
        .values("week")
        .annotate(minutes=Sum("minutes"))
    )
    # Each week against the floor for the client's age that week (a client may turn 18
    # on the track): a handful of weeks, one query.
    track, born = enrollment.track, client.date_of_birth
    weeks_at_floor = sum(
        1 for row in weekly if row["minutes"] >= track.floor_for(born, row["week"]) * 60
    )
    full_weeks = max(0, (last_full_week - full_weeks_start).days // 7)
    if planned is _LOOK_UP:
        planned = planned_step_down(client, today=today)
    return {
        "enrollment": enrollment,
        "started": enrollment.start_on <= today,
        "weeks_on_track": max(0, (today - enrollment.start_on).days // 7),
        "sessions_held": sessions_held,
        "attended": counts["attended"],
        "attendance_rate": percent(counts["attended"], sessions_held, empty=None),
        "weeks_at_floor": weeks_at_floor,
        "floor": track.floor_for(born, week_start(today)),
        "full_weeks": full_weeks,
        "planned": planned,
        # One step-down at a time: none is offered while one is planned.
        "next_track": None if planned else enrollment.track.steps_down_to,
    }


def upcoming_schedule(client: Client, *, days: int = 28, today: date | None = None) -> list[dict]:
    """Group sessions and appointments ahead, in time order; cancelled sessions drop out."""
    today = today or timezone.localdate()
    end = today + timedelta(days=days)
    enrollments = Enrollment.objects.filter(client=client).during(today, end)
    items = []
    for enrollment in enrollments.select_related("group"):
        sessions = (
            GroupSession.objects.held()
            .filter(group=enrollment.group, date__gte=max(today, enrollment.start_on), date__lt=end)
            .select_related("room", "group")
        )
        if enrollment.ended_on:
            sessions = sessions.filter(date__lt=enrollment.ended_on)
        items += [
            {
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "what": s.group.name,
                "where": s.room.name,
                "kind": "session",
                "public_id": s.public_id,
                "telehealth_url": s.group.telehealth_url,
            }
            for s in sessions
        ]
    appointments = Appointment.objects.filter(
        client=client,
        status=AppointmentStatus.SCHEDULED,
        starts_at__date__gte=today,
        starts_at__date__lt=end,
    ).select_related("room", "clinician")
    items += [
        {
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "what": f"{a.get_kind_display()} with {a.clinician}",
            "where": a.room.name if a.room else "",
            "kind": "appointment",
            "public_id": a.public_id,
            "telehealth_url": a.telehealth_url,
        }
        for a in appointments
    ]
    return sorted(items, key=lambda item: item["starts_at"])


def attendance_history(client: Client, *, limit: int = 20):
    return (
        Attendance.objects.filter(client=client)
        .select_related("session__group")
        .order_by("-session__starts_at")[:limit]
    )


def sessions_with_counts(queryset):
    """Sessions annotated with how many clients are enrolled that day (the one
    "enrolled on a day" rule, as a correlated subquery) and how many have attendance:
    one query, whatever the number of clients."""
    enrolled = (
        Enrollment.objects.filter(group_id=OuterRef("group_id"))
        .on(OuterRef("date"))
        .order_by()
        .values("group_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return (
        queryset.select_related("group__slot", "group__track", "room")
        .prefetch_related("group__facilitators")
        .annotate(
            marked=Count("attendance", distinct=True),
            enrolled=Coalesce(Subquery(enrolled, output_field=IntegerField()), 0),
        )
    )


def _sessions_of(staff):
    """The sessions ``staff`` facilitates (the facilitator rule of clients.access)."""
    return scope(staff, "scheduling.groupsession", Purpose.ATTENDANCE, relation=FACILITATOR)


def staff_week(user, start: date, *, viewer):
    end = start + timedelta(days=7)
    sessions = sessions_with_counts(
        GroupSession.objects.between(start, end).filter(pk__in=_sessions_of(user).values("pk"))
    )
    # The person's booked time, whoever the client: one the viewer may not open shows
    # as "Busy" (``_by_day`` asks clients.access for each appointment).
    appointments = (
        Appointment.objects.filter(
            staff_relation(user, "scheduling.appointment", CLINICIAN),
            starts_at__date__gte=start,
            starts_at__date__lt=end,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("client", "room")
    )
    return _by_day(start, sessions, appointments, viewer=viewer)


def room_week(room, start: date, *, viewer):
    end = start + timedelta(days=7)
    sessions = sessions_with_counts(GroupSession.objects.between(start, end).filter(room=room))
    appointments = (
        Appointment.objects.filter(room=room, starts_at__date__gte=start, starts_at__date__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("client", "room")
    )
    return _by_day(start, sessions, appointments, viewer=viewer)


def _by_day(start, sessions, appointments, *, viewer):
    tz = clinic_tz()
    days = [{"date": start + timedelta(days=n), "items": []} for n in range(7)]
    # Each appointment with the viewer's access to its client: one query for a calendar.
    appointments = with_access(viewer, "scheduling.appointment", appointments)
    for session in sessions:
        days[(session.date - start).days]["items"].append(
            {"session": session, "at": session.starts_at}
        )
    for appointment in appointments:
        local = appointment.starts_at.astimezone(tz).date()
        days[(local - start).days]["items"].append(
            {
                "appointment": appointment,
                "at": appointment.starts_at,
                "can_open": appointment.access.allows(Purpose.CHART),
                "can_read_note": appointment.access.allows(Purpose.CLINICAL),
                "can_cancel": appointment.access.can(Action.EDIT),
            }
        )
    for day in days:
        day["items"].sort(key=lambda item: item["at"])
    return days


def program_day(day: date, *, viewer):
    # Each session with ``session.access``: the sheet's link shows only when
    # ``access.can.take_attendance`` (the facilitator rule the sheet's page asks).
    return with_access(
        viewer, "scheduling.groupsession", sessions_with_counts(GroupSession.objects.on(day))
    )


# How each session's note stands, answered by the notes part (clinical registers it
# from its registrations.py: scheduling never imports clinical): session pk -> "signed"
# or "draft"; a session it does not name has no note.
_note_states: Callable[[list[int]], dict[int, str]] | None = None


def register_note_states(fn: Callable[[list[int]], dict[int, str]]) -> None:
    global _note_states
    _note_states = fn


NOTE_STATE_LABELS = {"signed": "note done", "draft": "note draft", "none": "no note"}


def facilitator_today(user, day: date, *, now: datetime | None = None):
    """The day's sessions ``user`` facilitates, each begun one with ``note_state``
    ("signed", "draft" or "none") and its label (one query more for the notes)."""
    now = now or timezone.now()
    sessions = list(
        sessions_with_counts(
            GroupSession.objects.on(day).filter(pk__in=_sessions_of(user).values("pk"))
        )
    )
    begun = [s.pk for s in sessions if not s.is_cancelled and s.starts_at <= now]
    states = _note_states(begun) if begun and _note_states is not None else {}
    for session in sessions:
        session.note_state = None
        if session.pk in begun:
            session.note_state = states.get(session.pk, "none")
            session.note_label = NOTE_STATE_LABELS[session.note_state]
    return sessions


def groups_with_seats():
    return (
        Group.objects.filter(active=True)
        .select_related("track", "slot", "room")
        .annotate(taken=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.ACTIVE)))
    )


def sheet_rows(session: GroupSession):
    """Each enrolled (or make-up) client with their attendance for this session."""
    from scheduling.services import session_roster

    marked = Attendance.objects.filter(session=session)
    clients = (
        Client.objects.filter(
            Q(pk__in=session_roster(session).values("pk")) | Q(pk__in=marked.values("client"))
        )
        .prefetch_related(Prefetch("attendance", queryset=marked, to_attr="this_session"))
        .order_by("legal_last_name", "legal_first_name")
    )
    return [
        {"client": c, "attendance": c.this_session[0] if c.this_session else None} for c in clients
    ]


def makeup_sessions(client: Client, *, days: int = 14, now=None):
    """Held sessions of the client's track in other groups that have already begun,
    within the last ``days`` and within the client's open episode: where a missed
    session can be made up (one before admission, or not yet held, cannot)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    enrollment = current_enrollment(client, today=today)
    if enrollment is None:
        return GroupSession.objects.none()
    admitted = enrollment.episode.admitted_on
    return (
        GroupSession.objects.held()
        .filter(
            group__track=enrollment.track,
            date__gte=max(today - timedelta(days=days), admitted),
            starts_at__lte=now,
        )
        .exclude(group=enrollment.group)
        .select_related("group__slot")
        .order_by("-date", "starts_at")
    )


def federal_holidays(*, today=None) -> list[tuple]:
    """US federal holidays (and their observed days) in the coming 12 months, from the
    maintained ``holidays`` package: offered, never applied without the admin."""
    today = today or timezone.localdate()
    end = today + timedelta(days=366)
    calendar = holidays.country_holidays("US", years=range(today.year, end.year + 1))
    return sorted((day, name) for day, name in calendar.items() if today <= day < end)


@dataclass(frozen=True)
class AttendanceSummary:
    """One client's attendance over [start, end], by the attendance report's rules."""

    start: date
    end: date
    dates_attended: tuple[date, ...]
    sessions_scheduled: int
    sessions_attended: int
    minutes: int

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))

    @property
    def rate(self) -> int | None:
        return percent(self.sessions_attended, self.sessions_scheduled)


def attendance_summary(client: Client, *, start: date, end: date) -> AttendanceSummary:
    """The figures of an attendance letter, by ``scheduling.reports``' rules (two queries):

    - scheduled: held sessions of the client's own group on days they were enrolled in it;
    - attended: attendance marked present, late, left early or telehealth (``ATTENDED``)
      in any held session (a make-up in another group counts);
    - the attendance rate is ``iop.numbers.percent`` of the two (half up).
    """
    scheduled = (
        GroupSession.objects.held()
        .filter(date__gte=start, date__lte=end)
        .filter(
            Q(group__enrollments__client=client)
            & Q(group__enrollments__start_on__lte=F("date"))
            & (
                Q(group__enrollments__ended_on__isnull=True)
                | Q(group__enrollments__ended_on__gt=F("date"))
            )
        )
        .values("pk")
        .distinct()
        .count()
    )
    rows = list(
        Attendance.objects.filter(
            client=client,
            status__in=ATTENDED,
            session__cancelled_at__isnull=True,
            session__date__gte=start,
            session__date__lte=end,
        )
        .order_by("session__date")
        .values_list("session__date", "minutes")
    )
    return AttendanceSummary(
        start=start,
        end=end,
        dates_attended=tuple(sorted({day for day, _m in rows})),
        sessions_scheduled=scheduled,
        sessions_attended=len(rows),
        minutes=sum(m for _d, m in rows),
    )
