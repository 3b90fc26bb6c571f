"""The admin's outbox page: what went out, what failed and why, retry and cancel.

Program admins only; client message bodies are shown here and nowhere else. Every
view is audited (``outbox.view``) and every action writes its own row."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_record
from iop.notifications.forms import OutboxActionForm, OutboxFilterForm
from iop.notifications.models import Channel, OutboxMessage, OutboxStatus
from iop.notifications.services import outbox_cancel, outbox_retry
from iop.notifications.sources import clinic_tz
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
        for row in OutboxMessage.objects.values("status", "channel").annotate(n=Count("id"))
    }
    table = [
        {
            "status": label,
            "cells": [counts.get((status, channel), 0) for channel in Channel.values],
        }
        for status, label in OutboxStatus.choices
    ]
    audit_record(
        action="outbox.view",
        audit=audit_context(request),
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
            "rows": list(messages_qs[:PAGE_SIZE]),
            "failed": list(
                OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("-id")[:20]
            ),
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
        messages.error(request, " ".join(exc.messages))
        return redirect("notifications:outbox")
    messages.success(request, "Done.")
    return redirect("notifications:outbox")
