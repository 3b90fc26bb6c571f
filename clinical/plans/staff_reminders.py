"""Staff reminders of the plans part: sources for the outbox (iop.notifications).

Each finder yields one in-app task per item, person and period (the idempotency key),
so the minute sweep writes it once however often it runs:

- a treatment plan due for review within ``PLAN_DUE_DAYS``: the primary clinician(s).

The words name no client and no clinical content (dates only); the client travels as
an opaque id and the task list names them only to a viewer ``clients.access`` lets in.
"""

from datetime import datetime, timedelta

from django.urls import reverse

from clients.selectors import primary_clinician_ids
from clinical.plans.models import TreatmentPlanVersion
from iop import when
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, register, staff_task

PLAN_DUE_DAYS = 7


def find_plans_due(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    versions = list(
        TreatmentPlanVersion.objects.due_for_review(by=today + timedelta(days=PLAN_DUE_DAYS))
        .filter(client__episodes__discharged_on__isnull=True)
        .select_related("client")
        .distinct()
        .order_by("pk")
    )
    owners = primary_clinician_ids({v.client_id for v in versions})
    for version in versions:
        due_on = version.review_due_on
        for staff_id in owners.get(version.client_id, ()):
            yield staff_task(
                source="clinical.plan_review",
                item=version.public_id,
                staff_id=staff_id,
                period="review",
                template="plan_review",
                now=now,
                url=reverse("plans:treatment", args=[version.client.public_id]),
                client=version.client.public_id,
                context={"due": when.day(due_on)},
            )


def register_sources():
    register(
        Source(
            "clinical.plan_review",
            Audience.STAFF,
            find_plans_due,
            "Treatment plans due for review",
            resolves=True,
        )
    )
