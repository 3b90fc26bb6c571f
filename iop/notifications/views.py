"""The admin's outbox page: what went out, what failed and why, retry and cancel; and
each staff member's task list (their own in-app tasks only).

The outbox page is for program admins only; client message bodies are shown there and
nowhere else. Every view of it is audited (``outbox.view``) and every action writes
its own row."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_list
from iop.notifications.forms import OutboxActionForm, OutboxFilterForm, TaskDoneForm
from iop.notifications.models import Channel, OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_cancel, outbox_retry, task_mark_done
from iop.notifications.sources import SOURCES, clinic_tz, openable_clients
from iop.permissions import role_required

PAGE_SIZE = 100


@role_required(Role.ADMIN)
def outbox_list(request):
    form = OutboxFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    messages_qs = OutboxMessage.objects.select_related("staff").order_by("-scheduled_for", "-id")
    filters = form.cleaned_data if request.GET and valid else {}
    if filters.get("channel"):
        messages_qs = messages_qs.filter(channel=filters["channel"])
    if filters.get("status"):
        messages_qs = messages_qs.filter(status=filters["status"])
    if filters.get("since"):
        start = datetime.combine(filters["since"], time(0), tzinfo=clinic_tz())
        messages_qs = messages_qs.filter(scheduled_for__gte=start)
    if filters.get("until"):
        end = datetime.combine(filters["until"] + timedelta(days=1), time(0), tzinfo=clinic_tz())
        messages_qs = messages_qs.filter(scheduled_for__lt=end)
    counts = {
        (row["status"], row["channel"]): row["n"]
        for row in OutboxMessage.objects.values("status", "channel").annotate(n=Count("*"))
    }
    table = [
        {
            "status": label,
            "cells": [counts.get((status, channel), 0) for channel in Channel.values],
        }
        for status, label in OutboxStatus.choices
    ]
    rows = list(messages_qs[:PAGE_SIZE])
    failed = list(OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("-id")[:20])
    # A client message shows its recipient (a number or address) and its words: the
    # page's row counts the clients they go to.
    audit_list(
        request,
        listed=[m.client for m in (*rows, *failed) if m.client],
        action="outbox.view",
        object_type="notifications.outbox",
        detail="filters=" + ",".join(sorted(k for k, v in filters.items() if v)),
    )
    return render(
        request,
        "notifications/outbox.html",
        {
            "form": form,
            "table": table,
            "channels": Channel.labels,
            "rows": rows,
            "failed": failed,
        },
        status=200 if valid else 400,
    )


@require_POST
@role_required(Role.ADMIN)
def outbox_action(request):
    form = OutboxActionForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a message and an action.")
    message = OutboxMessage.objects.filter(public_id=form.cleaned_data["message"]).first()
    if message is None:
        return HttpResponseBadRequest("No such message.")
    service = outbox_retry if form.cleaned_data["action"] == "retry" else outbox_cancel
    try:
        service(message=message, actor=request.user, audit=audit_context(request))
    except ValidationError as exc:
        # The page again, with why, as a 400: nothing changed.
        messages.error(request, " ".join(exc.messages))
        response = outbox_list(request)
        response.status_code = 400
        return response
    messages.success(request, "Done.")
    return redirect("notifications:outbox")


# --- The staff task list ------------------------------------------------------------------

TASK_LIMIT = 200


@login_required
def task_list(request):
    """The signed-in person's open tasks, grouped by source. A client is named, and the
    link to act shown, only when ``clients.access`` lets this viewer open the client
    (asked now, not when the task was written: a care team changes).

    Queries: the tasks (1) and the clients among them the viewer may open (1)."""
    tasks = list(
        OutboxMessage.objects.open_tasks_for(request.user).order_by("scheduled_for", "id")[
            :TASK_LIMIT
        ]
    )
    openable = {
        str(key): label
        for key, label in openable_clients(
            request.user, {t.refs["client"] for t in tasks if t.refs.get("client")}
        ).items()
    }
    groups: dict[str, dict] = {}
    for task in tasks:
        kind = task.refs.get("kind", "")
        source = SOURCES.get(kind)
        group = groups.setdefault(
            kind, {"title": source.title if source else "Other", "items": [], "kind": kind}
        )
        client = task.refs.get("client")
        may_open = client is None or client in openable
        group["items"].append(
            {
                "task": task,
                "client_label": openable.get(client, "") if client else "",
                "url": task.refs.get("url", "") if may_open else "",
            }
        )
    # A task names a client beside what is clinically due for them (a screen to follow
    # up, a measure, a note to sign, a plan to review): a row on each named client's trail.
    audit_list(request, clinical=list(openable))
    order = {key: i for i, key in enumerate(SOURCES)}
    return render(
        request,
        "notifications/tasks.html",
        {
            "groups": sorted(groups.values(), key=lambda g: order.get(g["kind"], 999)),
            "total": len(tasks),
        },
    )


@login_required
def task_count(request):
    """The navigation's badge, fetched by htmx after the page loaded, so no page's
    pinned query count carries it. One query."""
    count = OutboxMessage.objects.open_tasks_for(request.user).count()
    # Rendered without the request: the menu's context processor is not needed here.
    return HttpResponse(render_to_string("notifications/_task_count.html", {"count": count}))


@require_POST
@login_required
def task_done(request):
    form = TaskDoneForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a task.")
    # Only one's own tasks: someone else's answers as a missing one does.
    message = OutboxMessage.objects.filter(
        public_id=form.cleaned_data["task"], staff=request.user, channel=Channel.IN_APP
    ).first()
    if message is None:
        raise Http404("No such task.")
    task_mark_done(message=message, actor=request.user, audit=audit_context(request))
    messages.success(request, "Marked done.")
    return redirect("notifications:tasks")
