"""Staff tasks of the billing app (issue 22), for the staff who hold Purpose.BILLING on
the client (``clients.access.holders``: the billing role, while the client is in
billing's reach):

- an authorization with 80 % or more of its units used (summed from its charges in
  SQL), while it runs;
- an authorization whose last day is within 7 days;
- a day delivered (attended) in the last 30 days with no H0015 authorization covering it.

Each closes itself when it is no longer found (units approved raised, the authorization
extended or replaced, an authorization recorded for the day). The words give the service
code, counts and dates only; the client travels as an opaque id.
"""

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.urls import reverse

from billing.models import Authorization
from billing.selectors import (
    EXPIRY_WARNING_DAYS,
    USED_SHARE_WARNING,
    delivered_without_authorization,
)
from clients.access import Purpose, billing_reach_since, holders
from clients.models import Client, Episode
from iop import numbers, when
from iop.notifications.models import Audience
from iop.notifications.sources import Source, clinic_tz, register, staff_task

LOOK_BACK_DAYS = 30


def _current(today):
    return Authorization.objects.filter(ends_on__gte=today, starts_on__lte=today)


def _tasks(rows, *, source, template, now, period, context, due=None):
    held = holders({row.client_id for row in rows}, Purpose.BILLING)
    for row in rows:
        for staff_id in sorted(held.get(row.client_id, {})):
            yield staff_task(
                source=source,
                item=row.public_id,
                staff_id=staff_id,
                period=period(row),
                template=template,
                now=now,
                url=reverse("billing:client", args=[row.client.public_id]),
                client=row.client.public_id,
                context=context(row),
                due=due(row) if due else None,
            )


def find_units_running_out(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    rows = list(
        _current(today)
        .with_usage()
        .filter(used_units__gte=F("units_approved") * USED_SHARE_WARNING)
        .select_related("client")
        .order_by("pk")
    )
    yield from _tasks(
        rows,
        source="billing.authorization_units",
        template="authorization_units",
        now=now,
        period=lambda row: f"{row.units_approved}",
        context=lambda row: {
            "code": row.service_code,
            "used": row.used,
            "approved": row.units_approved,
            "share": numbers.percent(row.used, row.units_approved),
            "ends_on": when.day(row.ends_on),
        },
    )


def find_authorizations_ending(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    rows = list(
        _current(today)
        .filter(ends_on__lte=today + timedelta(days=EXPIRY_WARNING_DAYS))
        .with_usage()
        .select_related("client")
        .order_by("pk")
    )
    yield from _tasks(
        rows,
        source="billing.authorization_ending",
        template="authorization_ending",
        now=now,
        period=lambda row: row.ends_on.isoformat(),
        context=lambda row: {
            "code": row.service_code,
            "ends_on": when.day(row.ends_on),
            "left": row.units_left,
        },
        due=lambda row: row.ends_on,
    )


def find_days_without_authorization(now: datetime):
    today = now.astimezone(clinic_tz()).date()
    in_reach = Episode.objects.filter(
        Q(discharged_on__isnull=True) | Q(discharged_on__gte=billing_reach_since(today))
    ).values("client_id")
    days = list(
        delivered_without_authorization(
            in_reach, since=today - timedelta(days=LOOK_BACK_DAYS), through=today
        )
    )
    if not days:
        return
    public_ids = dict(
        Client.objects.filter(pk__in={c for c, _ in days}).values_list("pk", "public_id")
    )
    held = holders(public_ids, Purpose.BILLING)
    for client_id, day in days:
        public_id = public_ids[client_id]
        for staff_id in sorted(held.get(client_id, {})):
            yield staff_task(
                source="billing.unauthorized_day",
                item=public_id,
                staff_id=staff_id,
                period=day.isoformat(),
                template="unauthorized_day",
                now=now,
                url=reverse("billing:client", args=[public_id]),
                client=public_id,
                context={"day": when.day(day), "code": "H0015"},
                due=day,
            )


def register_sources():
    for key, finder, title in (
        ("billing.authorization_units", find_units_running_out, "Authorizations 80 % used"),
        (
            "billing.authorization_ending",
            find_authorizations_ending,
            "Authorizations ending within 7 days",
        ),
        (
            "billing.unauthorized_day",
            find_days_without_authorization,
            "Days delivered without an authorization",
        ),
    ):
        register(
            Source(
                key,
                Audience.STAFF,
                finder,
                title,
                resolves=True,
                # Billing opens its own page of the client, not the chart.
                client_purpose=Purpose.BILLING,
            )
        )
