"""The X12 pages: the 837P export as a download (and a batch again), the 835 upload with
the remittances imported, and the denials queue. Claims are scoped through
clients.access with Purpose.BILLING; every export, resend and import is audited by its
service, and every list page writes its read audit."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing.forms_x12 import ExportForm, RemittanceUploadForm
from billing.models import Adjustment, Batch, ClaimLine, ClaimStatus, LineStatus, Remittance
from billing.services import export as export_service
from billing.services.remittance import import_remittance
from billing.x12 import codes
from clients.access import Purpose, clients_for
from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_list
from iop.forms import apply_validation_error
from iop.permissions import role_required

BILLING_ROLES = (Role.BILLING, Role.ADMIN)
PAGE_SIZE = 25
RECENT = 20


def _download(batch: Batch) -> HttpResponse:
    response = HttpResponse(batch.content.encode("ascii"), content_type="application/edi-x12")
    # The name says the payer and the control number: never a client.
    name = f"837P-{batch.payer.code}-{batch.isa_control:09d}.x12"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _last_month_end():
    return timezone.localdate().replace(day=1) - timedelta(days=1)


def _export_page(request, form, status=200):
    within = clients_for(request.user, Purpose.BILLING)
    ready = (
        ClaimLine.objects.filter(
            claim__status=ClaimStatus.READY, claim__client__in=within, claim__payer__active=True
        )
        .values("claim__payer__code", "claim__payer__name")
        .annotate(claims=Count("claim", distinct=True), total=Sum("amount"))
        .order_by("claim__payer__name")
    )
    batches = Batch.objects.select_related("payer", "created_by").order_by("-isa_control")[:RECENT]
    audit_list(request)
    return render(
        request,
        "billing/export.html",
        {"form": form, "ready": list(ready), "batches": list(batches)},
        status=status,
    )


@role_required(*BILLING_ROLES)
def claims_export(request):
    if request.method != "POST":
        return _export_page(request, ExportForm(initial={"through": _last_month_end()}))
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _export_page(request, form, status=400)
    try:
        result = export_service.export_claims(
            payer=form.cleaned_data["payer"],
            through=form.cleaned_data["through"],
            actor=request.user,
            context=audit_context(request),
            within=clients_for(request.user, Purpose.BILLING),
        )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _export_page(request, form, status=400)
    if result.batch is None:
        messages.info(request, result.message)
        return redirect("billing:claims_export")
    if result.skipped:
        messages.warning(request, result.message)
    return _download(result.batch)


@require_POST
@role_required(*BILLING_ROLES)
def batch_resend(request, isa_control):
    batch = get_object_or_404(Batch.objects.select_related("payer"), isa_control=isa_control)
    export_service.resend(batch=batch, actor=request.user, context=audit_context(request))
    return _download(batch)


def _remittances_page(request, form, status=200):
    rows = (
        Remittance.objects.select_related("payer", "imported_by")
        .annotate(lines=Count("payments"))
        .order_by("-imported_at")[:RECENT]
    )
    audit_list(request)
    return render(
        request,
        "billing/remittances.html",
        {"form": form, "remittances": list(rows)},
        status=status,
    )


@role_required(*BILLING_ROLES)
def remittances(request):
    if request.method != "POST":
        return _remittances_page(request, RemittanceUploadForm())
    form = RemittanceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _remittances_page(request, form, status=400)
    try:
        result = import_remittance(
            content=form.cleaned_data["file"].read(),
            actor=request.user,
            context=audit_context(request),
            payer=form.cleaned_data.get("payer"),
        )
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _remittances_page(request, form, status=400)
    (messages.info if result.duplicate else messages.success)(request, result.message)
    return redirect("billing:remittances")


def _reasons(adjustments) -> list[str]:
    out = []
    for adj in adjustments:
        out.append(codes.describe(adj.group_code, adj.carc))
        for remark in filter(None, (r.strip() for r in adj.rarc.split(","))):
            out.append(f"{remark}: {codes.rarc(remark)}")
    return list(dict.fromkeys(out))


@role_required(*BILLING_ROLES)
def denials(request):
    """Denied claim lines of clients the person may reach, newest service first, each
    with the payer's reasons in words (CARC and RARC descriptions)."""
    within = clients_for(request.user, Purpose.BILLING)
    lines = (
        ClaimLine.objects.filter(status=LineStatus.DENIED, claim__client__in=within)
        .select_related("claim__client", "claim__payer")
        .order_by("-service_date", "claim__number", "line_number")
    )
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    by_line, by_claim = defaultdict(list), defaultdict(list)
    claim_ids = {line.claim_id for line in rows}
    for adj in Adjustment.objects.filter(
        Q(line_payment__claim_line__in=rows) | Q(claim__in=claim_ids, line_payment__isnull=True)
    ).select_related("line_payment"):
        if adj.line_payment_id:
            by_line[adj.line_payment.claim_line_id].append(adj)
        else:
            by_claim[adj.claim_id].append(adj)
    for line in rows:
        line.reasons = _reasons(by_line[line.pk] + by_claim[line.claim_id]) or [
            "No reason code given."
        ]
    audit_list(request, listed=[line.claim.client.public_id for line in rows])
    return render(request, "billing/denials.html", {"page": page, "rows": rows})
