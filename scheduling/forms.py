import json
from datetime import UTC, datetime, timedelta

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.html import format_html

from clients.access import Purpose, access_for, staff_for
from clients.models import Client
from iop import when
from iop.accounts.models import Role
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField
from scheduling.models import (
    APPOINTMENT_MAX_MINUTES,
    APPOINTMENT_MIN_MINUTES,
    AppointmentKind,
    AttendanceStatus,
    Group,
    Room,
    appointment_minutes,
    clinic_tz,
)
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
    kind = forms.ChoiceField(
        choices=AppointmentKind.choices,
        error_messages={"invalid_choice": "Choose the kind of appointment from the list."},
    )
    clinician = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        error_messages={"invalid_choice": "Choose a clinician from the list."},
    )
    day = PlausibleDateField(kind=DateKind.SCHEDULE, initial=timezone.localdate)
    start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    minutes = forms.IntegerField(
        label="Length",
        required=False,
        min_value=APPOINTMENT_MIN_MINUTES,
        max_value=APPOINTMENT_MAX_MINUTES,
        help_text="Set to the kind's usual length; left blank, that length is booked.",
        error_messages={"invalid": "The length is a whole number of minutes."},
    )
    room = forms.ModelChoiceField(queryset=Room.objects.all(), required=False)
    telehealth_url = forms.URLField(
        label="Telehealth link",
        required=False,
        assume_scheme="https",
        help_text="For a video visit: the client sees it in the portal, never in a reminder.",
        error_messages={"invalid": "Enter the full video link, starting with https://."},
    )

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
            booker = self.initial.get("clinician")
            # The person booking is the clinician when they may be (the usual case: a
            # clinician books their own client); otherwise the choice is left to make.
            if (
                booker is not None
                and not self.fields["clinician"].queryset.filter(pk=booker.pk).exists()
            ):
                self.initial.pop("clinician")
        # The usual length of each kind, for static/js/appointment.js to follow the kind
        # with (a blank length takes it on the server too).
        lengths = {kind: appointment_minutes(kind) for kind in AppointmentKind.values}
        self.fields["kind"].widget.attrs["data-lengths"] = json.dumps(lengths)
        self.fields["minutes"].widget.attrs["aria-describedby"] = (
            "id_minutes_unit id_minutes_helptext"
        )
        kind = self.initial.get("kind") or AppointmentKind.INDIVIDUAL
        self.fields["minutes"].initial = lengths.get(kind)
        self.helper = _helper("Book appointment")
        self.helper.layout = Layout(
            "client",
            "kind",
            "clinician",
            "day",
            "start",
            AppendedText("minutes", format_html('<span id="{}">min</span>', "id_minutes_unit")),
            "room",
            "telehealth_url",
        )

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
        kind, day, start = cleaned.get("kind"), cleaned.get("day"), cleaned.get("start")
        minutes = cleaned.get("minutes")
        if minutes is None and kind and "minutes" not in self.errors:
            minutes = cleaned["minutes"] = appointment_minutes(kind)
        if day and start and minutes:
            cleaned["starts_at"] = datetime.combine(day, start, tzinfo=clinic_tz())
            # Elapsed minutes, counted in UTC: a length is the same length on the night
            # the clocks change.
            cleaned["ends_at"] = (
                cleaned["starts_at"].astimezone(UTC) + timedelta(minutes=minutes)
            ).astimezone(clinic_tz())
            if cleaned["starts_at"] < timezone.now() - timedelta(days=1):
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
