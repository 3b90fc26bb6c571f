"""Billing pages: payers and fees, the billing provider, the billing client list and
page, coverage, diagnoses and authorizations. Every page naming a client goes through
clients.access with Purpose.BILLING (intake's coverage step with Purpose.EDIT)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing import icd, selectors
from billing.forms import (
    AuthorizationForm,
    BillingProviderForm,
    CoverageEndForm,
    CoverageForm,
    DiagnosisForm,
    FeeForm,
    IcdSearchForm,
    PayerForm,
)
from billing.models import Authorization, Coverage, Diagnosis, Payer
from billing.services import authorizations, coverage, diagnoses, payers
from clients import intake
from clients.access import Purpose, client_view
from iop.accounts.models import Role
from iop.audit.services import audit_context, audit_list
from iop.forms import apply_validation_error, render_form
from iop.permissions import role_required

BILLING_ROLES = (Role.BILLING, Role.ADMIN)
PAGE_SIZE = 25


def _saved(request, form, call, message):
    """Run a service with the form's data; a refusal goes back onto the form."""
    try:
        result = call()
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return None
    if getattr(result, "repeated", False):
        messages.info(request, "This was already recorded; nothing was added.")
    else:
        messages.success(request, message)
    return result


# --- Payers, fees, the billing provider -------------------------------------------------


@role_required(*BILLING_ROLES)
def payer_list(request):
    rows = Payer.objects.prefetch_related("fees").order_by("-active", "name")
    return render(
        request,
        "billing/payers.html",
        {"payers": rows, "provider": payers.billing_provider()},
    )


@role_required(Role.ADMIN)
def payer_add(request):
    form = PayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        payer = _saved(
            request,
            form,
            lambda: payers.payer_save(
                actor=request.user, audit=audit_context(request), **form.cleaned_data
            ),
            "Payer added.",
        )
        if payer is not None:
            return redirect("billing:payer", payer.code)
    return render_form(request, "billing/form.html", {"form": form, "title": "Add a payer"}, form)


@role_required(*BILLING_ROLES)
def payer_detail(request, code):
    payer = get_object_or_404(Payer, code=code)
    fees = payer.fees.order_by("code", "modifier", "-effective_on")
    form = FeeForm(request.POST or None) if request.user.has_role(Role.ADMIN) else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            fee = _saved(
                request,
                form,
                lambda: payers.fee_add(
                    payer=payer,
                    actor=request.user,
                    audit=audit_context(request),
                    **form.cleaned_data,
                ),
                "Fee added.",
            )
            if fee is not None:
                return redirect("billing:payer", payer.code)
    context = {"payer": payer, "fees": fees, "form": form}
    if form is None:
        return render(request, "billing/payer.html", context)
    return render_form(request, "billing/payer.html", context, form)


@role_required(Role.ADMIN)
def payer_edit(request, code):
    payer = get_object_or_404(Payer, code=code)
    form = PayerForm(request.POST or None, instance=payer)
    if request.method == "POST" and form.is_valid():
        payer = _saved(
            request,
            form,
            lambda: payers.payer_save(
                payer=Payer.objects.get(pk=payer.pk),
                actor=request.user,
                audit=audit_context(request),
                **form.cleaned_data,
            ),
            "Payer saved.",
        )
        if payer is not None:
            return redirect("billing:payer", payer.code)
    return render_form(
        request, "billing/form.html", {"form": form, "title": f"Edit payer {code}"}, form
    )


@role_required(*BILLING_ROLES)
def provider_edit(request):
    provider = payers.billing_provider()
    form = BillingProviderForm(request.POST or None, instance=provider)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: payers.provider_save(
                actor=request.user, audit=audit_context(request), **form.cleaned_data
            ),
            "Billing provider saved.",
        )
        if saved is not None:
            return redirect("billing:payers")
    return render_form(
        request,
        "billing/form.html",
        {"form": form, "title": "Billing provider (the program on its claims)"},
        form,
    )


# --- Clients ---------------------------------------------------------------------------


@role_required(*BILLING_ROLES)
def client_list(request):
    page = Paginator(selectors.billing_clients(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit_list(request, listed=page)
    return render(request, "billing/clients.html", {"page": page})


@client_view(Purpose.BILLING)
def client_billing(request, client):
    context = selectors.client_billing(client)
    return render(request, "billing/client.html", {"client": client, **context})


def _coverage_page(request, client, *, form, title, back, template="billing/form.html", **extra):
    return render_form(
        request,
        template,
        {"form": form, "client": client, "title": title, "back": back, **extra},
        form,
    )


@client_view(Purpose.BILLING)
def coverage_add(request, client):
    form = CoverageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: coverage.coverage_add(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            ),
            "Coverage added.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return _coverage_page(request, client, form=form, title="Add coverage", back="billing:client")


@client_view(Purpose.EDIT)
def intake_coverage(request, client):
    """Intake's step: the client's coverage recorded during registration."""
    form = CoverageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: coverage.coverage_add(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            ),
            "Coverage recorded.",
        )
        if saved is not None:
            step = intake.progress(client, "coverage")
            if step is not None and step.following_url:
                return redirect(step.following_url)
            return redirect("clients:chart", client.public_id)
    return _coverage_page(
        request,
        client,
        form=form,
        title="Coverage",
        back="clients:chart",
        template="billing/intake_coverage.html",
        coverages=Coverage.objects.filter(client=client).select_related("payer"),
        intake_progress=intake.progress(client, "coverage"),
    )


def _coverage_of(client, coverage_id) -> Coverage:
    try:
        return Coverage.objects.select_related("payer").get(client=client, public_id=coverage_id)
    except Coverage.DoesNotExist as exc:
        raise Http404("No coverage here.") from exc


@client_view(Purpose.BILLING)
def coverage_edit(request, client, coverage_id):
    found = _coverage_of(client, coverage_id)
    form = CoverageForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: coverage.coverage_update(
                coverage=found,
                actor=request.user,
                audit=audit_context(request),
                **form.cleaned_data,
            ),
            "Coverage saved.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return _coverage_page(
        request, client, form=form, title=f"Edit coverage: {found}", back="billing:client"
    )


@client_view(Purpose.BILLING)
def coverage_end(request, client, coverage_id):
    found = _coverage_of(client, coverage_id)
    form = CoverageEndForm(request.POST or None, initial={"ends_on": found.ends_on})
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: coverage.coverage_end(
                coverage=found,
                ends_on=form.cleaned_data["ends_on"],
                actor=request.user,
                audit=audit_context(request),
            ),
            "Coverage ended.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return _coverage_page(
        request, client, form=form, title=f"End coverage: {found}", back="billing:client"
    )


@client_view(Purpose.BILLING)
def diagnosis_add(request, client):
    episodes = selectors.billing_episodes(client).order_by("-admitted_on")
    form = DiagnosisForm(request.POST or None, episodes=episodes)
    search = IcdSearchForm(request.GET or None)
    query = search.cleaned_data.get("q", "") if search.is_valid() else ""
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: diagnoses.diagnosis_add(
                episode=form.cleaned_data["episode"],
                code=form.cleaned_data["code"],
                principal=form.cleaned_data["principal"],
                actor=request.user,
                audit=audit_context(request),
            ),
            "Diagnosis added.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return render_form(
        request,
        "billing/diagnosis_form.html",
        {
            "form": form,
            "client": client,
            "search": search,
            "query": query,
            "codes": icd.search(query),
            "release": icd.RELEASE,
            "title": "Add a diagnosis",
            "back": "billing:client",
            "has_episode": episodes.exists(),
        },
        form,
    )


@require_POST
@client_view(Purpose.BILLING)
def diagnosis_remove(request, client, diagnosis_id):
    found = Diagnosis.objects.filter(episode__client=client, public_id=diagnosis_id).first()
    if found is None:
        raise Http404("No diagnosis here.")
    diagnoses.diagnosis_remove(diagnosis=found, actor=request.user, audit=audit_context(request))
    messages.success(request, f"Diagnosis {found.code} removed.")
    return redirect("billing:client", client.public_id)


@client_view(Purpose.BILLING)
def authorization_add(request, client):
    form = AuthorizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: authorizations.authorization_add(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            ),
            "Authorization added.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return _coverage_page(
        request, client, form=form, title="Add an authorization", back="billing:client"
    )


@client_view(Purpose.BILLING)
def authorization_edit(request, client, authorization_id):
    found = Authorization.objects.filter(client=client, public_id=authorization_id).first()
    if found is None:
        raise Http404("No authorization here.")
    form = AuthorizationForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: authorizations.authorization_update(
                authorization=found,
                actor=request.user,
                audit=audit_context(request),
                **form.cleaned_data,
            ),
            "Authorization saved.",
        )
        if saved is not None:
            return redirect("billing:client", client.public_id)
    return _coverage_page(
        request,
        client,
        form=form,
        title=f"Edit authorization {found.reference}",
        back="billing:client",
    )


@require_POST
@client_view(Purpose.EDIT)
def intake_self_pay(request, client):
    """Intake's answer "no insurance": the coverage step is done without a coverage."""
    coverage.self_pay_record(client=client, actor=request.user, audit=audit_context(request))
    messages.success(request, "Recorded: the client pays for themselves.")
    step = intake.progress(client, "coverage")
    if step is not None and step.following_url:
        return redirect(step.following_url)
    return redirect("clients:chart", client.public_id)
