"""The filter form every report starts from: a date range, checked once here."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from iop.dates import DateKind, PlausibleDateField

# A range over two years is a typing slip or a probe, and a run nobody can read.
MAX_RANGE_DAYS = 2 * 366


class ReportForm(forms.Form):
    start = PlausibleDateField(kind=DateKind.VIEW, label="From")
    end = PlausibleDateField(kind=DateKind.VIEW, label="To (inclusive)")

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_range(cls):
        today = timezone.localdate()
        last_month_end = today.replace(day=1) - timedelta(days=1)
        return {"start": last_month_end.replace(day=1), "end": last_month_end}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The range ends before it starts.")
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError("A report covers at most 2 years: shorten the range.")
        return data

    def filter_codes(self) -> dict:
        """The filters as the query string carries them (codes, ids, ISO dates), for
        the run row, the audit row and a re-run in the worker. Never names."""
        codes = {}
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if value in (None, "", [], ()):
                continue
            if hasattr(value, "isoformat"):
                codes[name] = value.isoformat()
            else:
                raw = self.data.get(name, "")
                codes[name] = str(raw)[:40]
        return codes

    def summary(self) -> dict:
        """The filters in words, for a page that shows a run without its form (print, a
        background run): the range's days (shown with the ``day`` filter) and each other
        filter set as (label, words), or (label, a day) for a date: "From 1 Dec 2026 to
        31 Dec 2026 · Track: IOP 3". Needs a valid form."""
        others = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if name in ("start", "end") or value in (None, "", [], ()):
                continue
            item = {"label": self[name].label}
            if isinstance(value, date):
                item["day"] = value
            elif isinstance(field, forms.ModelChoiceField):
                item["text"] = str(value)  # a track's, a group's, a person's name
            elif isinstance(field, forms.ChoiceField):
                item["text"] = str(dict(field.choices).get(value, value))
            else:
                item["text"] = str(value)
            others.append(item)
        return {
            "start": self.cleaned_data["start"],
            "end": self.cleaned_data["end"],
            "others": others,
        }

    def range_days(self) -> int:
        return (self.cleaned_data["end"] - self.cleaned_data["start"]).days + 1
