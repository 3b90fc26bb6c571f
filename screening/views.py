"""Pages for screens, selections and follow-ups.

Pages about a client go through ``client_view``, pages about one screen, selection or
follow-up through ``owned_view``: both load by opaque id, check the reason, write the
``access.*`` row and answer 404 when there is none. Reading needs CLINICAL (a
supervisor reads); recording needs EDIT and CLINICAL: the care team, medical staff on
it as prescribers, or an admin. A facilitator's reason (attendance) never reaches a
result. Voiding a random selection is an admin's (REVIEW).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.access import Action, Purpose, client_view, owned_view
from iop.audit.services import audit_context, audit_list
from iop.forms import apply_validation_error, form_status
from screening import selectors, services
from screening.forms import (
    AcknowledgeForm,
    BreathConfirmForm,
    BreathForm,
    ConfirmationForm,
    NotCollectedForm,
    UrineCollectForm,
    UrineResultsForm,
    VoidForm,
)
from screening.models import OrderKind, UrineStatus
from screening.rules import AnalyteOutcome, Confirmation

WRITE = Purpose.CLINICAL_WRITE


def _can_write(request) -> bool:
    return request.client_access.can(Action.RECORD_SCREEN)


def _chart(client):
    return redirect(reverse("clients:chart", args=[client.public_id]) + "#section-screening")


def _next(request, default):
    """Back to the collection list or the dashboard when the form came from there."""
    target = request.POST.get("next")
    if target == "collection":
        return redirect("screening:collection_list")
    if target == "dashboard":
        return redirect("dashboard")
    return default


# --- Today's collection list --------------------------------------------------------------


@login_required
def collection_list(request):
    today = timezone.localdate()
    slots = selectors.collection_list(request.user, on=today)
    # A random selection, its status (no-show, refused) and its result are clinical
    # content about each client listed: each gets an access row of their own.
    audit_list(request, clinical=[row.client for slot in slots for row in slot["rows"]])
    return render(
        request,
        "screening/collection_list.html",
        {
            "today": today,
            "slots": slots,
            "void_form": VoidForm(),
        },
    )


# --- Urine screens ------------------------------------------------------------------------


def _collect(request, client, *, selection=None):
    form = UrineCollectForm(request.POST or None, selection=selection)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if selection is not None:
            data["order_kind"] = OrderKind.RANDOM
        try:
            screen = services.urine_collect(
                client=client,
                selection=selection,
                actor=request.user,
                audit=audit_context(request),
                **data,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(screen, "repeated", False):
                messages.info(request, "This specimen was already recorded.")
            elif not screen.temperature_ok:
                messages.warning(
                    request,
                    "Temperature out of range or read late: recollect now under observation. "
                    "Both specimens are tested: enter this one's results when they come.",
                )
            else:
                messages.success(request, "Collection recorded. Enter the results when ready.")
            return redirect("screening:urine_results", screen.public_id)
    return render(
        request,
        "screening/urine_collect.html",
        {
            "form": form,
            "client": client,
            "selection": selection,
            "observation": services.observation_required(client),
        },
        status=form_status(form),
    )


@client_view(WRITE)
def urine_new(request, client):
    return _collect(request, client)


@owned_view("screening.selection", purpose=WRITE)
def selection_collect(request, selection):
    if selection.status != "pending":
        messages.info(request, f"This random test is {selection.get_status_display().lower()}.")
        return _chart(selection.client)
    return _collect(request, selection.client, selection=selection)


@require_POST
@owned_view("screening.selection", purpose=WRITE)
def selection_not_collected(request, selection):
    form = NotCollectedForm(request.POST)
    if form.is_valid():
        try:
            screen = services.urine_not_collected(
                selection=selection,
                status=form.cleaned_data["status"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if not getattr(screen, "repeated", False):
                label = "Refusal" if screen.status == UrineStatus.REFUSED else "No-show"
                messages.success(request, f"{label} recorded; the primary clinician follows up.")
            return redirect("screening:collection_list")
    else:
        messages.error(request, "Choose no-show or refused.")
    return render(
        request,
        "screening/message.html",
        {"title": "Not recorded", "back": reverse("screening:collection_list")},
        status=400,
    )


@require_POST
@owned_view("screening.selection", purpose=Purpose.REVIEW)
def selection_void(request, selection):
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.selection_void(
                selection=selection,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Random test voided.")
            return redirect("screening:collection_list")
    else:
        messages.error(request, "Give the reason for voiding (up to 200 characters).")
    return render(
        request,
        "screening/message.html",
        {"title": "Not voided", "back": reverse("screening:collection_list")},
        status=400,
    )


@owned_view("screening.urine", purpose=Purpose.CLINICAL)
def urine_detail(request, screen):
    return render(
        request,
        "screening/urine_detail.html",
        {
            "screen": screen,
            "client": screen.client,
            "results": list(screen.results.select_related("analyte")),
            "can_write": _can_write(request),
        },
    )


@owned_view("screening.urine", purpose=WRITE)
def urine_results(request, screen):
    if screen.status != UrineStatus.COLLECTED or screen.results_at is not None:
        return redirect("screening:urine_detail", screen.public_id)
    form = UrineResultsForm(request.POST or None, analytes=screen.panel.analytes.all())
    if request.method == "POST":
        extra = sorted(
            key[len("result_") :]
            for key in request.POST
            if key.startswith("result_") and key not in form.fields
        )
        if extra:
            form.is_valid()
            form.add_error(None, f"{len(extra)} result(s) for analytes not on this panel: refused.")
        elif form.is_valid():
            try:
                screen = services.urine_results_record(
                    screen=screen,
                    results=form.results(),
                    actor=request.user,
                    audit=audit_context(request),
                    **form.validity_tests(),
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                if screen.needs_observed_next:
                    messages.warning(
                        request,
                        f"Results recorded: {screen.outcome_label}. The next collection is "
                        "observed; the primary clinician follows up.",
                    )
                else:
                    messages.success(request, f"Results recorded: {screen.outcome_label}.")
                return redirect("screening:urine_detail", screen.public_id)
    return render(
        request,
        "screening/urine_results.html",
        {"form": form, "screen": screen, "client": screen.client},
        status=form_status(form),
    )


@owned_view("screening.urine", purpose=WRITE)
def urine_confirm(request, screen):
    positives = [
        r
        for r in screen.results.select_related("analyte")
        if r.outcome == AnalyteOutcome.POSITIVE and r.confirmation not in Confirmation.FINAL
    ]
    form = ConfirmationForm(request.POST or None, positives=positives)
    if request.method == "POST" and form.is_valid():
        try:
            services.urine_confirmation_record(
                screen=screen,
                analyte_code=form.cleaned_data["analyte"],
                confirmation=form.cleaned_data["confirmation"],
                confirmed_value=form.cleaned_data.get("confirmed_value"),
                confirmed_analyte=form.cleaned_data.get("confirmed_analyte") or "",
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Lab state recorded.")
            return redirect("screening:urine_detail", screen.public_id)
    return render(
        request,
        "screening/urine_confirm.html",
        {"form": form, "screen": screen, "client": screen.client, "positives": positives},
        status=form_status(form),
    )


# --- Breath alcohol -------------------------------------------------------------------------


@client_view(WRITE)
def breath_new(request, client):
    form = BreathForm(request.POST or None, last_device=selectors.last_breath_device(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            test = services.breath_record(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if test.needs_confirmation:
                messages.warning(
                    request,
                    "0.020 or more: confirm with a second test 15 to 30 minutes from now.",
                )
                return redirect("screening:breath_confirm", test.public_id)
            messages.success(request, f"Breath test recorded: {test.outcome_label}.")
            return _next(request, _chart(client))
    return render(
        request,
        "screening/breath_form.html",
        {"form": form, "client": client, "title": "Record a breath-alcohol test"},
        status=form_status(form),
    )


@owned_view("screening.breath", purpose=Purpose.CLINICAL)
def breath_detail(request, test):
    return render(
        request,
        "screening/breath_detail.html",
        {"test": test, "client": test.client, "can_write": _can_write(request)},
    )


@owned_view("screening.breath", purpose=WRITE)
def breath_confirm(request, test):
    if not test.needs_confirmation:
        return redirect("screening:breath_detail", test.public_id)
    form = BreathConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            test = services.breath_confirm(
                test=test, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Confirmation recorded: {test.outcome_label}.")
            return redirect("screening:breath_detail", test.public_id)
    low, high = test.confirm_window
    return render(
        request,
        "screening/breath_form.html",
        {
            "form": form,
            "client": test.client,
            "test": test,
            "window": (low, high),
            "title": "Confirm the breath-alcohol test",
        },
        status=form_status(form),
    )


# --- Follow-up and history -------------------------------------------------------------------


def _render_follow_up(request, follow_up, *, form=None, status=200):
    return render(
        request,
        "screening/follow_up.html",
        {
            "item": follow_up,
            "client": follow_up.client,
            "form": form or AcknowledgeForm(),
            "can_write": _can_write(request),
        },
        status=status,
    )


@owned_view("screening.follow_up", purpose=Purpose.CLINICAL)
def follow_up_detail(request, follow_up):
    return _render_follow_up(request, follow_up)


@require_POST
@owned_view("screening.follow_up", purpose=WRITE)
def follow_up_acknowledge(request, follow_up):
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            result = services.follow_up_acknowledge(
                follow_up=follow_up,
                note=form.cleaned_data["note"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(result, "repeated", False):
                messages.info(request, "This follow-up was already acknowledged.")
            else:
                messages.success(request, "Follow-up acknowledged.")
            return _next(request, _chart(follow_up.client))
    return _render_follow_up(request, follow_up, form=form, status=400)


@client_view(Purpose.CLINICAL)
def history(request, client):
    return render(
        request,
        "screening/history.html",
        {
            "client": client,
            "section": selectors.screen_history(client),
            "can_write": _can_write(request),
        },
    )
