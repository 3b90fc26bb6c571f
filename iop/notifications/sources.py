"""The reminder sources: a registry, so the platform finds what is due without
importing the apps that know about sessions, notes or screens.

Each app registers its sources from its AppConfig.ready::

    from iop.notifications.sources import Source, register
    register(Source("screening.call_in", Audience.CLIENT, find_call_ins))

A finder takes the current time and yields ``Planned`` messages: the idempotency key
(the same thing found again gives the same key, so it is written once), the template,
the channel and address, when it may go, and the ids it refers to. The scheduler
(``services.reminders_schedule``) renders and writes them; finders never write.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from iop import when


@dataclass(frozen=True)
class Planned:
    key: str
    template: str
    channel: str
    scheduled_for: datetime
    recipient: str = ""
    client: uuid.UUID | None = None
    staff_id: int | None = None
    # What to cancel it by ("session:<uuid>"), and the ids it refers to.
    ref: str = ""
    refs: dict = field(default_factory=dict)
    # Template values: times, places, counts and links; never words about a client.
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    key: str
    audience: str  # Audience.CLIENT or Audience.STAFF
    finder: Callable[[datetime], Iterable[Planned]]
    # A staff source's heading on the task list and line in the digest.
    title: str = ""
    # Sources run in this order (then registration order): the digest runs last so it
    # counts the tasks written in the same sweep.
    order: int = 0
    # A staff source whose finder yields every task still to do: an open task it no
    # longer finds (the note was signed, the measure given) is closed by the sweep, and
    # the task list offers no "Mark done" for it (done is when the item is done).
    resolves: bool = False
    # The purpose (``clients.access.Purpose``) a viewer must hold on a task's client for
    # the task list to name the client and link the task: clinical work by default, the
    # chart for the intake journey's steps.
    client_purpose: str = "clinical"


SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    SOURCES[source.key] = source


# --- Checked again when a message goes ---------------------------------------------------
#
# A message can stop being true between its writing and its sending: an absence is
# corrected to present while the check-in waits for the end of the client's quiet
# hours. The app that writes a template may register a check that the outbox asks
# just before the provider is called (in the delivery task and in the sweep alike); a
# message it no longer holds true for is cancelled, never sent.

SEND_CHECKS: dict[str, Callable[[object], bool]] = {}


def register_send_check(template: str, check: Callable[[object], bool]) -> None:
    """``check(message)`` answers whether the outbox row ``message`` of ``template`` is
    still true now (it reads ``message.client`` and ``message.refs``, ids only)."""
    SEND_CHECKS[template] = check


def still_true(message) -> bool:
    check = SEND_CHECKS.get(message.template)
    return True if check is None else bool(check(message))


# --- Rules every client source shares ----------------------------------------------------


def clinic_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def lead_time(starts_at: datetime, hours: int) -> datetime:
    """When the ``hours``-ahead reminder of something starting at ``starts_at`` goes.

    Wall-clock arithmetic in the clinic's zone: the 24-hour reminder of a 07:00 session
    goes at 07:00 the day before on both sides of a daylight-saving change (25 or 23
    real hours then), which is what "the day before, same time" means to a client.
    """
    local = starts_at.astimezone(clinic_tz())
    wall = local.replace(tzinfo=None) - timedelta(hours=hours)
    return wall.replace(tzinfo=clinic_tz())


def defer_for_quiet_hours(when: datetime, start: time | None, end: time | None) -> datetime:
    """``when`` moved to the end of the client's quiet hours if it falls in them.

    Quiet hours are clinic-local wall times and may wrap midnight (21:00-07:00).
    """
    if start is None or end is None or start == end:
        return when
    tz = clinic_tz()
    local = when.astimezone(tz)
    at = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= at < end
        end_day = local.date()
    else:  # wraps midnight
        inside = at >= start or at < end
        end_day = local.date() + timedelta(days=1) if at >= start else local.date()
    if not inside:
        return when
    return datetime.combine(end_day, end, tzinfo=tz)


def reminder_leads() -> tuple[int, ...]:
    return tuple(settings.IOP_REMINDER_LEAD_HOURS)


# --- Staff tasks ---------------------------------------------------------------------------
#
# A staff reminder is an in-app message: one row per item, person and period (the key),
# naming no client in its words. The client it is about travels as an opaque id in
# ``refs["client"]``; the task list asks the clients app, at the moment it is shown,
# which of those the viewer may open (``clients.access.clients_for``) and names and
# links only those. The platform never imports clients: the app registers the answer.

_openable: Callable[[object, set, str], dict] | None = None


def register_openable(fn: Callable[[object, set, str], dict]) -> None:
    """``fn(user, public_ids, purpose)`` answers ``{public_id: label}`` for the clients
    among ``public_ids`` that ``user`` may open for ``purpose``, in one query."""
    global _openable
    _openable = fn


def openable_clients(user, ids: set, purpose: str = "clinical") -> dict:
    if not ids or _openable is None:
        return {}
    return _openable(user, ids, purpose)


def staff_task(
    *,
    source: str,
    item,
    staff_id: int,
    period: str,
    template: str,
    now: datetime,
    url: str = "",
    client: uuid.UUID | None = None,
    context: dict | None = None,
    due: date | datetime | None = None,
) -> Planned:
    """The in-app task ``staff_id`` gets about ``item`` once per ``period``.

    ``url`` holds opaque ids only (no client data in URLs); ``context`` holds dates and
    counts only: the row's words are seen by anyone who can read the outbox. ``due`` is
    the clinic day by which it should be done (the day it is found when the item has
    no deadline of its own): the task list is sorted by it and marks what is overdue.
    """
    from iop.notifications.models import Channel

    refs = {"kind": source, "item": str(item), "url": url, "due": due_day(due or now).isoformat()}
    if client is not None:
        refs["client"] = str(client)
    return Planned(
        key=f"{source}:{item}:{staff_id}:{period}",
        template=template,
        channel=Channel.IN_APP,
        scheduled_for=now,
        staff_id=staff_id,
        ref=f"task:{item}",
        refs=refs,
        context=context or {},
    )


def due_day(value: date | datetime) -> date:
    """A task's due day: a date as given, a moment as its clinic-local date."""
    if isinstance(value, datetime):
        return value.astimezone(clinic_tz()).date()
    return value


def local_day(moment: datetime) -> str:
    """The clinic's day of a moment, as every page writes a day (iop.when)."""
    return when.day(moment.astimezone(clinic_tz()))
