from django import forms

from clients.forms import reminder_errors
from clients.models import Client
from iop.accounts.forms import TokenForm


class LinkRequestForm(forms.Form):
    address = forms.CharField(
        label="Your email address or mobile number",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
        help_text="The one the clinic has for you.",
    )


class CodeForm(TokenForm):
    """The authenticator's code: the staff form's field and check."""


class RemindersForm(forms.ModelForm):
    """The client's own reminder choices: the fields and the rules of staff's form
    (``clients.forms.reminder_errors``; ``clients.services.client_update`` on save)."""

    class Meta:
        model = Client
        fields = [
            "reminder_channel",
            "reminder_consent",
            "reminder_may_name_program",
            "quiet_hours_start",
            "quiet_hours_end",
        ]
        labels = {
            "reminder_channel": "Send my reminders by",
            "reminder_consent": "I agree to get reminders",
            "reminder_may_name_program": "Reminders may name the program",
            "quiet_hours_start": "Quiet from",
            "quiet_hours_end": "Quiet until",
        }
        help_texts = {
            "reminder_may_name_program": (
                "Off: a reminder says only the time and the place, nothing else. "
                "On: it may say which program it is from; this page's title does too."
            ),
            "quiet_hours_start": "No reminder arrives between these times.",
        }
        widgets = {
            "reminder_channel": forms.RadioSelect,
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean(self):
        cleaned = super().clean()
        reminder_errors(
            self,
            phone=self.instance.phone,
            email=self.instance.email,
            consent_words="Tick the box to agree to reminders, or choose no reminders.",
        )
        return cleaned
