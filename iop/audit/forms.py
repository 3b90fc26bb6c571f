from django import forms

from iop.audit import subjects
from iop.audit.models import Outcome
from iop.dates import date_input
from iop.forms import TextField


class AuditFilterForm(forms.Form):
    person = TextField(required=False, label="Person (username)")
    mrn = TextField(required=False, label="Client MRN", max_length=32)
    client = forms.UUIDField(required=False, label="Client id", widget=forms.HiddenInput)
    action = TextField(required=False, help_text="e.g. auth.login, client.view")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *Outcome.choices])
    date_from = forms.DateField(required=False, widget=date_input())
    date_to = forms.DateField(required=False, widget=date_input())

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("mrn"):
            public_id = subjects.resolve_mrn(data["mrn"])
            queryset = queryset.filter(client_id=public_id) if public_id else queryset.none()
        if data.get("person"):
            queryset = queryset.filter(actor_username=data["person"].strip())
        if data.get("client"):
            queryset = queryset.filter(client_id=data["client"])
        if data.get("action"):
            queryset = queryset.filter(action__startswith=data["action"].strip())
        if data.get("outcome"):
            queryset = queryset.filter(outcome=data["outcome"])
        if data.get("date_from"):
            queryset = queryset.filter(at__date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(at__date__lte=data["date_to"])
        return queryset

    def used_filters(self) -> str:
        """The names (never the values) of the filters in use, for the export's audit row."""
        return ",".join(name for name, value in self.cleaned_data.items() if value) or "none"
