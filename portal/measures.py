"""Measures before group: the questionnaires a clinician asked the client to answer.

The client sees what is due and answers it on the phone, in one form of radio groups
(one fieldset per question, keyboard and screen-reader friendly). The answers go through
``clinical.meds.services.measure_record_by_client``: scored exactly as a staff-entered
measure; a PHQ-9 item 9 above 0 shows the crisis resources on the very answer page and
the flag and the care team's tasks are written in the same transaction.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from clinical.meds import measures as scoring
from clinical.meds import services
from clinical.meds.models import MeasureAssignment
from portal.access import portal_view

# The instrument's period in the client's own words (the staff form's speaks of "the client").
PERIODS = {
    scoring.PHQ9.code: "Over the last 2 weeks, how often have you been bothered by…",
    scoring.GAD7.code: "Over the last 2 weeks, how often have you been bothered by…",
    scoring.BAM.code: "In the past 30 days…",
}


class AnswersForm(forms.Form):
    def __init__(self, *args, spec, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        for item in spec.items:
            self.fields[f"item_{item.code}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[(str(v), label) for v, label in item.options],
                coerce=int,
                required=item.required,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": "Choose an answer.",
                    "invalid_choice": "Choose an answer from the list.",
                },
            )

    def items(self) -> dict:
        return {
            item.code: self.cleaned_data[f"item_{item.code}"]
            for item in self.spec.items
            if self.cleaned_data.get(f"item_{item.code}") is not None
        }


def _due(client):
    return list(
        MeasureAssignment.objects.active()
        .filter(client=client, next_due_on__lte=timezone.localdate())
        .order_by("next_due_on", "id")
    )


def due_count(client) -> int:
    return (
        MeasureAssignment.objects.active()
        .filter(client=client, next_due_on__lte=timezone.localdate())
        .count()
    )


@portal_view("measures")
def measure_list(request):
    client = request.portal_client
    active = list(MeasureAssignment.objects.active().filter(client=client).order_by("next_due_on"))
    today = timezone.localdate()
    for a in active:
        a.spec = scoring.INSTRUMENTS[a.instrument]
    return render(
        request,
        "portal/measures.html",
        {
            "due": [a for a in active if a.next_due_on <= today],
            "later": [a for a in active if a.next_due_on > today],
        },
    )


def crisis_context() -> dict:
    return {"program_phone": settings.IOP_PROGRAM_PHONE}


@portal_view("measure_answer")
def measure_answer(request, assignment_id):
    client = request.portal_client
    # Only the signed-in client's own assignment: another's id is 404, as is an unknown one.
    assignment = MeasureAssignment.objects.filter(client=client, public_id=assignment_id).first()
    if assignment is None:
        raise Http404
    spec = scoring.INSTRUMENTS[assignment.instrument]
    form = AnswersForm(request.POST if request.method == "POST" else None, spec=spec)
    if request.method == "POST":
        if form.is_valid():
            try:
                measure = services.measure_record_by_client(
                    assignment=assignment, items=form.items(), audit=request.portal_audit
                )
            except ValidationError as exc:
                _apply(form, exc)
            else:
                if measure.safety_flag:
                    # At once, on the answer itself: not a link to follow later.
                    return render(request, "portal/crisis.html", crisis_context())
                if getattr(measure, "repeated", False):
                    messages.info(request, "Your answers were already sent.")
                else:
                    messages.success(request, f"Thank you: your {spec.label} answers were sent.")
                return redirect("portal:measures")
    elif assignment.ended_at is not None or assignment.next_due_on > timezone.localdate():
        messages.info(request, "This questionnaire is not due now.")
        return redirect("portal:measures")
    return render(
        request,
        "portal/measure_answer.html",
        {"form": form, "spec": spec, "period": PERIODS[spec.code], **crisis_context()},
        status=400 if form.is_bound else 200,
    )


def _apply(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


urlpatterns = [
    path("questionnaires/", measure_list, name="measures"),
    path("questionnaires/<uuid:assignment_id>/", measure_answer, name="measure_answer"),
]
