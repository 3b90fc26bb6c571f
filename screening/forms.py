"""Forms for screens: they parse and show the services' messages; the services own
the rules (every check here is made again by the service)."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone

from iop.forms import TextField
from screening import rules
from screening.models import OrderKind, Panel, UrineStatus
from screening.rules import AnalyteOutcome, Confirmation, TemperatureUnit

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


def _now_local() -> str:
    return timezone.localtime().strftime(DATETIME_INPUT)


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input in the clinic's time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        )
        kwargs.setdefault("input_formats", [DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        kwargs.setdefault("initial", _now_local)
        super().__init__(**kwargs)


def _decimal(label, *, digits, places, required=False, **kwargs):
    return forms.DecimalField(
        label=label,
        max_digits=digits,
        decimal_places=places,
        required=required,
        error_messages={
            "invalid": f"Enter {label.lower()} as a number.",
            "max_digits": f"That is not a plausible {label.lower()}.",
            "max_decimal_places": f"{label} has at most {places} decimals.",
            "max_whole_digits": f"That is not a plausible {label.lower()}.",
        },
        **kwargs,
    )


class UrineCollectForm(forms.Form):
    order_kind = forms.ChoiceField(
        label="Order",
        choices=[(OrderKind.SCHEDULED, "Scheduled"), (OrderKind.FOR_CAUSE, "For cause")],
        initial=OrderKind.SCHEDULED,
    )
    cause = TextField(
        label="Reason for cause", max_length=200, required=False, help_text="Only for cause."
    )
    collected_at = LocalDateTimeField(label="Collected at")
    specimen_id = TextField(
        label="Specimen / chain-of-custody id",
        max_length=40,
        help_text="The form number on the custody form and the specimen label.",
    )
    panel = forms.ModelChoiceField(queryset=None, empty_label=None)
    # Four whole digits: 1000 °F reaches the service and its range message.
    temperature = _decimal(
        "Temperature",
        digits=5,
        places=1,
        required=True,
        help_text="Read within 4 minutes; 32-38 °C (89.6-100.4 °F) is in range, otherwise "
        "recollect observed.",
    )
    temperature_unit = forms.ChoiceField(
        label="Unit",
        choices=TemperatureUnit.CHOICES,
        initial=TemperatureUnit.CELSIUS,
        error_messages={"invalid_choice": "Choose °C or °F."},
    )
    temperature_read_in_time = forms.BooleanField(
        label="Temperature read within 4 minutes", required=False, initial=True
    )
    observed = forms.BooleanField(label="Observed collection", required=False)
    tampering_suspected = forms.BooleanField(label="Tampering suspected", required=False)

    def __init__(self, *args, selection=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["panel"].queryset = Panel.objects.filter(active=True)
        default = Panel.objects.filter(active=True, is_default=True).first()
        if default is not None:
            self.fields["panel"].initial = default.pk
        if selection is not None:
            # The day's random selection is the order.
            del self.fields["order_kind"]
            del self.fields["cause"]
        self.helper = _helper("Record collection")
        # The unit beside the value it qualifies.
        self.helper.layout = Layout(
            *[name for name in ("order_kind", "cause") if name in self.fields],
            "collected_at",
            "specimen_id",
            "panel",
            Row(
                Column("temperature", css_class="col-7 col-sm-6"),
                Column("temperature_unit", css_class="col-5 col-sm-3"),
            ),
            "temperature_read_in_time",
            "observed",
            "tampering_suspected",
        )


class UrineResultsForm(forms.Form):
    """One result (and optional measured value) per analyte on the screen's panel.

    Every result starts blank and is required: a rushed entry must not record a
    negative nobody read."""

    creatinine_mg_dl = _decimal("Creatinine (mg/dL)", digits=6, places=1)
    specific_gravity = _decimal("Specific gravity", digits=5, places=4)
    # The other validity tests, where the cup or the lab reports them (optional).
    ph = _decimal("pH", digits=4, places=2)
    nitrite_ug_ml = _decimal("Nitrite (µg/mL)", digits=8, places=1)
    oxidant = forms.TypedChoiceField(
        label="Oxidant",
        choices=[("", "Not tested"), ("no", "Not detected"), ("yes", "Detected")],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose not tested, not detected or detected."},
    )
    invalid_reason = forms.ChoiceField(
        label="Lab's invalid reason",
        choices=rules.InvalidReason.CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": "Choose one of the lab's invalid reasons."},
    )

    def __init__(self, *args, analytes, **kwargs):
        super().__init__(*args, **kwargs)
        self.analytes = list(analytes)
        for analyte in self.analytes:
            self.fields[f"result_{analyte.code}"] = forms.ChoiceField(
                label=analyte.name,
                choices=[("", "Choose…"), *AnalyteOutcome.CHOICES],
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                error_messages={
                    "invalid_choice": "Choose negative, positive or invalid.",
                    "required": f"Give the {analyte.name} result.",
                },
            )
            self.fields[f"value_{analyte.code}"] = _decimal(
                "Measured value",
                digits=10,
                places=1,
                widget=forms.NumberInput(
                    attrs={"class": "form-control form-control-sm", "step": "0.1", "min": "0"}
                ),
            )

    def clean(self):
        data = super().clean()
        blank = [a.name for a in self.analytes if not self.data.get(f"result_{a.code}")]
        if blank:
            raise forms.ValidationError(
                f"Give a result for every analyte: {', '.join(blank)} "
                f"{'is' if len(blank) == 1 else 'are'} still blank."
            )
        return data

    def rows(self):
        return [
            {
                "analyte": a,
                "result": self[f"result_{a.code}"],
                "value": self[f"value_{a.code}"],
            }
            for a in self.analytes
        ]

    def validity_tests(self) -> dict:
        data = self.cleaned_data
        return {
            "creatinine_mg_dl": data.get("creatinine_mg_dl"),
            "specific_gravity": data.get("specific_gravity"),
            "ph": data.get("ph"),
            "nitrite_ug_ml": data.get("nitrite_ug_ml"),
            "oxidant": data.get("oxidant"),
            "invalid_reason": data.get("invalid_reason") or "",
        }

    def results(self) -> dict:
        return {
            a.code: (
                self.cleaned_data[f"result_{a.code}"],
                self.cleaned_data.get(f"value_{a.code}"),
            )
            for a in self.analytes
        }


class ConfirmationForm(forms.Form):
    analyte = forms.ChoiceField(label="Analyte")
    confirmation = forms.ChoiceField(
        label="Lab state", choices=[c for c in Confirmation.CHOICES if c[0]]
    )
    confirmed_analyte = forms.ChoiceField(
        label="Measured as",
        required=False,
        help_text="For a group with a cutoff per analyte (codeine 2,000, morphine 4,000 ng/mL).",
        error_messages={"invalid_choice": "Choose an analyte of the group."},
    )
    confirmed_value = _decimal("Confirmed value (ng/mL)", digits=10, places=1)

    def __init__(self, *args, positives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analyte"].choices = [(r.analyte.code, r.analyte.name) for r in positives]
        names = sorted({name for r in positives for name in (r.confirm_cutoffs or {})})
        if names:
            self.fields["confirmed_analyte"].choices = [
                ("", "The group"),
                *[(n, n) for n in names],
            ]
        else:
            del self.fields["confirmed_analyte"]
        self.helper = _helper("Record lab state")


class BreathForm(forms.Form):
    tested_at = LocalDateTimeField(label="Tested at")
    bac = _decimal(
        "BAC (g/210 L)",
        digits=4,
        places=3,
        required=True,
        help_text="0.000 to 0.400; 0.020 or more needs a confirmation 15-30 minutes later.",
    )
    device = TextField(
        max_length=80,
        help_text="Make, model or asset number; the one you used last is filled in.",
    )

    def __init__(self, *args, last_device: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if last_device:
            self.fields["device"].initial = last_device
        self.fields["bac"].widget.attrs.update({"step": "0.001", "min": "0", "max": "0.400"})
        self.helper = _helper("Record breath test")


class BreathConfirmForm(forms.Form):
    confirm_at = LocalDateTimeField(label="Confirmation at")
    confirm_bac = _decimal("Confirmation BAC (g/210 L)", digits=4, places=3, required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm_bac"].widget.attrs.update(
            {"step": "0.001", "min": "0", "max": str(rules.BAC_RANGE[1])}
        )
        self.helper = _helper("Record confirmation")


class AcknowledgeForm(forms.Form):
    note = TextField(
        label="What was done",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Discussed with the client, plan changed, referred… (stays on the item).",
    )


class VoidForm(forms.Form):
    reason = TextField(label="Reason", max_length=200)


class NotCollectedForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(UrineStatus.NO_SHOW, "No-show"), (UrineStatus.REFUSED, "Refused")]
    )


def bac_display(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.3f}"
