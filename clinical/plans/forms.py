"""Forms of the treatment and relapse-prevention plans. They check shape and length
for the message; the services in ``clinical.plans.services`` own the rules."""

from datetime import date

from django import forms

from clients.models import asam_dimensions
from clinical.plans import services as rules
from clinical.plans.models import ClientAgreement
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField

OBJECTIVE_SLOTS = 3
INTERVENTION_SLOTS = 2
# One item a line; the service counts lines and their length.
LINES_MAX = rules.MAX_LINES * (rules.LINE_MAX + 2)


def _area(rows=2, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class ProblemForm(forms.Form):
    """One problem with its goal, objectives and interventions, in fixed slots.

    Every field is optional here: a blank form is no problem at all, and what a
    filled-in one must hold is the service's rule (the message comes back at the top).
    """

    # Choices: the dimensions of the episode's ASAM edition (``__init__``).
    dimension = forms.ChoiceField(label="ASAM dimension", choices=(), required=False)
    problem = TextField(
        max_length=rules.PROBLEM_MAX, required=False, widget=_area(), label="Problem"
    )
    goal = TextField(max_length=rules.GOAL_MAX, required=False, widget=_area(1))

    def __init__(self, *args, staff_choices=(), edition=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dimension"].choices = [("", "—"), *asam_dimensions(edition)]
        for n in range(1, OBJECTIVE_SLOTS + 1):
            self.fields[f"objective_{n}"] = TextField(
                label=f"Measurable objective {n}", max_length=rules.LINE_MAX, required=False
            )
            self.fields[f"target_{n}"] = PlausibleDateField(
                kind=DateKind.SCHEDULE, label="Target date", required=False
            )
        for n in range(1, INTERVENTION_SLOTS + 1):
            self.fields[f"modality_{n}"] = TextField(
                label=f"Intervention {n}: modality", max_length=rules.SHORT_MAX, required=False
            )
            self.fields[f"frequency_{n}"] = TextField(
                label="Frequency", max_length=rules.SHORT_MAX, required=False
            )
            self.fields[f"staff_{n}"] = forms.TypedChoiceField(
                label="Responsible",
                choices=[("", "—"), *staff_choices],
                coerce=int,
                empty_value=None,
                required=False,
            )

    @staticmethod
    def initial_from(problem: dict) -> dict:
        initial = {k: problem.get(k, "") for k in ("dimension", "problem", "goal")}
        for n, o in enumerate(problem.get("objectives", [])[:OBJECTIVE_SLOTS], start=1):
            initial[f"objective_{n}"] = o["text"]
            initial[f"target_{n}"] = date.fromisoformat(o["target_on"])
        for n, i in enumerate(problem.get("interventions", [])[:INTERVENTION_SLOTS], start=1):
            initial[f"modality_{n}"] = i["modality"]
            initial[f"frequency_{n}"] = i["frequency"]
            initial[f"staff_{n}"] = i["staff_id"]
        return initial

    def to_raw(self, staff_by_pk: dict) -> dict:
        data = self.cleaned_data
        return {
            "dimension": data.get("dimension", ""),
            "problem": data.get("problem", ""),
            "goal": data.get("goal", ""),
            "objectives": [
                {"text": data.get(f"objective_{n}", ""), "target_on": data.get(f"target_{n}")}
                for n in range(1, OBJECTIVE_SLOTS + 1)
            ],
            "interventions": [
                {
                    "modality": data.get(f"modality_{n}", ""),
                    "frequency": data.get(f"frequency_{n}", ""),
                    "staff": staff_by_pk.get(data.get(f"staff_{n}")),
                }
                for n in range(1, INTERVENTION_SLOTS + 1)
            ],
        }


# A problem more than the plan holds is offered blank at the end; a forged form count
# is cut at absolute_max rather than building thousands of forms.
ProblemFormSet = forms.formset_factory(
    ProblemForm,
    extra=1,
    max_num=rules.MAX_PROBLEMS,
    validate_max=True,
    absolute_max=rules.MAX_PROBLEMS + 1,
)


class TreatmentDraftForm(forms.Form):
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    client_words = TextField(
        label="The client's own words",
        help_text="What the client wants from treatment, in their words.",
        max_length=rules.CLIENT_WORDS_MAX,
        required=False,
        widget=_area(3),
    )


class TreatmentReviewForm(forms.Form):
    of_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    client_agreement = forms.ChoiceField(
        label="The client", choices=ClientAgreement.choices, widget=forms.RadioSelect
    )
    client_signed_on = PlausibleDateField(
        kind=DateKind.RECORD,
        label="Date the client signed",
        required=False,
        help_text="Leave empty when the client declined to sign.",
    )
    review_summary = TextField(
        label="What changed and why (staff only)",
        max_length=rules.SUMMARY_MAX,
        required=False,
        widget=_area(3),
    )
    attest = forms.BooleanField(
        label="I reviewed this plan with the client and sign it as the responsible clinician.",
        error_messages={"required": "Tick the box to sign the plan."},
    )


class RelapsePlanForm(forms.Form):
    of_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    triggers_people = TextField(label="People", required=False, max_length=LINES_MAX)
    triggers_places = TextField(label="Places", required=False, max_length=LINES_MAX)
    triggers_emotions = TextField(label="Emotions", required=False, max_length=LINES_MAX)
    triggers_workplace = TextField(
        label="Workplace stressors", required=False, max_length=LINES_MAX
    )
    warning_signs = TextField(required=False, max_length=LINES_MAX)
    coping_strategies = TextField(required=False, max_length=LINES_MAX)
    workplace_strategies = TextField(
        label="Strategies for workplace stress", required=False, max_length=LINES_MAX
    )
    emergency_steps = TextField(
        label="When the risk is high, I will",
        help_text="The 988 Suicide & Crisis Lifeline is always printed with these steps.",
        required=False,
        max_length=LINES_MAX,
    )
    reasons_for_recovery = TextField(required=False, max_length=LINES_MAX)
    internal_note = TextField(
        label="Internal note (staff only, never printed)",
        required=False,
        max_length=rules.NOTE_MAX,
    )

    LIST_FIELDS = (
        "triggers_people",
        "triggers_places",
        "triggers_emotions",
        "triggers_workplace",
        "warning_signs",
        "coping_strategies",
        "workplace_strategies",
        "emergency_steps",
        "reasons_for_recovery",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.LIST_FIELDS:
            self.fields[name].widget = _area(3, placeholder="One a line")
        self.fields["internal_note"].widget = _area(2)

    @classmethod
    def initial_from(cls, content: dict, *, of_version: int, internal_note: str = "") -> dict:
        initial = {"of_version": of_version, "internal_note": internal_note}
        for kind in rules.TRIGGER_KINDS:
            initial[f"triggers_{kind}"] = "\n".join(content.get("triggers", {}).get(kind, []))
        for name in rules.RELAPSE_LISTS:
            initial[name] = "\n".join(content.get(name, []))
        return initial

    def to_raw(self, contacts: list[dict]) -> dict:
        data = self.cleaned_data
        return {
            "triggers": {kind: data[f"triggers_{kind}"] for kind in rules.TRIGGER_KINDS},
            **{name: data[name] for name in rules.RELAPSE_LISTS},
            "contacts": contacts,
        }


class ContactForm(forms.Form):
    name = TextField(max_length=rules.NAME_MAX, required=False)
    relationship = TextField(max_length=rules.RELATIONSHIP_MAX, required=False)
    phone = TextField(max_length=40, required=False)


ContactFormSet = forms.formset_factory(
    ContactForm,
    extra=2,
    max_num=rules.MAX_CONTACTS,
    validate_max=True,
    absolute_max=rules.MAX_CONTACTS,
)
