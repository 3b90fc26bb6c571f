"""Client reminders of sessions and appointments, and the check-in after an
unexcused absence: sources for the outbox (iop.notifications.sources).

The rules (README, *Reminders*): a client gets reminders only with a channel, their
consent and an address; the 24- and 2-hour leads (``IOP_REMINDER_LEAD_HOURS``) are
wall-clock times in the clinic's zone; a moment inside the client's quiet hours moves
to their end, and is dropped if that is already past the start; a moment more than
``STALE`` in the past is not written (a late booking gets only the reminders still
ahead). Whether a client gets them, and whether the words may name the program, is the
client's consent (clients.reminders).
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from clients.models import Client, ReminderChannel
from clients.reminders import reminder_route, reminder_wording
from iop import when
from iop.notifications.models import Audience
from iop.notifications.sources import (
    Planned,
    Source,
    clinic_tz,
    defer_for_quiet_hours,
    lead_time,
    register,
    register_send_check,
    reminder_leads,
)
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    AttendanceStatus,
    Enrollment,
    GroupSession,
)

STALE = timedelta(minutes=30)
# Reminders are written this far ahead of their moment, so the outbox page shows
# what will go and a cancellation has pending rows to cancel.
WRITE_AHEAD = timedelta(hours=6)
ABSENCE_LOOKBACK_DAYS = 2


def _when(moment: datetime) -> str:
    # The month and the locale's clock: "Wednesday, December 2 at 6:00 PM".
    return when.message_moment(moment)


def _context(client: Client, *, starts_at=None, room=None) -> dict:
    return {
        "when": _when(starts_at) if starts_at else "",
        "day": when.message_day(starts_at) if starts_at else "",
        "room": room.name if room else "",
        **reminder_wording(client),
    }


def _lead_moments(client: Client, starts_at: datetime, now: datetime):
    for hours in reminder_leads():
        at = defer_for_quiet_hours(
            lead_time(starts_at, hours), client.quiet_hours_start, client.quiet_hours_end
        )
        if at >= starts_at or at < now - STALE or at > now + WRITE_AHEAD:
            continue
        yield hours, at


def _reminders_for(kind, obj, client, starts_at, room, now):
    route = reminder_route(client)
    if route is None:
        return
    channel, address = route
    for hours, at in _lead_moments(client, starts_at, now):
        yield Planned(
            key=f"{kind}:{obj.public_id}:{client.public_id}:{hours}h:{channel}",
            template=f"{kind}_reminder",
            channel=channel,
            recipient=address,
            scheduled_for=at,
            client=client.public_id,
            ref=f"{kind}:{obj.public_id}",
            refs={kind: str(obj.public_id), "lead_hours": hours},
            context=_context(client, starts_at=starts_at, room=room),
        )


def _window(now):
    return now, now + WRITE_AHEAD + timedelta(hours=max(reminder_leads(), default=0) + 12)


def find_session_reminders(now: datetime):
    first, last = _window(now)
    sessions = list(
        GroupSession.objects.held()
        .filter(starts_at__gt=first, starts_at__lte=last)
        .select_related("room")
    )
    if not sessions:
        return
    enrollments = (
        Enrollment.objects.during(min(s.date for s in sessions), max(s.date for s in sessions))
        .filter(group_id__in={s.group_id for s in sessions})
        .filter(client__reminder_consent=True)
        .exclude(client__reminder_channel=ReminderChannel.NONE)
        .select_related("client")
    )
    members = {}
    for enrollment in enrollments:
        members.setdefault(enrollment.group_id, []).append(enrollment)
    for session in sessions:
        for enrollment in members.get(session.group_id, ()):
            if not (
                enrollment.start_on <= session.date
                and (enrollment.ended_on is None or enrollment.ended_on > session.date)
            ):
                continue
            yield from _reminders_for(
                "session", session, enrollment.client, session.starts_at, session.room, now
            )


def find_appointment_reminders(now: datetime):
    first, last = _window(now)
    appointments = (
        Appointment.objects.filter(
            status=AppointmentStatus.SCHEDULED, starts_at__gt=first, starts_at__lte=last
        )
        .filter(client__reminder_consent=True)
        .select_related("client", "room")
    )
    for appointment in appointments:
        yield from _reminders_for(
            "appointment",
            appointment,
            appointment.client,
            appointment.starts_at,
            appointment.room,
            now,
        )


def find_absence_checkins(now: datetime):
    """One check-in after an unexcused absence from a session of the last two days,
    written only once the session has ended: "we missed you" is not said of a session
    still under way, which the client may yet reach."""
    since = now.astimezone(clinic_tz()).date() - timedelta(days=ABSENCE_LOOKBACK_DAYS)
    absences = (
        Attendance.objects.filter(
            status=AttendanceStatus.UNEXCUSED,
            session__date__gte=since,
            session__ends_at__lte=now,
            session__cancelled_at__isnull=True,
        )
        .filter(Q(client__reminder_consent=True))
        .select_related("client", "session")
    )
    for absence in absences:
        client = absence.client
        route = reminder_route(client)
        if route is None:
            continue
        channel, address = route
        at = defer_for_quiet_hours(now, client.quiet_hours_start, client.quiet_hours_end)
        yield Planned(
            key=f"absence:{absence.session.public_id}:{client.public_id}:{channel}",
            template="absence_checkin",
            channel=channel,
            recipient=address,
            scheduled_for=at,
            client=client.public_id,
            ref=f"absence:{absence.session.public_id}",
            refs={"session": str(absence.session.public_id)},
            context=_context(client, starts_at=absence.session.starts_at),
        )


def absence_still_unexcused(message) -> bool:
    """Asked by the outbox just before a check-in goes: the session has ended and the
    client's attendance still says unexcused (a correction to present, late or
    excused since the message was written withdraws it)."""
    session_id = (message.refs or {}).get("session")
    if not session_id or message.client is None:
        return False
    return Attendance.objects.filter(
        session__public_id=session_id,
        client__public_id=message.client,
        status=AttendanceStatus.UNEXCUSED,
        session__ends_at__lte=timezone.now(),
        session__cancelled_at__isnull=True,
    ).exists()


def register_sources():
    register(Source("scheduling.session_reminder", Audience.CLIENT, find_session_reminders))
    register(Source("scheduling.appointment_reminder", Audience.CLIENT, find_appointment_reminders))
    register(Source("scheduling.absence_checkin", Audience.CLIENT, find_absence_checkins))
    register_send_check("absence_checkin", absence_still_unexcused)
