"""One date policy: which dates are plausible for each kind of date.

A date of birth in year 1, an admission in 9999 or a calendar asked for
``?start=0001-01-01`` are typing slips or probes, never clinic facts; they must be
refused with a message (forms) or a 4xx (query parameters), never stored and never
allowed to overflow date arithmetic into a 500. Forms use ``PlausibleDateField``
for the message; the services that own the writes call ``check_date`` so that
every path (admin, tasks, shell) shares the rule.
"""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from iop import when


class DateKind:
    # A date of birth: a living client, at most 120 years old.
    BIRTH = "birth"
    # Something that happened (a signature, an admission, a disclosure, a discharge).
    RECORD = "record"
    # Something planned or in the program's calendar (enrolment, step-down, appointment,
    # care-team start, a closure).
    SCHEDULE = "schedule"
    # When a consent or an authorisation runs out: years ahead are normal.
    EXPIRY = "expiry"
    # Calendar navigation (?start= on the week and day views).
    VIEW = "view"


# (days back, days ahead) from today.
_BOUNDS = {
    DateKind.BIRTH: (120 * 366, 0),
    DateKind.RECORD: (30 * 366, 366),
    DateKind.SCHEDULE: (3 * 366, 2 * 366),
    DateKind.EXPIRY: (30 * 366, 10 * 366),
    DateKind.VIEW: (10 * 366, 5 * 366),
}


def date_bounds(kind: str, *, today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    back, ahead = _BOUNDS[kind]
    return today - timedelta(days=back), today + timedelta(days=ahead)


def date_problem(value: date, kind: str, *, today: date | None = None) -> str | None:
    """The message for an implausible date of this kind, or None."""
    today = today or timezone.localdate()
    earliest, latest = date_bounds(kind, today=today)
    if latest == today and value > today:
        return "That date is in the future."
    if value < earliest:
        return f"That date is too far in the past (the earliest accepted is {when.day(earliest)})."
    if value > latest:
        return f"That date is too far ahead (the latest accepted is {when.day(latest)})."
    return None


def check_date(value: date | None, kind: str, *, field: str, today: date | None = None) -> None:
    """Raise a field-keyed ValidationError when ``value`` is outside the policy."""
    if value is None:
        return
    if hasattr(value, "date") and callable(value.date):  # a datetime
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    problem = date_problem(value, kind, today=today)
    if problem:
        raise ValidationError({field: problem})


def date_input() -> forms.DateInput:
    """An ``<input type="date">``: its value is ISO 8601 whatever the clinic's locale (a
    browser reads nothing else; the locale's own first input format may be 04/12/2026)."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlausibleDateField(forms.DateField):
    """A date input that refuses dates outside the policy for its kind."""

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("widget", date_input())
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None:
            problem = date_problem(value, self.kind)
            if problem:
                raise ValidationError(problem, code="implausible_date")
