"""Reads for the portal's pages: always the signed-in client's own rows, from the
scheduling and clinical selectors the staff pages use."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from clients.models import Client
from clinical.plans.selectors import current_relapse_version
from iop.accounts.models import Role
from iop.audit.models import AuditEvent, Outcome
from iop.notifications.sources import clinic_tz
from scheduling.selectors import upcoming_schedule, weekly_hours

SCHEDULE_DAYS = 28
NEUTRAL = {"session": "Group session", "appointment": "Appointment"}
ACCESS_DAYS = 90
# "Who looked at my record" shows at most this many lines (one per person, day and
# thing looked at), newest first: the page's cost does not grow with the trail.
ACCESS_ROWS = 200


def schedule(client: Client, *, today: date | None = None) -> dict:
    """What is ahead (four weeks) and this week's hours against the program's floor."""
    today = today or timezone.localdate()
    items = upcoming_schedule(client, days=SCHEDULE_DAYS, today=today)
    now = timezone.now()
    named = client.reminder_may_name_program
    items = [
        # Said plainly unless the client chose wording that names the program: a
        # phone's screen is not private (a group's name can say what it is).
        {**item, "label": item["what"] if named else NEUTRAL[item["kind"]]}
        for item in items
        if item["ends_at"] > now
    ]
    week = weekly_hours(client, weeks=1, today=today)[0]
    return {
        "items": items,
        "place": settings.IOP_REMINDER_PLACE,
        "phone": settings.IOP_REMINDER_PHONE,
        "week": week,
        "short_by": (max(week["floor"] - week["hours"], 0) if week["floor"] is not None else None),
    }


def relapse_plan(client: Client):
    return current_relapse_version(client)


# --- Who looked at my record ------------------------------------------------------------

# What each purpose of a staff page reads, in words (clients.access.Purpose values).
LOOKED_AT = {
    "access.chart": "Your record (contact details, consents, care team)",
    "access.clinical": "Your clinical record (notes, plans, screens, measures)",
    "access.edit": "Your record, to change it",
    "access.manage": "Your admission and care team",
    "access.attendance": "Your attendance",
    "access.review": "Your record, for a review",
    "access.supervision": "A group note that includes you, for supervision",
    "access.list": "A list or report that includes you",
    "access.emergency": "Your record, in an emergency (break the glass)",
}


def _role_names(user_ids: set[int]) -> dict[int, str]:
    labels = dict(Role.choices)
    names: dict[int, list[str]] = {}
    through = get_user_model().groups.through
    for user_id, name in (
        through.objects.filter(user_id__in=user_ids)
        .values_list("user_id", "group__name")
        .order_by("group__name")
    ):
        names.setdefault(user_id, []).append(labels.get(name, name))
    return {user_id: ", ".join(roles) for user_id, roles in names.items()}


def record_access(client: Client, *, now=None) -> list[dict]:
    """Staff reads of the client's record in the last 90 days, newest first, one line
    per person, day and kind of read (three queries whatever the trail's size)."""
    now = now or timezone.now()
    rows = list(
        AuditEvent.objects.filter(
            client_id=client.public_id,
            at__gte=now - timedelta(days=ACCESS_DAYS),
            actor__isnull=False,
            outcome=Outcome.ALLOWED,
            action__startswith="access.",
        )
        .annotate(day=TruncDate("at", tzinfo=clinic_tz()))
        .values("day", "actor_id", "action")
        .annotate(times=Count("id"), last=Max("at"))
        .order_by("-last")[:ACCESS_ROWS]
    )
    actor_ids = {row["actor_id"] for row in rows}
    roles = _role_names(actor_ids)
    show_names = settings.IOP_PORTAL_SHOW_STAFF_NAMES
    people = (
        {user.pk: str(user) for user in get_user_model().objects.filter(pk__in=actor_ids)}
        if show_names and actor_ids
        else {}
    )
    return [
        {
            "day": row["day"],
            "last": row["last"],
            "who": people.get(row["actor_id"]) if show_names else None,
            "role": roles.get(row["actor_id"], "Staff"),
            "what": LOOKED_AT.get(row["action"], "Your record"),
            "times": row["times"],
        }
        for row in rows
    ]
