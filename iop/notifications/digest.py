"""The daily email digest of a staff member's open tasks: counts and one link, never a
client's name, MRN or anything typed about a client (an email leaves the building and
may be read on a shared screen; 42 CFR 2.13).

A source like any other (``iop.notifications.sources``): from ``IOP_STAFF_DIGEST_HOUR``
in the clinic's zone the minute sweep finds, for each active staff member with an email
address and at least one open task, one email keyed by person and local date, so it is
written once a day however often the sweep runs. It runs after the other sources
(``order``) so it counts the tasks written in the same sweep.
"""

from datetime import datetime

from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from iop.notifications.models import Audience, Channel, OutboxMessage
from iop.notifications.sources import SOURCES, Planned, Source, clinic_tz, register

DIGEST = "notifications.staff_digest"


def find_digests(now: datetime):
    local = now.astimezone(clinic_tz())
    if local.hour < settings.IOP_STAFF_DIGEST_HOUR:
        return
    rows = (
        OutboxMessage.objects.open_tasks()
        .filter(staff__is_active=True)
        .exclude(staff__email="")
        .values("staff_id", "staff__email", "refs__kind")
        .annotate(n=Count("id"))
        .order_by("staff_id")
    )
    people: dict[int, dict] = {}
    for row in rows:
        person = people.setdefault(row["staff_id"], {"email": row["staff__email"], "kinds": {}})
        kind = row["refs__kind"] or ""
        person["kinds"][kind] = person["kinds"].get(kind, 0) + row["n"]
    url = settings.IOP_SITE_URL + reverse("notifications:tasks")
    order = {key: i for i, key in enumerate(SOURCES)}
    for staff_id, person in people.items():
        counts = [
            {"title": SOURCES[kind].title if kind in SOURCES else "Other tasks", "count": n}
            for kind, n in sorted(person["kinds"].items(), key=lambda kv: order.get(kv[0], 999))
        ]
        total = sum(line["count"] for line in counts)
        yield Planned(
            key=f"{DIGEST}:{staff_id}:{local.date().isoformat()}",
            template="staff_digest",
            channel=Channel.EMAIL,
            recipient=person["email"],
            scheduled_for=now,
            staff_id=staff_id,
            ref=f"digest:{local.date().isoformat()}",
            refs={"kind": DIGEST, "total": total},
            context={"total": total, "counts": counts, "url": url},
        )


def register_digest():
    register(Source(DIGEST, Audience.STAFF, find_digests, "Daily task digest", order=100))
