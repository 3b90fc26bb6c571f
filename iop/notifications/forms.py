from django import forms

from iop.dates import DateKind, PlausibleDateField
from iop.notifications.models import Channel, OutboxStatus


class OutboxFilterForm(forms.Form):
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *OutboxStatus.choices])
    since = PlausibleDateField(kind=DateKind.VIEW, required=False, label="Scheduled from")
    until = PlausibleDateField(kind=DateKind.VIEW, required=False, label="Scheduled until")


class OutboxActionForm(forms.Form):
    message = forms.UUIDField()
    action = forms.ChoiceField(choices=[("retry", "Retry"), ("cancel", "Cancel")])


class TaskDoneForm(forms.Form):
    task = forms.UUIDField()
