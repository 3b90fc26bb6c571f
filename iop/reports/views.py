"""Reports pages: the index, a report's page (inline, print, CSV), background runs.

A run belongs to no client: it is reached by its owner only, while they may still run
that report. ``run_view`` loads it by its opaque id, audits the access (allowed or
denied) and answers 404 to anyone else, so the URL walk in
tests/clients/test_access_urls.py covers it like every other UUID route. A finished
run's page shows its stored result as the report's page does (tables, totals, charts),
its filters in words, and the way back to the form with the same filters.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from iop.audit.models import Outcome
from iop.audit.services import audit_context, audit_record
from iop.csvexport import CONTENT_TYPE, csv_response
from iop.reports import services
from iop.reports.models import ReportRun, RunStatus
from iop.reports.registry import REPORTS, reports_for


@login_required
def index(request):
    return render(request, "reports/index.html", {"reports": reports_for(request.user)})


def _report_for(request, key):
    report = REPORTS.get(key)
    if report is None:
        raise Http404("No such report.")
    if not request.user.has_role(*report.roles):
        raise PermissionDenied
    return report


def _bound_form(request, report):
    if not request.GET:
        return report.form(initial=report.form.initial_range(), user=request.user), None
    form = report.form(request.GET, user=request.user)
    return form, form.is_valid()


@login_required
def report_page(request, key, *, printing=False):
    report = _report_for(request, key)
    form, valid = _bound_form(request, report)
    context = {"report": report, "form": form, "printing": printing}
    if not valid:
        return render(request, "reports/report.html", context, status=400 if form.is_bound else 200)
    filters = form.filter_codes()
    context["summary"] = form.summary()
    context["query"] = request.GET.urlencode()
    context["filters"] = filters
    if form.range_days() > report.inline_days:
        # A wide range runs in the worker: offer it, compute nothing here.
        context["background_only"] = True
        return render(request, "reports/report.html", context)
    result = report.runner(user=request.user, filters=form.cleaned_data, progress=None)
    services.report_ran(
        report=report,
        filters=filters,
        actor=request.user,
        result=result,
        fmt="print" if printing else "page",
        audit=audit_context(request),
    )
    context["result"] = result
    context["body_template"] = report.template
    return render(request, "reports/print.html" if printing else "reports/report.html", context)


@login_required
def report_print(request, key):
    return report_page(request, key, printing=True)


def _no_progress(percent) -> None:
    """The inline CSV shows no progress bar: the answer is the download itself."""


@login_required
def report_csv(request, key):
    report = _report_for(request, key)
    form, valid = _bound_form(request, report)
    if not valid:
        return render(request, "reports/report.html", {"report": report, "form": form}, status=400)
    if form.range_days() > report.inline_days:
        return render(
            request,
            "reports/report.html",
            {
                "report": report,
                "form": form,
                "background_only": True,
                "query": request.GET.urlencode(),
            },
            status=400,
        )
    filters = form.filter_codes()
    # A CSV takes only the rows: given ``progress`` (as a background run is), a runner
    # computes nothing else (the registry's contract), not the page's totals and charts.
    result = report.runner(user=request.user, filters=form.cleaned_data, progress=_no_progress)
    services.report_ran(
        report=report,
        filters=filters,
        actor=request.user,
        result=result,
        fmt="csv",
        audit=audit_context(request),
    )
    return csv_response(
        report.csv_columns,
        result["rows"],
        headers=report.csv_header(),
        filename=f"{report.key}-{filters['start']}-{filters['end']}.csv",
    )


@require_POST
@login_required
def report_background(request, key):
    report = _report_for(request, key)
    form = report.form(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "reports/report.html", {"report": report, "form": form}, status=400)
    try:
        run = services.report_run_start(
            report=report,
            filters=form.filter_codes(),
            actor=request.user,
            audit=audit_context(request),
        )
    except ValidationError as exc:
        form.add_error(None, " ".join(exc.messages))
        return render(request, "reports/report.html", {"report": report, "form": form}, status=400)
    return redirect("reports:run", run_id=run.public_id)


def run_view(action: str):
    """Load a run by public id for its owner; audit ``action`` allowed or denied; 404
    for anyone else (a run's existence is nobody else's business)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, run_id, *args, **kwargs):
            run = ReportRun.objects.filter(public_id=run_id).first()
            report = REPORTS.get(run.report) if run is not None else None
            # The owner, while they may still run the report (a role taken away ends it).
            allowed = (
                run is not None
                and run.owner_id == request.user.pk
                and report is not None
                and request.user.has_role(*report.roles)
            )
            audit_record(
                action=action,
                audit=audit_context(request),
                outcome=Outcome.ALLOWED if allowed else Outcome.DENIED,
                object_type="reports.reportrun",
                object_id=str(run_id),
                detail=f"report={run.report}" if allowed else "",
            )
            if not allowed:
                raise Http404("Nothing here.")
            return view(request, run, *args, **kwargs)

        wrapper.access_checked = "owner"
        wrapper.audit_action = action
        return wrapper

    return decorator


@run_view("access.report")
def run_status(request, run):
    report = REPORTS[run.report]
    # Back to the form with the run's filters (codes and ids, as the form reads them), in
    # the form's order (PostgreSQL's jsonb keeps its own order of the stored keys).
    query = [(name, run.filters[name]) for name in report.form.base_fields if name in run.filters]
    context = {
        "run": run,
        "report": report,
        "form_url": reverse("reports:report", args=[report.key]) + "?" + urlencode(query),
    }
    if request.htmx:
        response = render(request, "reports/_run_progress.html", context)
        if run.status == RunStatus.DONE:
            response["HX-Refresh"] = "true"  # the whole page, now with the result
        return response
    form = report.form(run.filters, user=request.user)
    if form.is_valid():
        context["summary"] = form.summary()
    result = services.run_page(run)
    if result is not None:
        result["filters"] = form.cleaned_data if form.is_valid() else {}
        services.run_page_shown(report=report, run=run, result=result, audit=audit_context(request))
        context["result"] = result
        context["body_template"] = report.template
    return render(request, "reports/run.html", context)


@run_view("report.download")
def run_download(request, run):
    if run.status != RunStatus.DONE or not run.file_name:
        raise Http404("The file is not ready.")
    storage = services.report_storage()
    try:
        handle = storage.open(run.file_name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file has expired.") from None
    return FileResponse(
        handle, as_attachment=True, filename=f"{run.report}.csv", content_type=CONTENT_TYPE
    )
