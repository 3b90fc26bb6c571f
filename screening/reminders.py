"""The neutral call-in notice for a random test: a source for the outbox
(iop.notifications.sources), registered from ScreeningConfig.ready.

A client drawn for a random test today is asked to come by, in the same neutral words
as every client reminder (no program name, no clinical or testing word, unless they
opted in to detailed wording), on their channel, with their consent, after their quiet
hours. The notice goes at ``IOP_CALL_IN_TIME`` (clinic time) or at once when the draw
comes later; voiding the test cancels a notice not yet sent.
"""

from datetime import datetime

from django.conf import settings

from iop.notifications.models import Audience
from iop.notifications.sources import (
    Planned,
    Source,
    clinic_tz,
    defer_for_quiet_hours,
    register,
)
from scheduling.reminders import reminder_route
from screening.models import RandomSelection, SelectionStatus

TEMPLATE = "screen_call_in"


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
                "day": f"{today:%A} {today.day}",
                "place": settings.IOP_REMINDER_PLACE,
                "phone": settings.IOP_REMINDER_PHONE,
                "named": client.reminder_may_name_program,
                "program": settings.IOP_PROGRAM_NAME,
            },
        )


def register_sources() -> None:
    register(Source("screening.call_in", Audience.CLIENT, find_call_ins))
