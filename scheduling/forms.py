from datetime import datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.template.defaultfilters import pluralize
from django.utils import timezone

from clients.access import Purpose, access_for, staff_for
from clients.models import Client
from iop import when
from iop.accounts.models import Role
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField
from scheduling.models import AppointmentKind, AttendanceStatus, Group, Room, clinic_tz
from scheduling.services import clinician_refused


def _clinical_staff():
    return (
        get_user_model()
        .objects.filter(
            is_active=True, groups__name__in=[Role.CLINICIAN, Role.MEDICAL, Role.SUPERVISOR]
        )
        .distinct()
    )


def _helper(label):
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, group):
        seats = group.capacity - getattr(group, "taken", 0)
        return (
            f"{group.name} · {group.slot} · {group.weekday_labels()} · "
            f"{seats} seat{pluralize(seats)} left"
        )


class EnrollForm(forms.Form):
    group = GroupChoiceField(queryset=Group.objects.none(), to_field_name="public_id")
    start_on = PlausibleDateField(kind=DateKind.SCHEDULE, initial=timezone.localdate)

    def __init__(self, *args, groups, submit="Place on track", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.helper = _helper(submit)


class StepDownForm(EnrollForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit="Step down", **kwargs)
        self.fields["start_on"].label = "First day on the new track"
        self.fields[
            "start_on"
        ].help_text = "A later day plans the step-down: the current track stays until then."


class CancelSessionForm(forms.Form):
    reason = TextField(max_length=200, help_text="Holiday, weather, facilitator ill…")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Cancel session")


class AttendanceForm(forms.Form):
    status = forms.ChoiceField(choices=AttendanceStatus.choices)
    minutes = forms.IntegerField(required=False, help_text="Defaults to the whole session.")


class AppointmentForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    kind = forms.ChoiceField(choices=AppointmentKind.choices)
    clinician = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    day = PlausibleDateField(kind=DateKind.SCHEDULE, initial=timezone.localdate)
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    room = forms.ModelChoiceField(queryset=Room.objects.all(), required=False)

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        # The choices list only the clinicians who may write the client's notes
        # (clients.access): for the client asked for, or else for any client offered.
        # A submitted choice is checked against its client in clean(), which says why.
        self.fields["clinician"].queryset = _clinical_staff()
        if not self.is_bound:
            chosen = None
            if self.initial.get("client"):
                try:
                    chosen = clients.filter(public_id=self.initial["client"]).first()
                except (ValueError, TypeError, DjangoValidationError):  # not a UUID
                    chosen = None
            self._offer_clinicians(chosen or clients)
        self.helper = _helper("Book appointment")

    def _offer_clinicians(self, clients):
        self.fields["clinician"].queryset = _clinical_staff().filter(
            pk__in=staff_for(clients, Purpose.CLINICAL_WRITE).values("pk")
        )

    def clean(self):
        cleaned = super().clean()
        client, clinician = cleaned.get("client"), cleaned.get("clinician")
        if (
            client
            and clinician
            and not access_for(clinician, client).allows(Purpose.CLINICAL_WRITE)
        ):
            self.add_error("clinician", clinician_refused(clinician))
        if client:
            self._offer_clinicians(client)  # the choices shown again, for this client
        day, start, end = cleaned.get("day"), cleaned.get("start"), cleaned.get("end")
        if day and start and end:
            tz = clinic_tz()
            cleaned["starts_at"] = datetime.combine(day, start, tzinfo=tz)
            cleaned["ends_at"] = datetime.combine(day, end, tzinfo=tz)
            if end <= start:
                self.add_error("end", "The end is before the start.")
            elif cleaned["starts_at"] < timezone.now() - timedelta(days=1):
                self.add_error("day", "Appointments are booked ahead, not in the past.")
        return cleaned


class WeekForm(forms.Form):
    start = PlausibleDateField(kind=DateKind.VIEW, required=False)
    staff = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, to_field_name="username"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _clinical_staff()


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, session):
        return f"{when.day(session.date)} · {session.group.name} · {session.group.slot}"


class MakeupForm(forms.Form):
    session = SessionChoiceField(queryset=None, to_field_name="public_id")
    status = forms.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in AttendanceStatus
            if s not in (AttendanceStatus.EXCUSED, AttendanceStatus.UNEXCUSED)
        ]
    )
    minutes = forms.IntegerField(required=False, help_text="Defaults to the whole session.")

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        self.helper = _helper("Record make-up")
