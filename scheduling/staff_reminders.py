"""Staff reminder of the scheduling app: clients with two or more unexcused absences
this week (Monday to Sunday in the clinic's zone), for their primary clinician(s) to
follow up. One task per client, clinician and ISO week; the words give the count only.
Nothing in the data says the follow-up happened, so the task stays open until the
clinician marks it done (it does not close itself when the week ends).
"""

from datetime import datetime, timedelta

from django.db.models import Count
from django.urls import reverse

from clients.models import Client
from clients.selectors import primary_clinician_ids
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, register, staff_task
from scheduling.models import Attendance, AttendanceStatus

ABSENCES_TO_FOLLOW_UP = 2


def find_repeated_absences(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    monday = today - timedelta(days=today.weekday())
    year, week, _ = monday.isocalendar()
    counts = dict(
        Attendance.objects.filter(
            status=AttendanceStatus.UNEXCUSED,
            session__date__gte=monday,
            session__date__lte=today,
        )
        .values("client_id")
        .annotate(n=Count("id"))
        .filter(n__gte=ABSENCES_TO_FOLLOW_UP)
        .values_list("client_id", "n")
    )
    if not counts:
        return
    public_ids = dict(Client.objects.filter(pk__in=counts).values_list("pk", "public_id"))
    owners = primary_clinician_ids(counts)
    for client_id, n in sorted(counts.items()):
        public_id = public_ids[client_id]
        for staff_id in owners.get(client_id, ()):
            yield staff_task(
                source="scheduling.absences",
                item=public_id,
                staff_id=staff_id,
                period=f"{year}-W{week:02d}",
                template="absences_follow_up",
                now=now,
                url=reverse("scheduling:client_schedule", args=[public_id]),
                client=public_id,
                context={"count": n},
            )


def register_sources():
    register(
        Source(
            "scheduling.absences",
            Audience.STAFF,
            find_repeated_absences,
            "Clients with repeated unexcused absences this week",
        )
    )
