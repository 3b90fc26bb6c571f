"""The neutral call-in notice for a random test: a source for the outbox
(iop.notifications.sources), registered from ScreeningConfig.ready.

A client drawn for a random test today is asked to come by, in the same neutral words
as every client reminder (no program name, no clinical or testing word, unless they
opted in to detailed wording), on their channel, with their consent, after their quiet
hours. The notice goes at ``IOP_CALL_IN_TIME`` (clinic time) or at once when the draw
comes later; voiding the test cancels a notice not yet sent.
"""

from datetime import datetime, time

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clients.reminders import reminder_route, reminder_wording
from clients.selectors import primary_clinician_ids
from iop import when
from iop.notifications.models import Audience
from iop.notifications.signals import message_sent
from iop.notifications.sources import (
    Planned,
    Source,
    clinic_tz,
    defer_for_quiet_hours,
    register,
    staff_task,
)
from screening.models import RandomSelection, ScreenFollowUp, SelectionStatus

TEMPLATE = "screen_call_in"
# The notice asks the client to come by before this (clinic time), in the locale's clock.
CALL_IN_UNTIL = time(17, 0)


def selection_ref(selection) -> str:
    return f"selection:{selection.public_id}"


def find_call_ins(now: datetime):
    tz = clinic_tz()
    today = now.astimezone(tz).date()
    due = datetime.combine(today, settings.IOP_CALL_IN_TIME, tzinfo=tz)
    selections = RandomSelection.objects.filter(
        date=today, status=SelectionStatus.PENDING, client__reminder_consent=True
    ).select_related("client")
    for selection in selections:
        client = selection.client
        route = reminder_route(client)
        if route is None:
            continue
        channel, address = route
        at = defer_for_quiet_hours(max(now, due), client.quiet_hours_start, client.quiet_hours_end)
        if at.astimezone(tz).date() != today:
            continue  # quiet hours run past the day: a notice tomorrow would mislead
        yield Planned(
            key=f"callin:{selection.public_id}:{channel}",
            template=TEMPLATE,
            channel=channel,
            recipient=address,
            scheduled_for=at,
            client=client.public_id,
            ref=selection_ref(selection),
            refs={"selection": str(selection.public_id)},
            context={
                "day": when.message_day(today),
                "until": when.clock(CALL_IN_UNTIL),
                # Said only to a client who chose wording that names the program.
                "call_in_words": settings.IOP_SCREEN_CALL_IN_WORDS,
                **reminder_wording(client),
            },
        )


def mark_notified(sender, ref, **kwargs) -> None:
    """The collection list's "notice pending" ends when the call-in notice has gone."""
    if ref.startswith("selection:"):
        RandomSelection.objects.filter(
            public_id=ref.removeprefix("selection:"), notified_at__isnull=True
        ).update(notified_at=timezone.now())


def register_sources() -> None:
    message_sent.connect(mark_notified, dispatch_uid="screening-call-in-sent")
    register(Source("screening.call_in", Audience.CLIENT, find_call_ins))


def find_open_follow_ups(now: datetime):
    """Staff task: an open screening follow-up (an unexpected positive, a dilute or
    substituted specimen, a missed or refused random test) for the client's primary
    clinician(s), once per follow-up, closed when it is acknowledged. The words carry
    the day only; which result it was is on the follow-up's page, behind the access path."""
    follow_ups = ScreenFollowUp.objects.open().select_related("client").order_by("pk")
    rows = list(follow_ups)
    primaries = primary_clinician_ids([f.client_id for f in rows])
    for follow_up in rows:
        for staff_id in primaries.get(follow_up.client_id, ()):
            yield staff_task(
                source="screening.follow_up",
                item=follow_up.public_id,
                staff_id=staff_id,
                period="open",
                template="screen_follow_up",
                now=now,
                url=reverse("screening:follow_up_detail", args=[follow_up.public_id]),
                client=follow_up.client.public_id,
                context={"when": when.day(follow_up.occurred_on)},
                due=follow_up.occurred_on,
            )


def register_staff_sources() -> None:
    register(
        Source(
            "screening.follow_up",
            Audience.STAFF,
            find_open_follow_ups,
            title="Screens to follow up",
            resolves=True,
        )
    )
