"""Pages for medication records and outcome measures.

Pages about a client go through ``client_view``; pages about one medication or one
measure through ``owned_view``: both load by opaque id, check the reason, write the
``access.*`` row and answer 404 when there is none. Writes need EDIT and CLINICAL
(the care team, medical staff on it); reads need CLINICAL (a supervisor reads).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clients.access import Action, Purpose, client_view, owned_view
from clinical.meds import measures as scoring
from clinical.meds import services
from clinical.meds.forms import (
    AcknowledgeForm,
    MeasureAssignForm,
    MeasureForm,
    MedicationForm,
    MedicationStopForm,
)
from iop.audit.services import audit_context
from iop.forms import apply_validation_error

WRITE = Purpose.CLINICAL_WRITE


def _status(form):
    return 400 if form.is_bound else 200


def _chart(client, section: str):
    return redirect(reverse("clients:chart", args=[client.public_id]) + f"#section-{section}")


# --- Medications -------------------------------------------------------------------------


@client_view(WRITE)
def medication_add(request, client):
    form = MedicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            medication = services.medication_add(
                client=client, actor=request.user, audit=audit_context(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(medication, "repeated", False):
                messages.info(request, "This medication was already recorded.")
            else:
                messages.success(request, "Medication recorded.")
            return _chart(client, "medications")
    return render(
        request,
        "clinical/meds/medication_form.html",
        {"form": form, "client": client, "title": "Record a medication"},
        status=_status(form),
    )


@owned_view("clinical.medication", purpose=WRITE)
def medication_stop(request, medication):
    client = medication.client
    form = MedicationStopForm(request.POST or None)
    if medication.ended_on is not None and request.method != "POST":
        messages.info(request, "This medication is already stopped.")
        return _chart(client, "medications")
    if request.method == "POST" and form.is_valid():
        try:
            services.medication_stop(
                medication=medication,
                ended_on=form.cleaned_data["ended_on"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Medication stopped.")
            return _chart(client, "medications")
    return render(
        request,
        "clinical/meds/medication_form.html",
        {
            "form": form,
            "client": client,
            "medication": medication,
            "title": f"Stop {medication.name} {medication.dose}",
        },
        status=_status(form),
    )


# --- Outcome measures --------------------------------------------------------------------


@client_view(WRITE)
def measure_add(request, client, instrument):
    spec = scoring.INSTRUMENTS.get(instrument)
    if spec is None:
        raise Http404("No such measure.")
    form = MeasureForm(request.POST or None, spec=spec)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.measure_record(
                client=client,
                instrument=spec.code,
                administered_on=form.cleaned_data["administered_on"],
                items=form.items(),
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            result = scoring.band_label(spec.code, measure.band)
            if getattr(measure, "repeated", False):
                messages.info(request, f"This {spec.label} was already recorded.")
            elif measure.score is not None:
                messages.success(request, f"{spec.label} recorded: {measure.score}, {result}.")
            else:
                messages.success(request, f"{spec.label} recorded: {result}.")
            if measure.flag_open:
                messages.warning(
                    request,
                    "Safety flag: PHQ-9 item 9 was answered above 0. Follow up with the "
                    "client today and acknowledge the flag with what was done.",
                )
            return _chart(client, "measures")
    return render(
        request,
        "clinical/meds/measure_form.html",
        {"form": form, "client": client, "spec": spec},
        status=_status(form),
    )


@owned_view("clinical.measure", purpose=Purpose.CLINICAL)
def measure_detail(request, measure):
    return _render_detail(request, measure)


def _render_detail(request, measure, *, form=None, status=200):
    spec = scoring.INSTRUMENTS[measure.instrument]
    answers = [
        {
            "item": item,
            "value": measure.items.get(item.code),
            "label": dict(item.options).get(measure.items.get(item.code), "—"),
        }
        for item in spec.items
    ]
    return render(
        request,
        "clinical/meds/measure_detail.html",
        {
            "measure": measure,
            "client": measure.client,
            "spec": spec,
            "answers": answers,
            "band_label": scoring.band_label(spec.code, measure.band),
            "subscales": [
                (label, measure.subscores.get(key)) for key, label, _ in scoring.BAM_SUBSCALES
            ]
            if measure.subscores
            else [],
            "can_acknowledge": request.client_access.can(Action.WRITE_CLINICAL),
            "acknowledge_form": form or AcknowledgeForm(),
        },
        status=status,
    )


@require_POST
@owned_view("clinical.measure", purpose=WRITE)
def measure_acknowledge(request, measure):
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            result = services.measure_flag_acknowledge(
                measure=measure,
                follow_up=form.cleaned_data["follow_up"],
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if getattr(result, "repeated", False):
                messages.info(request, "This safety flag was already acknowledged.")
            else:
                messages.success(request, "Safety flag acknowledged.")
            if request.POST.get("next") == "dashboard":
                return redirect("dashboard")
            return _chart(measure.client, "measures")
    # The refusal is shown on the measure's page with the form's message.
    return _render_detail(request, measure, form=form, status=400)


# --- Measures the client answers in the portal ------------------------------------------


@client_view(WRITE)
def measure_assign(request, client):
    form = MeasureAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = services.measure_assign(
                client=client,
                instrument=form.cleaned_data["instrument"],
                every_days=form.every_days(),
                actor=request.user,
                audit=audit_context(request),
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            label = assignment.get_instrument_display()
            if getattr(assignment, "repeated", False):
                messages.info(
                    request, f"The {label} is already asked for ({assignment.schedule_label})."
                )
            else:
                messages.success(
                    request,
                    f"The client will see the {label} in the portal ({assignment.schedule_label}).",
                )
            return _chart(client, "measures")
    return render(
        request,
        "clinical/meds/measure_assign.html",
        {"form": form, "client": client},
        status=_status(form),
    )


@require_POST
@owned_view("clinical.measureassignment", purpose=WRITE)
def measure_assignment_end(request, assignment):
    services.measure_assignment_end(
        assignment=assignment, actor=request.user, audit=audit_context(request)
    )
    messages.success(request, f"The {assignment.get_instrument_display()} is no longer asked for.")
    return _chart(assignment.client, "measures")
