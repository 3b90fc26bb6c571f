"""Forms for medications and measures: they show the services' messages, the services
own the rules (every form field here is also checked by the service)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinical.meds import measures as scoring
from clinical.meds.models import Analyte, FollowUp, MatAgent
from iop.accounts.models import Role
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


def medical_staff():
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.MEDICAL)
        .order_by("last_name", "first_name")
        .distinct()
    )


class MedicationForm(forms.Form):
    mat_agent = forms.ChoiceField(
        label="MAT medication",
        choices=[("", "Not a MAT medication"), *MatAgent.choices],
        required=False,
        help_text="Buprenorphine and methadone make their analytes expected on screens.",
    )
    name = TextField(
        label="Medication",
        max_length=120,
        required=False,
        help_text="Brand or product, e.g. Suboxone film; defaults to the MAT medication.",
    )
    dose = TextField(max_length=60, help_text="e.g. 8 mg/2 mg film")
    schedule = TextField(max_length=80, help_text="e.g. once daily, sublingual")
    prescriber = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="—", help_text="Medical staff of the program."
    )
    outside_prescriber = TextField(
        max_length=120, required=False, help_text="Or a prescriber outside the program."
    )
    started_on = PlausibleDateField(kind=DateKind.RECORD, initial=timezone.localdate)
    ended_on = PlausibleDateField(kind=DateKind.RECORD, required=False, label="Ended on")
    extra_analytes = forms.MultipleChoiceField(
        label="Other analytes it makes expected",
        choices=Analyte.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For a prescribed medication that shows on a screen (e.g. a benzodiazepine).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescriber"].queryset = medical_staff()
        self.helper = _helper("Record medication")


class MedicationStopForm(forms.Form):
    ended_on = PlausibleDateField(
        kind=DateKind.RECORD, label="Last day taken", initial=timezone.localdate
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Stop medication")


class MeasureForm(forms.Form):
    """One radio group per item of the instrument, then the date it was given."""

    administered_on = PlausibleDateField(
        kind=DateKind.RECORD, label="Given on", initial=timezone.localdate
    )

    def __init__(self, *args, spec: scoring.InstrumentSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.fields["administered_on"].widget.attrs["class"] = "form-control"
        for item in spec.items:
            self.fields[f"item_{item.code}"] = forms.TypedChoiceField(
                label=f"{item.code.upper()}. {item.text}",
                choices=[(str(value), f"{value} · {label}") for value, label in item.options],
                coerce=int,
                required=item.required,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": "Answer this item.",
                    "invalid_choice": "Choose one of the answers shown.",
                },
            )

    def item_fields(self):
        return [self[f"item_{item.code}"] for item in self.spec.items]

    def items(self) -> dict:
        return {
            item.code: self.cleaned_data.get(f"item_{item.code}")
            for item in self.spec.items
            if self.cleaned_data.get(f"item_{item.code}") is not None
        }


class AcknowledgeForm(forms.Form):
    follow_up = forms.ChoiceField(label="What was done", choices=FollowUp.choices)


class MeasureAssignForm(forms.Form):
    """Ask the client to answer a measure in the portal, once or every 14 days."""

    instrument = forms.ChoiceField(
        label="Measure",
        choices=[
            (spec.code, f"{spec.label} · {spec.title}") for spec in scoring.INSTRUMENTS.values()
        ],
    )
    schedule = forms.ChoiceField(
        label="How often",
        choices=[("once", "Once"), ("14", "Every 14 days")],
        widget=forms.RadioSelect,
        initial="once",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Ask the client")

    def every_days(self) -> int | None:
        schedule = self.cleaned_data["schedule"]
        return None if schedule == "once" else int(schedule)
