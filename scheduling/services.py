"""Writes that span rows: enrolment, step-down, sessions, appointments, attendance.

Conflicts (a clinician, a room or a client in two places at once, a group over
capacity) are decided under row locks: each booking locks the rows of everything
it occupies, in one fixed order (rooms, then staff, then clients, by primary key),
and re-checks inside the transaction. Two concurrent requests for the last seat
or the same hour serialise on those locks; the second sees the first's row and
gets the message.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from clients.access import (
    CLINICIAN,
    FACILITATOR,
    Purpose,
    access_for,
    staff_relation,
    with_access,
)
from clients.models import CareTeamRole, Client, ClientStatus, Episode
from clients.services import care_team_add, care_team_end, care_team_end_source
from iop import when
from iop.audit.services import AuditContext, audit_record
from iop.dates import DateKind, check_date
from iop.notifications.signals import reminders_subject_cancelled
from scheduling.models import (
    APPOINTMENT_MAX_MINUTES,
    SCHEDULE_WEEKS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    AttendanceStatus,
    ClinicClosure,
    Enrollment,
    EnrollmentStatus,
    Group,
    GroupSession,
    Room,
    clinic_tz,
    clock_label,
    https_only,
    local_datetime,
)

ABSENT = {AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED}


def _lock_resources(*, rooms=(), staff=(), clients=()) -> None:
    for room_id in sorted({r for r in rooms if r}):
        Room.objects.select_for_update().get(pk=room_id)
    for user_id in sorted(set(staff)):
        get_user_model().objects.select_for_update().get(pk=user_id)
    for client_id in sorted(set(clients)):
        Client.objects.lock(client_id)


def _overlap(start, end):
    return Q(starts_at__lt=end, ends_at__gt=start)


def _when(starts_at, ends_at) -> str:
    """A clash's date of service and time, as staff read them in the clinic's zone."""
    return f"{when.day(starts_at)}, {when.clock(starts_at)}–{when.clock(ends_at)}"


def _session_said(session: GroupSession) -> str:
    return f"{session.group.name} (group session) on {_when(session.starts_at, session.ends_at)}"


def _appointment_said(appointment: Appointment, *, viewer) -> str:
    """The other appointment in words: its kind, date of service and time, and whom it
    is with. The client is named only to a viewer whose access to that client says so
    (clients.access, the calendar's rule); otherwise it is "another appointment", with
    the clinician's name unless the viewer is that clinician."""
    kind = appointment.get_kind_display()
    at = _when(appointment.starts_at, appointment.ends_at)
    access = getattr(appointment, "access", None)
    if access is not None and access.allows(Purpose.CHART):
        client = appointment.client
        return f"{kind} with {client.display_name} (MRN {client.mrn}) on {at}"
    if viewer is not None and appointment.clinician_id == viewer.pk:
        return f"another appointment of yours ({kind}) on {at}"
    return f"another appointment of {appointment.clinician} ({kind}) on {at}"


def conflicts(
    *,
    start,
    end,
    staff_ids=(),
    room_id=None,
    client_id=None,
    exclude_appointment=None,
    exclude_group=None,
    viewer=None,
) -> list[str]:
    """Human messages for whatever is already booked in [start, end), each naming what
    it clashes with (a group session, or an appointment named as ``viewer`` may see it),
    so the person booking knows what to move."""
    problems = []
    sessions = GroupSession.objects.held().filter(_overlap(start, end)).select_related("group")
    appointments = (
        Appointment.objects.exclude(status=AppointmentStatus.CANCELLED)
        .filter(_overlap(start, end))
        .select_related("client", "clinician")
    )
    if exclude_appointment is not None:
        appointments = appointments.exclude(pk=exclude_appointment.pk)
    if exclude_group is not None:
        sessions = sessions.exclude(group=exclude_group)

    def seen(queryset):
        # Each appointment with the viewer's access to its client, in its own query;
        # said to no one in particular (a shell), no client is named.
        queryset = queryset.order_by("starts_at")
        if viewer is None:
            return list(queryset[:3])
        return with_access(viewer, "scheduling.appointment", queryset)[:3]

    User = get_user_model()
    for user in User.objects.filter(pk__in=staff_ids):
        taken = [
            _session_said(s)
            for s in sessions.filter(staff_relation(user, "scheduling.groupsession", FACILITATOR))[
                :3
            ]
        ] + [
            _appointment_said(a, viewer=viewer)
            for a in seen(
                appointments.filter(staff_relation(user, "scheduling.appointment", CLINICIAN))
            )
        ]
        if taken:
            problems.append(f"{user} is already booked at that time: {'; '.join(taken)}.")
    if room_id:
        taken = [_session_said(s) for s in sessions.filter(room_id=room_id)[:3]] + [
            _appointment_said(a, viewer=viewer) for a in seen(appointments.filter(room_id=room_id))
        ]
        if taken:
            problems.append(f"The room is already booked at that time: {'; '.join(taken)}.")
    # Sessions are generated SESSIONS_AHEAD_WEEKS ahead; beyond that a
    # group's weekly pattern still holds its room, facilitators and members.
    for group in _recurring_groups(start, end):
        said = _recurring_said(group, start)
        if room_id and group.room_id == room_id:
            problems.append(f"The room is held by {said}.")
        for user in group.facilitators.all():
            if user.pk in staff_ids:
                problems.append(f"{user} facilitates {said}.")
        if client_id and any(
            e.client_id == client_id and e.status == EnrollmentStatus.ACTIVE
            for e in group.enrollments.all()
        ):
            problems.append(f"The client's group meets at that time: {said}.")
    if client_id:
        tz = clinic_tz()
        enrolled_groups = Enrollment.objects.filter(client_id=client_id).during(
            start.astimezone(tz).date(), end.astimezone(tz).date()
        )
        taken = [
            _session_said(s) for s in sessions.filter(group__in=enrolled_groups.values("group"))[:3]
        ] + [
            # The client's own appointment: the person booking them sees whom it is with.
            f"{a.get_kind_display()} with {a.clinician} on {_when(a.starts_at, a.ends_at)}"
            for a in appointments.filter(client_id=client_id)[:3]
        ]
        if taken:
            problems.append(
                f"The client is already in a session or appointment at that time: "
                f"{'; '.join(taken)}."
            )
    return problems


def _recurring_said(group: Group, start) -> str:
    day = start.astimezone(clinic_tz()).date()
    return (
        f"{group.name} (group session) on {when.day(day)}, "
        f"{when.clock(group.slot.start_time)}–{when.clock(group.slot.end_time)}"
    )


def _recurring_groups(start, end) -> list[Group]:
    """Active groups whose weekly slot overlaps [start, end) on a day with no session
    generated yet (a generated session, held or cancelled, speaks for itself)."""
    tz = clinic_tz()
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() != local_end.date():
        return []
    day = local_start.date()
    candidates = (
        Group.objects.filter(
            active=True,
            slot__start_time__lt=local_end.time(),
            slot__end_time__gt=local_start.time(),
        )
        .exclude(sessions__date=day)
        .select_related("slot")
        .prefetch_related("facilitators", "enrollments")
    )
    return [group for group in candidates if day.weekday() in group.weekdays]


def group_clashes(*, group: Group, facilitator_ids) -> list[str]:
    """Another active group in the same room, or with one of the same facilitators,
    meeting at an overlapping time on a shared weekday."""
    if not group.active:
        return []
    others = (
        Group.objects.filter(
            active=True,
            slot__start_time__lt=group.slot.end_time,
            slot__end_time__gt=group.slot.start_time,
        )
        .exclude(pk=group.pk)
        .prefetch_related("facilitators")
        .select_related("room")
    )
    problems = []
    for other in others:
        if not set(other.weekdays) & set(group.weekdays):
            continue
        if other.room_id == group.room_id:
            problems.append(f"{other.room} is already used by {other.name} at that time.")
        shared = [u for u in other.facilitators.all() if u.pk in set(facilitator_ids)]
        for user in shared:
            problems.append(f"{user} already facilitates {other.name} at that time.")
    return problems


# --- Enrolment and step-down ------------------------------------------------------------


def _grant_facilitators(*, client, group, actor, on):
    for facilitator in group.facilitators.all():
        care_team_add(
            client=client,
            staff=facilitator,
            role=CareTeamRole.FACILITATOR,
            actor=actor,
            started_on=on,
            source=group.source,
        )


# A seat is held from the moment a placement is made, planned step-downs included.
SEAT_HOLDING = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PLANNED)


def _seat_check(group: Group, on: date) -> None:
    # The group row is locked by the caller: the count cannot change under us.
    taken = Enrollment.objects.filter(group=group, status__in=SEAT_HOLDING).count()
    if taken >= group.capacity:
        raise ValidationError({"group": f"{group} is full ({group.capacity} of {group.capacity})."})


@transaction.atomic
def enrollment_create(
    *,
    client: Client,
    group: Group,
    start_on: date,
    actor,
    audit: AuditContext | None = None,
    planned_end_on=None,
) -> Enrollment:
    check_date(start_on, DateKind.SCHEDULE, field="start_on")
    group = Group.objects.select_for_update().select_related("track").get(pk=group.pk)
    client = Client.objects.lock(client)
    _begin_due(client_id=client.pk)
    episode = Episode.objects.open().filter(client=client).first()
    if episode is None or client.status != ClientStatus.ACTIVE:
        raise ValidationError("Admit the client before placing them on a track.")
    if not group.active:
        raise ValidationError({"group": "This group no longer meets."})
    if start_on < episode.admitted_on:
        raise ValidationError({"start_on": "The enrolment cannot start before admission."})
    if Enrollment.objects.filter(client=client, status__in=SEAT_HOLDING).exists():
        raise ValidationError("The client is already in a group: step down or end that first.")
    _seat_check(group, start_on)
    enrollment = Enrollment.objects.create(
        client=client,
        episode=episode,
        track=group.track,
        group=group,
        start_on=start_on,
        planned_end_on=planned_end_on or start_on + timedelta(days=group.track.typical_max_days),
        created_by=actor,
    )
    _grant_facilitators(client=client, group=group, actor=actor, on=start_on)
    audit_record(
        action="enrollment.create",
        actor=actor,
        audit=audit,
        obj=enrollment,
        client=client,
        detail=f"track={group.track.code}",
    )
    return enrollment


@transaction.atomic
def enrollment_step_down(
    *, enrollment: Enrollment, group: Group, on: date, actor, audit: AuditContext | None = None
) -> Enrollment:
    """Close this enrollment and open the next track's in ``group`` from ``on``.

    A step-down dated in the future is *planned*: the current enrollment stays active
    (and current) until ``on``, its ``ended_on`` set to that day; the next one waits as
    PLANNED and begins on its day (``enrollments_begin_planned``). Only one can be
    planned at a time."""
    check_date(on, DateKind.SCHEDULE, field="on")
    group = Group.objects.select_for_update().select_related("track").get(pk=group.pk)
    _begin_due(client_id=enrollment.client_id)
    enrollment = (
        Enrollment.objects.select_for_update()
        .select_related("track", "group")
        .get(pk=enrollment.pk)
    )
    if enrollment.status != EnrollmentStatus.ACTIVE:
        raise ValidationError("Only an active enrollment can step down.")
    planned = Enrollment.objects.filter(
        client_id=enrollment.client_id, status=EnrollmentStatus.PLANNED
    ).first()
    if planned is not None:
        raise ValidationError(
            f"A step-down to {planned.track} on {when.day(planned.start_on)} is already planned."
        )
    if enrollment.track.steps_down_to_id != group.track_id:
        target = enrollment.track.steps_down_to or "nothing"
        raise ValidationError(
            {"group": f"{enrollment.track} steps down to {target}, not {group.track}."}
        )
    if on <= enrollment.start_on:
        raise ValidationError({"on": "The step-down must come after the current track started."})
    _seat_check(group, on)
    is_planned = on > timezone.localdate()
    if not is_planned:
        enrollment.status = EnrollmentStatus.STEPPED_DOWN
    enrollment.ended_on = on
    enrollment.save(update_fields=["status", "ended_on"])
    care_team_end_source(
        client=enrollment.client, source=enrollment.group.source, actor=actor, ended_on=on
    )
    following = Enrollment.objects.create(
        client=enrollment.client,
        episode=enrollment.episode,
        track=group.track,
        group=group,
        start_on=on,
        planned_end_on=on + timedelta(days=group.track.typical_max_days),
        status=EnrollmentStatus.PLANNED if is_planned else EnrollmentStatus.ACTIVE,
        created_by=actor,
    )
    _grant_facilitators(client=enrollment.client, group=group, actor=actor, on=on)
    audit_record(
        action="enrollment.step_down",
        actor=actor,
        audit=audit,
        obj=following,
        client=enrollment.client,
        detail=f"{enrollment.track.code}->{group.track.code}; on={on:%Y-%m-%d}"
        + ("; planned" if is_planned else ""),
    )
    return following


def _begin_due(*, client_id=None, today: date | None = None) -> int:
    """Planned step-downs whose day has come: the old enrollment becomes stepped down,
    the planned one active (in that order: one active enrollment per client)."""
    today = today or timezone.localdate()
    due = Enrollment.objects.select_for_update().filter(
        status=EnrollmentStatus.PLANNED, start_on__lte=today
    )
    if client_id is not None:
        due = due.filter(client_id=client_id)
    begun = 0
    for planned in due.order_by("client_id"):
        Enrollment.objects.filter(
            client_id=planned.client_id, status=EnrollmentStatus.ACTIVE, ended_on__lte=today
        ).update(status=EnrollmentStatus.STEPPED_DOWN)
        planned.status = EnrollmentStatus.ACTIVE
        planned.save(update_fields=["status"])
        begun += 1
    return begun


@transaction.atomic
def enrollments_begin_planned(*, today: date | None = None) -> int:
    """Run by the session task (every 6 hours). Pages never depend on it having run:
    they decide "current" by date (``Enrollment.objects.on``)."""
    return _begin_due(today=today)


def enrollments_close_for_discharge(*, episode: Episode, actor) -> int:
    """Receiver of clients' episode_discharged, inside the discharge transaction."""
    on = episode.discharged_on
    closed = 0
    for enrollment in (
        Enrollment.objects.select_for_update()
        .filter(episode=episode, status__in=SEAT_HOLDING)
        .select_related("group")
    ):
        ended_on = max(on, enrollment.start_on)
        if enrollment.ended_on is not None:  # a planned step-down had set the last day
            ended_on = min(ended_on, enrollment.ended_on)
        was_planned = enrollment.status == EnrollmentStatus.PLANNED
        enrollment.status = EnrollmentStatus.DISCHARGED
        enrollment.ended_on = ended_on
        enrollment.save(update_fields=["status", "ended_on"])
        care_team_end_source(
            client=episode.client,
            source=enrollment.group.source,
            actor=actor,
            # A planned placement's facilitators were granted from its first day: they
            # end there, unused.
            ended_on=enrollment.start_on if was_planned else None,
        )
        closed += 1
    Appointment.objects.filter(
        client=episode.client, status=AppointmentStatus.SCHEDULED, starts_at__gte=timezone.now()
    ).update(status=AppointmentStatus.CANCELLED)
    return closed


# --- Sessions -------------------------------------------------------------------------


# How far ahead sessions are kept generated: the client's printed schedule promises
# SCHEDULE_WEEKS (it also asks sessions_generate_through itself before it shows them),
# and a margin of two weeks. The horizon rolls with the day: nothing stops at a year's
# end.
SESSIONS_AHEAD_WEEKS = SCHEDULE_WEEKS + 2


def sessions_generate(*, weeks: int = SESSIONS_AHEAD_WEEKS, today: date | None = None) -> int:
    """Create the sessions of every active group for the coming weeks. Idempotent:
    (group, date) is unique and conflicts are ignored, so a second run adds nothing."""
    today = today or timezone.localdate()
    closed = set(
        ClinicClosure.objects.filter(
            date__gte=today, date__lt=today + timedelta(weeks=weeks)
        ).values_list("date", flat=True)
    )
    created = 0
    for group in Group.objects.filter(active=True).select_related("slot"):
        days = [
            today + timedelta(days=offset)
            for offset in range(weeks * 7)
            if (today + timedelta(days=offset)).weekday() in group.weekdays
            and today + timedelta(days=offset) not in closed
        ]
        existing = set(group.sessions.filter(date__in=days).values_list("date", flat=True))
        new = [
            GroupSession(
                group=group,
                date=day,
                starts_at=local_datetime(day, group.slot.start_time),
                ends_at=local_datetime(day, group.slot.end_time),
                room_id=group.room_id,
            )
            for day in days
            if day not in existing
        ]
        # ignore_conflicts: a concurrent run's rows, or (PostgreSQL) a session whose room
        # is taken, are skipped; count what was really inserted.
        GroupSession.objects.bulk_create(new, ignore_conflicts=True)
        created += group.sessions.filter(date__in=days).count() - len(existing)
    return created


def sessions_generate_through(last_day: date, *, today: date | None = None) -> int:
    """Make sure every active group's sessions exist from ``today`` to ``last_day``
    before a page promises them (the printed schedule), whether or not the beat task has
    run. Two queries when nothing is missing; otherwise the (idempotent) generator."""
    today = today or timezone.localdate()
    if last_day < today:
        return 0
    closed = set(
        ClinicClosure.objects.filter(date__gte=today, date__lte=last_day).values_list(
            "date", flat=True
        )
    )
    days = [today + timedelta(days=n) for n in range((last_day - today).days + 1)]
    for group in Group.objects.filter(active=True).annotate(last=Max("sessions__date")):
        meets = [d for d in days if d.weekday() in group.weekdays and d not in closed]
        if meets and (group.last is None or group.last < meets[-1]):
            return sessions_generate(weeks=(len(days) + 6) // 7, today=today)
    return 0


@transaction.atomic
def session_cancel(
    *, session: GroupSession, reason: str, actor, audit: AuditContext | None = None
) -> GroupSession:
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the session is cancelled (holiday, weather…)."})
    if session.is_cancelled:
        raise ValidationError("This session is already cancelled.")
    if session.attendance.exists():
        raise ValidationError("Attendance was taken for this session: it happened.")
    session.cancelled_at = timezone.now()
    session.cancel_reason = reason[:200]
    session.save(update_fields=["cancelled_at", "cancel_reason"])
    audit_record(action="session.cancel", actor=actor, audit=audit, obj=session)
    # Closures cancel through here too: their sessions' reminders go with them.
    reminders_subject_cancelled.send(
        sender=GroupSession, ref=f"session:{session.public_id}", audit=audit
    )
    return session


# --- Closures -------------------------------------------------------------------------


def closure_check(*, day: date, reason: str) -> str:
    """Why ``day`` cannot be closed (a ValidationError), or the cleaned reason. The
    admin form asks it for the message; ``closure_create`` asks it again under lock."""
    check_date(day, DateKind.SCHEDULE, field="date")
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError({"reason": "Say why the clinic is closed (holiday, weather…)."})
    if ClinicClosure.objects.filter(date=day).exists():
        raise ValidationError({"date": f"The clinic is already closed on {when.day(day)}."})
    taken = (
        GroupSession.objects.held().on(day).filter(attendance__isnull=False).select_related("group")
    )
    for session in taken.distinct()[:1]:
        raise ValidationError(
            {
                "date": f"Attendance was taken for {session.group} that day: it happened. "
                "Cancel the other sessions one by one instead."
            }
        )
    return reason


@transaction.atomic
def closure_create(
    *, day: date, reason: str, actor, audit: AuditContext | None = None
) -> ClinicClosure:
    """Close the clinic on ``day``: no session is generated that day from now on, and
    the sessions already generated are cancelled with the closure's reason (the same
    rules as cancelling one by hand: one that has attendance happened, so the closure
    is refused). All or nothing."""
    reason = closure_check(day=day, reason=reason)
    closure = ClinicClosure.objects.create(date=day, reason=reason, created_by=actor)
    for session in GroupSession.objects.held().on(day).select_for_update():
        session_cancel(session=session, reason=closure.reason, actor=actor, audit=audit)
    audit_record(
        action="closure.create",
        actor=actor,
        audit=audit,
        obj=closure,
        detail=f"date={day:%Y-%m-%d}",
    )
    return closure


# --- Groups ---------------------------------------------------------------------------


@transaction.atomic
def group_facilitators_set(
    *, group: Group, facilitators, actor, audit: AuditContext | None = None
) -> Group:
    """Set who facilitates ``group``; every member's care team follows (facilitators
    take attendance through a care-team grant, 42 CFR Part 2's need to know), through
    the care-team service, the one place that grants client permissions."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    after = {user.pk for user in facilitators}
    problems = group_clashes(group=group, facilitator_ids=after)
    if problems:
        raise ValidationError(problems)
    before = set(group.facilitators.values_list("pk", flat=True))
    if before == after:
        return group
    group.facilitators.set(after)
    today = timezone.localdate()
    added = list(group.facilitators.filter(pk__in=after - before))
    for enrollment in Enrollment.objects.filter(
        group=group, status__in=SEAT_HOLDING
    ).select_related("client"):
        for member in enrollment.client.care_team.filter(
            source=group.source, ended_on__isnull=True
        ).exclude(staff_id__in=after):
            care_team_end(member=member, actor=actor, audit=audit)
        for staff in added:
            care_team_add(
                client=enrollment.client,
                staff=staff,
                role=CareTeamRole.FACILITATOR,
                actor=actor,
                started_on=max(today, enrollment.start_on),
                source=group.source,
                audit=audit,
            )
    audit_record(
        action="group.facilitators_set",
        actor=actor,
        audit=audit,
        obj=group,
        detail=f"added={sorted(after - before)}; removed={sorted(before - after)}",
    )
    return group


# --- Appointments ---------------------------------------------------------------------


def clinician_refused(clinician) -> str:
    """Why ``clinician`` cannot be booked with a client (the form says it too)."""
    return (
        f"{clinician} may not write this client's notes: book a member of the client's "
        "care team who edits the chart and reads its clinical content (a supervisor "
        "only reads), or add them to the care team first."
    )


def _check_admitted(client: Client, starts_at: datetime) -> None:
    """An appointment is a service of an episode of care: none before the admission
    (the record would show a session the program had not yet taken the client into).
    The caller holds the client's row lock, so a discharge cannot slip in between."""
    episode = Episode.objects.open().filter(client=client).first()
    if episode is None:
        raise ValidationError({"client": "Admit the client before booking an appointment."})
    day = timezone.localtime(starts_at).date()
    if day < episode.admitted_on:
        raise ValidationError(
            {
                "starts_at": f"The client was admitted on {when.day(episode.admitted_on)}: "
                "an appointment cannot come before the admission."
            }
        )


@transaction.atomic
def appointment_book(
    *,
    client,
    clinician,
    kind,
    starts_at,
    ends_at,
    room=None,
    telehealth_url: str = "",
    actor,
    audit: AuditContext | None = None,
) -> Appointment:
    check_date(starts_at, DateKind.SCHEDULE, field="starts_at")
    telehealth_url = (telehealth_url or "").strip()
    if telehealth_url:
        try:
            https_only(telehealth_url)
            URLValidator()(telehealth_url)
        except ValidationError:
            raise ValidationError(
                {"telehealth_url": "Enter the full video link, starting with https://."}
            ) from None
    if kind not in AppointmentKind.values:
        raise ValidationError({"kind": "Choose the kind of appointment from the list."})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The end is before the start."})
    # The appointment's clinician writes and signs its note, which is clinical content:
    # they must be allowed to write this client's notes (EDIT and CLINICAL, the care
    # team; a supervisor only reads). The calendar names the client to them too
    # (42 CFR 2.13, need to know).
    if not access_for(clinician, client).allows(Purpose.CLINICAL_WRITE):
        raise ValidationError({"clinician": clinician_refused(clinician)})
    if ends_at - starts_at > timedelta(minutes=APPOINTMENT_MAX_MINUTES):
        raise ValidationError(
            {"ends_at": f"An appointment lasts at most {APPOINTMENT_MAX_MINUTES} minutes."}
        )
    _lock_resources(rooms=[room.pk if room else None], staff=[clinician.pk], clients=[client.pk])
    _check_admitted(client, starts_at)
    problems = conflicts(
        start=starts_at,
        end=ends_at,
        staff_ids=[clinician.pk],
        room_id=room.pk if room else None,
        client_id=client.pk,
        viewer=actor,
    )
    if problems:
        raise ValidationError(problems)
    appointment = Appointment.objects.create(
        client=client,
        clinician=clinician,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        room=room,
        booked_by=actor,
        telehealth_url=telehealth_url,
    )
    audit_record(
        action="appointment.book", actor=actor, audit=audit, obj=appointment, client=client
    )
    return appointment


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor, audit: AuditContext | None = None
) -> Appointment:
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status != AppointmentStatus.SCHEDULED:
        raise ValidationError("Only a scheduled appointment can be cancelled.")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status"])
    reminders_subject_cancelled.send(
        sender=Appointment, ref=f"appointment:{appointment.public_id}", audit=audit
    )
    audit_record(
        action="appointment.cancel",
        actor=actor,
        audit=audit,
        obj=appointment,
        client=appointment.client,
    )
    return appointment


# --- Attendance -----------------------------------------------------------------------


def session_roster(session: GroupSession):
    """Clients a session's sheet lists: enrolled in its group on its day."""
    return Client.objects.filter(
        pk__in=Enrollment.objects.on(session.date)
        .filter(group_id=session.group_id)
        .values("client")
    )


# Nothing is recorded before it happened. A client who arrives is marked present, late
# or on telehealth from shortly before the start (IOP_ATTENDANCE_OPENS_MINUTES: people
# come in early and the sheet is taken as they do); an absence, excused or not, or an
# early departure only once the session has run a grace period past its start
# (IOP_ABSENCE_GRACE_MINUTES), when the client could no longer be on their way. Every
# path (the sheet, "mark all present", a make-up, the shell) asks ``attendance_opens``.
ARRIVALS = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.TELEHEALTH)
AFTER_GRACE = (AttendanceStatus.LEFT_EARLY, AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED)


def attendance_opens(session: GroupSession, status: str) -> datetime:
    """The moment from which ``status`` may be recorded for ``session``."""
    if status in AFTER_GRACE:
        return session.starts_at + timedelta(minutes=settings.IOP_ABSENCE_GRACE_MINUTES)
    return session.starts_at - timedelta(minutes=settings.IOP_ATTENDANCE_OPENS_MINUTES)


def attendance_not_yet(session: GroupSession, status: str, *, now=None) -> str | None:
    """Why ``status`` cannot be recorded for ``session`` yet, or None when it can. The
    sheet shows the same words beside the buttons it does not offer."""
    now = now or timezone.now()
    opens = attendance_opens(session, status)
    if now >= opens:
        return None
    if status in AFTER_GRACE:
        return (
            f"Absent and left early can be marked from {clock_label(opens, now=now)}, "
            f"{settings.IOP_ABSENCE_GRACE_MINUTES} minutes after the start."
        )
    return (
        f"Present, late and telehealth can be marked from {clock_label(opens, now=now)}, "
        f"{settings.IOP_ATTENDANCE_OPENS_MINUTES} minutes before the start."
    )


def attendance_offers(session: GroupSession, *, now=None) -> tuple[list, list[str]]:
    """What the sheet offers now: the (value, label) statuses that may be recorded, and
    one sentence for each kind not offered yet."""
    now = now or timezone.now()
    offered, waiting = [], []
    for value, label in AttendanceStatus.choices:
        why = attendance_not_yet(session, value, now=now)
        if why is None:
            offered.append((value, label))
        elif why not in waiting:
            waiting.append(why)
    return offered, waiting


@transaction.atomic
def attendance_record(
    *,
    session: GroupSession,
    client: Client,
    status: str,
    minutes: int | None,
    actor,
    is_makeup: bool = False,
    audit: AuditContext | None = None,
) -> Attendance:
    session = GroupSession.objects.select_related("group").get(pk=session.pk)
    check_date(session.date, DateKind.SCHEDULE, field="session")
    if session.is_cancelled:
        raise ValidationError("This session was cancelled: no attendance to take.")
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": "Choose an attendance status."})
    if (
        not is_makeup
        and not session_roster(session).filter(pk=client.pk).exists()
        and not (Attendance.objects.filter(session=session, client=client).exists())
    ):
        raise ValidationError("The client is not enrolled in this group on that day.")
    full = session.minutes
    if status in ABSENT:
        minutes = 0
    elif minutes is None:
        minutes = full
    if minutes < 0 or minutes > full:
        raise ValidationError({"minutes": f"Minutes attended must be between 0 and {full}."})
    local_now = timezone.localtime()
    not_yet = attendance_not_yet(session, status, now=local_now)
    if not_yet:
        raise ValidationError({"status": not_yet})
    before = (
        Attendance.objects.filter(session=session, client=client)
        .values_list("status", flat=True)
        .first()
    )
    attendance, created = Attendance.objects.update_or_create(
        session=session,
        client=client,
        defaults={
            "status": status,
            "minutes": minutes,
            "recorded_by": actor,
            "is_makeup": is_makeup,
            "late_entry": local_now.date() > session.date,
        },
    )
    audit_record(
        action="attendance.record",
        actor=actor,
        audit=audit,
        obj=attendance,
        client=client,
        detail=f"status={status}; minutes={minutes}",
    )
    if before == AttendanceStatus.UNEXCUSED and status != AttendanceStatus.UNEXCUSED:
        # The check-in about this absence, if still waiting, is no longer true. (The
        # outbox asks again as it sends: scheduling.reminders.absence_still_unexcused.)
        reminders_subject_cancelled.send(
            sender=Attendance,
            ref=f"absence:{session.public_id}",
            client=client.public_id,
            reason="absence-corrected",
            audit=audit,
        )
    return attendance


@transaction.atomic
def attendance_mark_all_present(
    *, session: GroupSession, actor, audit: AuditContext | None = None
) -> int:
    """Mark every client on the sheet who has no attendance yet as present for the
    whole session; the exceptions are then changed row by row. All or nothing, each
    row through ``attendance_record`` (its rules, its audit row)."""
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    not_yet = attendance_not_yet(session, AttendanceStatus.PRESENT)
    if not_yet:
        raise ValidationError(not_yet)
    unmarked = session_roster(session).exclude(attendance__session=session)
    count = 0
    for client in unmarked:
        attendance_record(
            session=session,
            client=client,
            status=AttendanceStatus.PRESENT,
            minutes=None,
            actor=actor,
            audit=audit,
        )
        count += 1
    return count
