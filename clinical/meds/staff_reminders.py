"""Staff reminders of the medications and measures part: sources for the outbox (iop.notifications).

Each finder yields one in-app task per item, person and period (the idempotency key),
so the minute sweep writes it once however often it runs:

- a PHQ-9 or GAD-7 due (``IOP_MEASURE_INTERVAL_DAYS`` after the last one, or at
  admission when there is none): the primary clinician(s);
- a PHQ-9 safety flag (item 9 above 0) not yet acknowledged: whoever
  ``safety_flag_watchers`` names (the care team who acts on it, the supervisors of its
  clinicians who read it), until it is acknowledged or their reason ends.

The words name no client and no clinical content (dates only); the client travels as
an opaque id and the task list names them only to a viewer ``clients.access`` lets in.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse

from clients.models import Episode
from clients.selectors import primary_clinician_ids
from clinical.meds.models import Instrument, Measure
from clinical.meds.selectors import safety_flag_watchers
from iop import when
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, register, staff_task

DUE_MEASURES = (Instrument.PHQ9, Instrument.GAD7)


def find_measures_due(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    interval = timedelta(days=settings.IOP_MEASURE_INTERVAL_DAYS)
    last = {
        f"last_{code}": Subquery(
            Measure.objects.filter(client=OuterRef("client"), instrument=code)
            .values("client")
            .annotate(last=Max("administered_on"))
            .values("last")[:1]
        )
        for code in DUE_MEASURES
    }
    episodes = list(Episode.objects.open().annotate(**last).select_related("client").order_by("pk"))
    owners = primary_clinician_ids({e.client_id for e in episodes})
    labels = dict(Instrument.choices)
    for episode in episodes:
        for code in DUE_MEASURES:
            previous = getattr(episode, f"last_{code}")
            due_on = previous + interval if previous else episode.admitted_on
            if due_on > today:
                continue
            for staff_id in owners.get(episode.client_id, ()):
                yield staff_task(
                    source="clinical.measure_due",
                    item=f"{episode.client.public_id}:{code}",
                    staff_id=staff_id,
                    period=due_on.isoformat(),
                    template="measure_due",
                    now=now,
                    url=reverse(f"meds:measure_add_{code}", args=[episode.client.public_id]),
                    client=episode.client.public_id,
                    context={"instrument": labels[code]},
                    due=due_on,
                )


def find_safety_flags(now: datetime, *, flags=None):
    if flags is None:
        flags = list(Measure.objects.flags_open().select_related("client").order_by("pk"))
    watchers = safety_flag_watchers({flag.client_id for flag in flags})
    for flag in flags:
        for staff_id in sorted(watchers.get(flag.client_id, ())):
            yield staff_task(
                source="clinical.safety_flag",
                item=flag.public_id,
                staff_id=staff_id,
                period="open",
                template="safety_flag",
                now=now,
                url=reverse("meds:measure_detail", args=[flag.public_id]),
                client=flag.client.public_id,
                context={"when": when.day(flag.administered_on)},
                # Due the day it was answered: a risk is followed up the same day.
                due=flag.administered_on,
            )


def write_safety_flag_tasks(measure: Measure, *, now: datetime | None = None) -> int:
    """Write the follow-up tasks of one new safety flag now (a flag the client raised in
    the portal): the rows the sweep would write at its next minute, with the same keys,
    so the sweep finds them there and writes nothing twice."""
    from django.utils import timezone

    from iop.notifications.services import planned_write

    now = now or timezone.now()
    return planned_write(
        source_key="clinical.safety_flag", planned=list(find_safety_flags(now, flags=[measure]))
    )


def register_sources():
    register(
        Source(
            "clinical.safety_flag",
            Audience.STAFF,
            find_safety_flags,
            "Safety flags to follow up (PHQ-9 item 9)",
            resolves=True,
        )
    )
    register(
        Source(
            "clinical.measure_due",
            Audience.STAFF,
            find_measures_due,
            "Outcome measures due",
            resolves=True,
        )
    )
