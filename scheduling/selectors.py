"""Reads for pages and the chart; aggregates run in the database."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from clients.models import Client
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
)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_hours(client: Client, *, weeks: int = 8, today: date | None = None) -> list[dict]:
    """Hours attended per week (Monday start, clinic time) against the track's floor."""
    today = today or timezone.localdate()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    rows = (
        Attendance.objects.filter(client=client, session__date__gte=first, session__date__lte=today)
        .annotate(week=TruncWeek("session__date"))
        .values("week")
        .annotate(minutes=Sum("minutes"), sessions=Count("id"))
        .order_by("week")
    )
    by_week = {row["week"]: row for row in rows}
    enrollment = current_enrollment(client)
    floor = enrollment.track.min_hours_per_week if enrollment else None
    result = []
    for n in range(weeks):
        start = first + timedelta(weeks=n)
        row = by_week.get(start, {})
        hours = Decimal(row.get("minutes") or 0) / 60
        result.append(
            {
                "week": start,
                "hours": hours.quantize(Decimal("0.1")),
                "sessions": row.get("sessions", 0),
                "floor": floor,
                "meets_floor": floor is not None and hours >= floor,
            }
        )
    return list(reversed(result))


def current_enrollment(client: Client) -> Enrollment | None:
    return (
        Enrollment.objects.filter(client=client, status=EnrollmentStatus.ACTIVE)
        .select_related("track__steps_down_to", "group__slot", "group__room")
        .first()
    )


def step_down_readiness(client: Client, *, today: date | None = None) -> dict | None:
    """Weeks on the track, attendance rate and weeks at or above the hours floor."""
    today = today or timezone.localdate()
    enrollment = current_enrollment(client)
    if enrollment is None:
        return None
    held = GroupSession.objects.held().filter(
        group=enrollment.group, date__gte=enrollment.start_on, date__lte=today
    )
    counts = Attendance.objects.filter(
        client=client, session__date__gte=enrollment.start_on, session__date__lte=today
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
    floor_minutes = enrollment.track.min_hours_per_week * 60
    weeks_at_floor = sum(1 for row in weekly if row["minutes"] >= floor_minutes)
    full_weeks = max(0, (last_full_week - full_weeks_start).days // 7)
    return {
        "enrollment": enrollment,
        "weeks_on_track": (today - enrollment.start_on).days // 7,
        "sessions_held": sessions_held,
        "attended": counts["attended"],
        "attendance_rate": round(100 * counts["attended"] / sessions_held)
        if sessions_held
        else None,
        "weeks_at_floor": weeks_at_floor,
        "full_weeks": full_weeks,
        "next_track": enrollment.track.steps_down_to,
    }


def upcoming_schedule(client: Client, *, days: int = 28, today: date | None = None) -> list[dict]:
    """Group sessions and appointments ahead, in time order; cancelled sessions drop out."""
    today = today or timezone.localdate()
    end = today + timedelta(days=days)
    enrollments = Enrollment.objects.filter(client=client).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    )
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
    """Sessions annotated with how many clients are enrolled that day and how many
    have attendance: one query, whatever the number of clients."""
    return (
        queryset.select_related("group__slot", "group__track", "room")
        .prefetch_related("group__facilitators")
        .annotate(
            marked=Count("attendance", distinct=True),
        )
    )


def enrolled_counts(sessions) -> dict[int, int]:
    """Enrolled clients per session (by date rule), in one query over the groups."""
    sessions = list(sessions)
    if not sessions:
        return {}
    group_ids = {s.group_id for s in sessions}
    first, last = min(s.date for s in sessions), max(s.date for s in sessions)
    rows = list(
        Enrollment.objects.filter(group_id__in=group_ids, start_on__lte=last)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=first))
        .values("group_id", "start_on", "ended_on")
    )
    counts = {}
    for session in sessions:
        counts[session.pk] = sum(
            1
            for row in rows
            if row["group_id"] == session.group_id
            and row["start_on"] <= session.date
            and (row["ended_on"] is None or row["ended_on"] > session.date)
        )
    return counts


def staff_week(user, start: date):
    end = start + timedelta(days=7)
    sessions = sessions_with_counts(
        GroupSession.objects.between(start, end).filter(group__facilitators=user)
    )
    appointments = (
        Appointment.objects.filter(
            clinician=user, starts_at__date__gte=start, starts_at__date__lt=end
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("client", "room")
    )
    return _by_day(start, sessions, appointments)


def room_week(room, start: date):
    end = start + timedelta(days=7)
    sessions = sessions_with_counts(GroupSession.objects.between(start, end).filter(room=room))
    appointments = (
        Appointment.objects.filter(room=room, starts_at__date__gte=start, starts_at__date__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("client", "room")
    )
    return _by_day(start, sessions, appointments)


def _by_day(start, sessions, appointments):
    tz = clinic_tz()
    days = [{"date": start + timedelta(days=n), "items": []} for n in range(7)]
    for session in sessions:
        days[(session.date - start).days]["items"].append(
            {"session": session, "at": session.starts_at}
        )
    for appointment in appointments:
        local = appointment.starts_at.astimezone(tz).date()
        days[(local - start).days]["items"].append(
            {"appointment": appointment, "at": appointment.starts_at}
        )
    for day in days:
        day["items"].sort(key=lambda item: item["at"])
    return days


def program_day(day: date):
    sessions = list(sessions_with_counts(GroupSession.objects.on(day)))
    counts = enrolled_counts(sessions)
    for session in sessions:
        session.enrolled = counts.get(session.pk, 0)
    return sessions


def facilitator_today(user, day: date):
    return list(sessions_with_counts(GroupSession.objects.on(day).filter(group__facilitators=user)))


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


def makeup_sessions(client: Client, *, days: int = 14, today: date | None = None):
    """Held sessions of the client's track in other groups, recent or today: where a
    missed session can be made up."""
    today = today or timezone.localdate()
    enrollment = current_enrollment(client)
    if enrollment is None:
        return GroupSession.objects.none()
    return (
        GroupSession.objects.held()
        .filter(
            group__track=enrollment.track,
            date__gte=today - timedelta(days=days),
            date__lte=today,
        )
        .exclude(group=enrollment.group)
        .select_related("group__slot")
        .order_by("-date", "starts_at")
    )
