from django.shortcuts import render
from django.utils import timezone

from iop.accounts.models import Role
from iop.audit import services, subjects
from iop.audit.forms import AuditFilterForm
from iop.audit.models import AuditEvent
from iop.audit.services import audit_context, audit_record
from iop.csvexport import csv_response
from iop.filters import filter_redirect, posted_values, saved_filter
from iop.permissions import role_required

PAGE_SIZE = 50
EXPORT_BATCH = 1000
EXPORT_COLUMNS = [
    "id",
    "at_utc",
    "actor",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "client_id",
    "client_mrn",
    "client_name",
    "ip_address",
    "detail",
]


# The filter is posted and kept in the session under an opaque id (iop.filters): an
# MRN in the query string would land in access logs and browser history.
FILTER_KIND = "audit"
FILTER_FIELDS = tuple(AuditFilterForm.base_fields)


def _filtered(saved):
    form = AuditFilterForm(saved.data) if saved.data is not None else AuditFilterForm()
    events = AuditEvent.objects.for_listing()
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        events = form.filter(events)
    return form, events, valid


def _cursor(request, name) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@role_required(Role.ADMIN)
def audit_list(request):
    """Newest first, paged by id (keyset): no COUNT(*) of a trail that only grows, and
    a page costs the same at a million rows as at fifty."""
    if request.method == "POST":
        form = AuditFilterForm(request.POST)
        if not form.is_valid():
            return render(request, "audit/list.html", {"form": form, "events": []}, status=400)
        return filter_redirect(
            request,
            kind=FILTER_KIND,
            data=posted_values(request, FILTER_FIELDS),
            to="audit:list",
        )
    saved = saved_filter(request, kind=FILTER_KIND, fields=FILTER_FIELDS)
    if saved.refusal:
        return saved.refuse(request, "audit:list")
    form, events, valid = _filtered(saved)
    before, after = _cursor(request, "before"), _cursor(request, "after")
    if after is not None:
        rows = list(events.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        has_newer, has_older = len(rows) > PAGE_SIZE, True
        rows = rows[:PAGE_SIZE][::-1]
    else:
        if before is not None:
            events = events.filter(id__lt=before)
        rows = list(events[: PAGE_SIZE + 1])
        has_newer, has_older = before is not None, len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
    if not rows:
        has_older = False
    client = form.cleaned_data.get("client") if form.is_bound and valid else None
    described = subjects.describe([client, *(event.client_id for event in rows)])
    for event in rows:
        event.subject = described.get(event.client_id)
    # Each row's client, and the filter's, by MRN and name with what was done and when:
    # the page's own row counts them (written after the rows were read: not among them).
    services.audit_list(request, listed=[client, *(event.client_id for event in rows)])
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "events": rows,
            "newer_after": rows[0].id if rows and has_newer else None,
            "older_before": rows[-1].id if rows and has_older else None,
            "query": saved.query,
            "only_client": described.get(client) if client else None,
        },
        status=200 if valid else 400,
    )


def _export_rows(events):
    """The rows, a batch of events at a time (keyset, newest first), as tuples in
    ``EXPORT_COLUMNS`` order for the one CSV writer, which defuses the cells: a user
    name typed at sign-in reaches this file, and a spreadsheet must never run it."""
    last_id = None
    while True:
        page = events.order_by("-id")
        if last_id is not None:
            page = page.filter(id__lt=last_id)
        batch = list(page[:EXPORT_BATCH])
        if not batch:
            return
        described = subjects.describe(event.client_id for event in batch)
        for event in batch:
            subject = described.get(event.client_id)
            yield (
                event.id,
                event.at.isoformat(),
                event.actor_username,
                event.action,
                event.outcome,
                event.object_type,
                event.object_id,
                event.client_id or "",
                subject.mrn if subject else "",
                subject.name if subject else "",
                event.ip_address or "",
                event.detail,
            )
        last_id = batch[-1].id


@role_required(Role.ADMIN)
def audit_export(request):
    """The filtered trail as CSV, streamed (ONC 170.315(d)(3): the auditor's copy).
    Exporting is itself audited, naming the filters used (not their values)."""
    saved = saved_filter(request, kind=FILTER_KIND, fields=FILTER_FIELDS)
    if saved.refusal:
        return saved.refuse(request, "audit:list")
    form, events, valid = _filtered(saved)
    if not valid:
        return render(request, "audit/list.html", {"form": form, "events": []}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    subject_id = data.get("client") or (
        subjects.resolve_mrn(data["mrn"]) if data.get("mrn") else None
    )
    export = audit_record(
        action="audit.export",
        audit=audit_context(request),
        client=subject_id,
        detail=f"csv; filters={form.used_filters() if form.is_bound else 'none'}",
    )
    # The trail as it stood when asked: rows written while the file streams stay out.
    rows = _export_rows(events.filter(id__lt=export.id))
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return csv_response(EXPORT_COLUMNS, rows, filename=f"audit-{stamp}.csv")
