"""The claims pages (issue 22): the claims list, the held-claims work queue with its
"Check again", and the button that builds charges and claims now.

Every claim shown is one of a client the viewer holds Purpose.BILLING on
(``clients_for``); "Check again" loads its claim through ``owned_view`` (the kind
``billing.claim``), so a staff member without a reason gets 404 and the attempt is on
the trail. Filters are codes (a status, a payer's code), never client data."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing.models import Claim, ClaimStatus, Payer
from billing.services import claims as claim_services
from clients.access import Purpose, clients_for, owned_view
from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_list, audit_record
from iop.permissions import role_required

BILLING_ROLES = (Role.BILLING, Role.ADMIN)
PAGE_SIZE = 50


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *ClaimStatus.choices], required=False)
    payer = forms.ModelChoiceField(
        Payer.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="Any payer",
    )


def claims_for(user):
    """The claims of the clients ``user`` holds Purpose.BILLING on, with what a row shows."""
    return (
        Claim.objects.filter(client__in=clients_for(user, Purpose.BILLING))
        .select_related("client", "payer")
        .annotate(line_count=Count("lines"))
        .order_by("-period_end", "number")
    )


def _page(request, claims):
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    for claim in page:
        claim.reasons = [
            {"label": claim_services.Hold.LABELS.get(r["code"], r["code"]), **r}
            for r in claim.hold_reasons
        ]
    audit_list(request, listed=[claim.client for claim in page])
    return page


@role_required(*BILLING_ROLES)
def claim_list(request):
    form = ClaimFilterForm(request.GET or None)
    claims = claims_for(request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
        claims = claims.none()
    elif form.is_bound:
        if form.cleaned_data["status"]:
            claims = claims.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["payer"]:
            claims = claims.filter(payer=form.cleaned_data["payer"])
    page = _page(request, claims)
    query = "&".join(
        f"{name}={request.GET[name]}" for name in ("status", "payer") if request.GET.get(name)
    )
    return render(
        request,
        "billing/claims/list.html",
        {"form": form, "page": page, "query": query if status == 200 else ""},
        status=status,
    )


@role_required(*BILLING_ROLES)
def held_claims(request):
    page = _page(request, claims_for(request.user).filter(status=ClaimStatus.HELD))
    return render(request, "billing/claims/held.html", {"page": page})


@require_POST
@owned_view("billing.claim", purpose=Purpose.BILLING)
def claim_check(request, claim):
    try:
        claim = claim_services.check_again(
            claim=claim, actor=request.user, context=audit_context(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if claim.status == ClaimStatus.READY:
            messages.success(request, f"Claim {claim.number} passes every check: it is ready.")
        else:
            messages.warning(
                request,
                f"Claim {claim.number} is still held: "
                + " ".join(reason["message"] for reason in claim.hold_reasons),
            )
    return redirect("billing:claims_held")


def _publish() -> bool:
    from billing.tasks import build_charges_and_claims

    try:
        build_charges_and_claims.apply_async(retry=False)
    except Exception:  # noqa: BLE001  (kombu raises many kinds when the broker is down)
        return False
    return True


@require_POST
@role_required(*BILLING_ROLES)
def claims_build(request):
    """Queue the build (charges since the first of last month, claims through the end
    of last month: billing.tasks); the nightly run does the same."""
    audit_record(action="claims.build", audit=audit_context(request), detail="queued")
    transaction.on_commit(_publish)
    messages.info(
        request,
        "Charges and claims are being built in the background: reload this page in a minute.",
    )
    return redirect("billing:claims")
