"""Staff reminder of the clients app: a prospect waiting for a step of the intake
journey (``clients.intake``: consent, admission, care team, placement), for the intake
coordinators on the client's care team. One task per client and step: taking the step
closes it (the next step, if any, is a new task); so does the coordinator's care-team
membership ending. The words name the step only; the client travels as an opaque id.
"""

from datetime import datetime

from django.contrib.auth import get_user_model

from clients.access import REASON_CARE_TEAM, Purpose, holders
from clients.intake import missing_step, waiting
from clients.models import Client
from iop.accounts.models import Role
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, local_day, register, staff_task


def find_intake_steps(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    clients = list(waiting(Client.objects.all(), today).order_by("pk"))
    held = holders({c.pk for c in clients}, Purpose.MANAGE)
    coordinators = set(
        get_user_model()
        .objects.filter(
            pk__in={staff for staff_ids in held.values() for staff in staff_ids},
            groups__name=Role.INTAKE,
        )
        .values_list("pk", flat=True)
    )
    for client in clients:
        step = missing_step(client)
        for staff_id, reason in sorted(held.get(client.pk, {}).items()):
            if reason != REASON_CARE_TEAM or staff_id not in coordinators:
                continue
            yield staff_task(
                source="clients.intake_step",
                item=client.public_id,
                staff_id=staff_id,
                period=step.key,
                template="intake_step",
                now=now,
                url=step.url(client),
                client=client.public_id,
                context={"step": step.label, "registered": local_day(client.created_at)},
            )


def register_sources():
    register(
        Source(
            "clients.intake_step",
            Audience.STAFF,
            find_intake_steps,
            "Prospects waiting for an intake step",
            resolves=True,
            # The intake coordinator opens the chart, not the clinical record.
            client_purpose=Purpose.CHART,
        )
    )
