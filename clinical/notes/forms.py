"""Forms of the note pages. They parse and show messages; the rules live in
clinical/notes/services.py (a section for an absent client, time out before time
in, an edit of a signed note are refused there, on every path)."""

import re

from django import forms
from django_otp import devices_for_user

from clinical.notes.models import FORMAT_SECTIONS, CurriculumTopic, Intervention, Modality, Risk
from clinical.notes.services import (
    MAX_FIELD,
    MAX_NARRATIVE,
    OBJECTIVE,
    SECTION_CHOICES,
    SECTION_PARTS,
    NoteContent,
)
from iop.forms import TextField

SECTION_KEY = re.compile(r"^([0-9a-fA-F-]{36})-([a-z_]+)$")
RISK_CHOICES = [("", "— not screened yet —"), *Risk.choices]
# The parts of a group section the form asks for (issue 20), in the order a clinician
# answers them: the choices, the one individual line, the objective, plan and risk.
FORM_PARTS = (
    "participation_level",
    "affect",
    "intervention_response",
    "response",
    OBJECTIVE,
    "progress_rating",
    "plan_choice",
    "risk",
    "safety_plan_note",
)
CHOICE_LABELS = {
    "participation_level": "Participation",
    "affect": "Affect",
    "intervention_response": "Response to the session's intervention",
    "progress_rating": "Progress on that objective",
    "plan_choice": "Plan",
    "risk": "Risk screen",
}
INVALID_CHOICE = "That answer is not one of the choices: choose one from the list."


def _choice(label, choices):
    """A row of buttons (radios: Tab reaches the group, arrow keys move and select)."""
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"invalid_choice": INVALID_CHOICE},
    )


def _style(form) -> None:
    """Bootstrap classes on the widgets (the templates lay fields out by hand)."""
    for bound in form.fields.values():
        widget = bound.widget
        if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs["class"] = f"{css} form-control-sm" if css == "form-control" else css


def _text(label, *, limit=MAX_FIELD, rows=3, **attrs):
    return TextField(
        label=label,
        required=False,
        max_length=limit,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows, **attrs}),
    )


class NoteForm(forms.Form):
    """The common fields, the group narrative or the format's sections, and for a group
    note one section per attending client (field names ``<client public id>-<part>``)."""

    modality = forms.ModelChoiceField(queryset=Modality.objects.none(), required=False)
    interventions = forms.MultipleChoiceField(
        choices=Intervention.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    time_in = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    time_out = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, note_format, is_group, track=None, rows=(), absent=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.is_group = is_group
        self.note_format = note_format
        self.rows = list(rows)
        self.fields["modality"].queryset = Modality.objects.filter(active=True).select_related(
            "parent"
        )
        _style(self)
        self.by_public_id = {str(r.client.public_id): r.client for r in self.rows}
        self.absent_by_public_id = {str(a["client"].public_id): a["client"] for a in absent}
        if is_group:
            self.fields["topic"] = forms.ModelChoiceField(
                queryset=CurriculumTopic.objects.filter(track=track, active=True).select_related(
                    "track"
                ),
                required=False,
            )
            self.fields["narrative"] = _text(
                "Group narrative (topic, what the group did, interventions)",
                limit=MAX_NARRATIVE,
                rows=6,
            )
            for row in self.rows:
                prefix = str(row.client.public_id)
                for part in FORM_PARTS:
                    self.fields[f"{prefix}-{part}"] = self._section_field(part, row)
        else:
            for key, label in FORMAT_SECTIONS[note_format]:
                self.fields[f"body_{key}"] = _text(label, rows=4)
            self.fields["plan"] = _text("Plan", rows=2)
            self.fields["risk"] = forms.ChoiceField(
                label="Risk screen", choices=RISK_CHOICES, required=False
            )
            self.fields["safety_plan_note"] = _text(
                "Safety-plan note (required when SI or HI is present)", rows=2
            )
        _style(self)

    @staticmethod
    def _section_field(part, row):
        if part == "response":
            return _text(
                "In this client's words / what they said or did",
                rows=1,
                placeholder="One line of this client's own: a quote, an example, an action",
            )
        if part == "safety_plan_note":
            return _text("Safety-plan note (required when SI or HI is present)", rows=1)
        if part == OBJECTIVE:
            plan = getattr(row, "plan_objectives", None)
            return _choice("Progress toward objective", plan.choices() if plan else [])
        return _choice(CHOICE_LABELS[part], SECTION_CHOICES[part].choices)

    def clean(self):
        cleaned = super().clean()
        self.absent_sections = {}
        if not self.is_group:
            return cleaned
        for key in self.data:
            match = SECTION_KEY.match(key)
            if not match or key in self.fields:
                continue
            public_id, part = match.group(1).lower(), match.group(2)
            if public_id in self.by_public_id:
                raise forms.ValidationError(
                    "A section was sent with a part this form does not ask for: reload "
                    "the page and write the section again."
                )
            client = self.absent_by_public_id.get(public_id)
            if client is None or part not in SECTION_PARTS:
                raise forms.ValidationError(
                    "A section was sent for a client who is not on this session's list."
                )
            # Passed on so that the service refuses it with its message.
            self.absent_sections.setdefault(client, {})[part] = str(self.data[key])[:MAX_FIELD]
        return cleaned

    def content(self) -> NoteContent:
        data = self.cleaned_data
        return NoteContent(
            modality=data.get("modality"),
            topic=data.get("topic"),
            interventions=list(data.get("interventions") or []),
            time_in=data.get("time_in"),
            time_out=data.get("time_out"),
            risk=data.get("risk", ""),
            safety_plan_note=data.get("safety_plan_note", ""),
            narrative=data.get("narrative", ""),
            body={
                key: data.get(f"body_{key}", "")
                for key, _label in FORMAT_SECTIONS[self.note_format]
                if not self.is_group
            },
            plan=data.get("plan", ""),
        )

    def sections(self) -> dict:
        sections = {
            row.client: {
                part: self.cleaned_data.get(f"{row.client.public_id}-{part}", "")
                for part in FORM_PARTS
            }
            for row in self.rows
        }
        return sections | self.absent_sections

    def section_fields(self, row):
        """The section's bound fields in the form's order, the objective's only when the
        client has objectives to choose from."""
        prefix = str(row.client.public_id)
        return [
            self[f"{prefix}-{part}"]
            for part in FORM_PARTS
            if part not in (OBJECTIVE, "progress_rating")
            or self.fields[f"{prefix}-{OBJECTIVE}"].choices
        ]

    def body_fields(self):
        return [self[f"body_{key}"] for key, _label in FORMAT_SECTIONS[self.note_format]]


def note_initial(note, *, rows=(), plan=None) -> dict:
    """The form's initial values from a saved draft (or the session's plan)."""
    if note is None:
        return {
            "modality": plan.modality_id if plan else None,
            "topic": plan.topic_id if plan else None,
        }
    initial = {
        "modality": note.modality_id,
        "topic": note.topic_id,
        "interventions": note.interventions,
        "time_in": note.time_in,
        "time_out": note.time_out,
        "risk": note.risk,
        "safety_plan_note": note.safety_plan_note,
        "narrative": note.narrative,
        "plan": note.plan,
        **{f"body_{key}": text for key, text in note.body.items()},
    }
    for row in rows:
        section = row.section
        if section is not None:
            prefix = str(row.client.public_id)
            for part in FORM_PARTS:
                if part != OBJECTIVE:
                    initial[f"{prefix}-{part}"] = getattr(section, part)
            plan = getattr(row, "plan_objectives", None)
            if plan is not None and section.objective_plan_id == plan.version_id:
                initial[f"{prefix}-{OBJECTIVE}"] = plan.key(section.objective_index)
    return initial


class IdentityForm(forms.Form):
    """Re-confirms who signs: the authenticator code when the account has one."""

    password = forms.CharField(
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.uses_otp = any(True for _ in devices_for_user(user, confirmed=True))
        del self.fields["password" if self.uses_otp else "otp_token"]
        _style(self)


NARRATIVE = "narrative"


class AddendumForm(IdentityForm):
    """The addendum, its signature, and on a group note what it adds to: the narrative
    (every attending client's chart) or one client's section (that client's chart only).
    The choice is asked every time, never preselected: an addendum about one client
    that lands on the narrative is read on every other member's chart."""

    text = TextField(
        label="Addendum", max_length=MAX_FIELD, widget=forms.Textarea(attrs={"rows": 4})
    )
    field_order = ["target", "text", "password", "otp_token"]

    def __init__(self, *args, note=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_clients = {}
        if note is not None and note.is_group:
            # By client public id (opaque); labelled with the MRN, so two clients of
            # the same name are told apart.
            clients = sorted(
                (s.client for s in note.sections.all()),
                key=lambda c: (c.legal_last_name, c.legal_first_name, c.mrn),
            )
            self.section_clients = {str(c.public_id): c for c in clients}
            self.fields["target"] = forms.ChoiceField(
                label="This addendum adds to",
                choices=[
                    (NARRATIVE, "The group narrative (shown on every member's chart)"),
                    *(
                        (key, f"{c.display_name}'s section, MRN {c.mrn} (on their chart only)")
                        for key, c in self.section_clients.items()
                    ),
                ],
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": "Choose what the addendum adds to: the group narrative or "
                    "one client's section.",
                    "invalid_choice": "That client has no section in this group note: choose "
                    "the group narrative or the section of a client who attended.",
                },
            )
            self.order_fields(self.field_order)

    def section_client(self):
        """The client whose section the addendum adds to; None for the narrative (or an
        appointment's note)."""
        return self.section_clients.get(self.cleaned_data.get("target", NARRATIVE))


class ReturnForm(forms.Form):
    comment = TextField(
        label="What should the author add or correct?",
        max_length=MAX_FIELD,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class SessionPlanForm(forms.Form):
    topic = forms.ModelChoiceField(queryset=CurriculumTopic.objects.none(), required=False)
    modality = forms.ModelChoiceField(queryset=Modality.objects.none(), required=False)

    def __init__(self, *args, track, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = CurriculumTopic.objects.filter(
            track=track, active=True
        ).select_related("track")
        self.fields["modality"].queryset = Modality.objects.filter(active=True).select_related(
            "parent"
        )
        _style(self)
