"""Rooms, one group per slot (and more), enrollments for the demo clients, 8 weeks of
past sessions with attendance and as far ahead as the beat task keeps them
(``services.SESSIONS_AHEAD_WEEKS``: the printed schedule's weeks and a margin); clients
admitted long enough ago have stepped down from IOP 6 to IOP 3.

Groups are facilitated by the clients' own primary clinician, so ``clinician`` and
``clinician2`` still share no client and no group. Idempotent: groups by name,
sessions by (group, date), enrollments only for clients without one, attendance
by (session, client).
"""

import random
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import CareTeamRole, Client, ClientStatus
from iop.accounts.models import User
from scheduling import selectors, services
from scheduling.models import (
    Attendance,
    AttendanceStatus,
    ClinicClosure,
    Enrollment,
    Group,
    GroupSession,
    Room,
    Slot,
    Track,
)

# name: (track, slot, weekdays, room, facilitator)
GROUPS = {
    "IOP 6 Morning": ("iop6", "morning", [0, 1, 2, 3, 4, 5], "Room A", "clinician"),
    "IOP 3 Midday": ("iop3", "midday", [0, 2, 4], "Room B", "clinician"),
    "IOP 3 Evening": ("iop3", "evening", [0, 2, 4], "Room A", "clinician"),
    "IOP 6 Evening": ("iop6", "evening", [0, 1, 2, 3, 4, 5], "Room B", "clinician2"),
    "IOP 3 Weekend": ("iop3", "weekend", [5], "Room C", "clinician2"),
    "IOP 3 Midday (Tue/Thu/Fri)": ("iop3", "midday", [1, 3, 4], "Room D", "clinician2"),
}
PAST_WEEKS, AHEAD_WEEKS = 8, services.SESSIONS_AHEAD_WEEKS
STEP_DOWN_AFTER_DAYS = 28


def seed(*, stdout):
    staff = {u.username: u for u in User.objects.filter(username__in=["clinician", "clinician2"])}
    if len(staff) < 2:
        stdout.write("Scheduling: demo staff missing; skipped.")
        return
    today = timezone.localdate()
    groups = _groups(staff)
    first_day = today - timedelta(weeks=PAST_WEEKS)
    admin = User.objects.filter(username="admin").first() or staff["clinician"]
    closed = _closures(first_day, today + timedelta(weeks=AHEAD_WEEKS), actor=admin)
    sessions = services.sessions_generate(weeks=PAST_WEEKS + AHEAD_WEEKS, today=first_day)
    enrolled = _enrollments(groups, staff, today, first_day)
    marked = _attendance(today)
    stdout.write(
        f"Scheduling: {len(groups)} groups, {closed} closures, {sessions} sessions created, "
        f"{enrolled} clients enrolled, {marked} attendance records."
    )


# The clinic closes on these federal holidays (an admin accepts them from the
# federal-holiday page in a real clinic): Thanksgiving 26 Nov 2026 has no sessions.
DEMO_HOLIDAYS = ("Thanksgiving", "Christmas Day", "New Year's Day")


def _closures(first_day, last_day, *, actor) -> int:
    """Closures before sessions are generated, so a closed day never gets any. Days
    already closed, or whose sessions already happened, are left alone (idempotent)."""
    count = 0
    for day, name in selectors.federal_holidays(today=first_day):
        if day > last_day or not name.startswith(DEMO_HOLIDAYS):
            continue
        if ClinicClosure.objects.filter(date=day).exists():
            continue
        try:
            services.closure_create(day=day, reason=name, actor=actor)
        except ValidationError:
            continue
        count += 1
    return count


def _groups(staff):
    tracks = {t.code: t for t in Track.objects.all()}
    slots = {s.code: s for s in Slot.objects.all()}
    groups = {}
    for name, (track, slot, weekdays, room, facilitator) in GROUPS.items():
        room, _ = Room.objects.get_or_create(name=room)
        group, created = Group.objects.get_or_create(
            name=name,
            defaults={
                "track": tracks[track],
                "slot": slots[slot],
                "weekdays": weekdays,
                "room": room,
                "capacity": 12,
            },
        )
        if created:
            group.facilitators.add(staff[facilitator])
        groups[name] = group
    return groups


def _enrollments(groups, staff, today, first_day):
    by_clinician = {
        "clinician": (groups["IOP 6 Morning"], [groups["IOP 3 Midday"], groups["IOP 3 Evening"]]),
        "clinician2": (
            groups["IOP 6 Evening"],
            [groups["IOP 3 Weekend"], groups["IOP 3 Midday (Tue/Thu/Fri)"]],
        ),
    }
    clients = (
        Client.objects.filter(status=ClientStatus.ACTIVE, enrollments__isnull=True)
        .filter(
            care_team__role=CareTeamRole.PRIMARY,
            care_team__ended_on__isnull=True,
            care_team__staff__in=staff.values(),
        )
        .prefetch_related("episodes", "care_team")
        .order_by("mrn")
        .distinct()
    )
    count = 0
    for n, client in enumerate(clients):
        primary = next(
            m.staff.username for m in client.care_team.all() if m.role == CareTeamRole.PRIMARY
        )
        iop6, iop3_groups = by_clinician[primary]
        episode = next(e for e in client.episodes.all() if e.discharged_on is None)
        start = max(episode.admitted_on, first_day)
        actor = staff[primary]
        try:
            enrollment = services.enrollment_create(
                client=client, group=iop6, start_on=start, actor=actor
            )
            step_on = start + timedelta(days=STEP_DOWN_AFTER_DAYS)
            if step_on < today - timedelta(days=7):
                services.enrollment_step_down(
                    enrollment=enrollment, group=iop3_groups[n % 2], on=step_on, actor=actor
                )
        except ValidationError:
            # IOP 6 full: the client starts on IOP 3 instead.
            services.enrollment_create(
                client=client, group=iop3_groups[n % 2], start_on=start, actor=actor
            )
        count += 1
    return count


def _attendance(today):
    rng = random.Random(6)  # noqa: S311  (fake data)
    weights = [
        (AttendanceStatus.PRESENT, 78),
        (AttendanceStatus.LATE, 6),
        (AttendanceStatus.LEFT_EARLY, 4),
        (AttendanceStatus.TELEHEALTH, 4),
        (AttendanceStatus.EXCUSED, 5),
        (AttendanceStatus.UNEXCUSED, 3),
    ]
    statuses, odds = zip(*weights, strict=True)
    sessions = GroupSession.objects.held().filter(date__lt=today).select_related("group")
    rows = []
    for session in sessions:
        roster = Enrollment.objects.on(session.date).filter(group_id=session.group_id)
        for enrollment in roster.select_related("created_by").order_by("pk"):
            status = rng.choices(statuses, odds)[0]
            minutes = {
                AttendanceStatus.LATE: session.minutes - 30,
                AttendanceStatus.LEFT_EARLY: session.minutes - 60,
                AttendanceStatus.EXCUSED: 0,
                AttendanceStatus.UNEXCUSED: 0,
            }.get(status, session.minutes)
            rows.append(
                Attendance(
                    session=session,
                    client_id=enrollment.client_id,
                    status=status,
                    minutes=minutes,
                    recorded_by=enrollment.created_by,
                )
            )
    before = Attendance.objects.count()
    Attendance.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return Attendance.objects.count() - before
